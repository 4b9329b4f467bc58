"""Schedules' expressions: EventBridge Scheduler's rate(), cron() (AWS's six fields, evaluated by
cronsim) and at(), read once and asked for their next fire times."""

from .cron import AwsCron, CronError
from .expressions import At, Cron, ExpressionError, Rate, next_fire, parse_expression, upcoming, zone

__all__ = ["AwsCron", "CronError", "At", "Cron", "ExpressionError", "Rate", "next_fire", "parse_expression",
           "upcoming", "zone"]
