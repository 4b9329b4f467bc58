"""Schedule expressions as EventBridge Scheduler reads them, and the times they fire:

    parse_expression("rate(5 minutes)")              -> Rate(5, "minutes")
    parse_expression("cron(0 9 ? * MON-FRI *)")      -> Cron(AwsCron...)
    parse_expression("at(2027-01-31T09:30:00)")      -> At(datetime(2027, 1, 31, 9, 30))
    next_fire(expression, after=now, zone="Europe/Paris", anchor=created, start=None, end=None)
        -> the first fire time strictly after `after` (aware, UTC), or None when none is left

A rate fires every period from its anchor (the start date, or when the schedule was made: its
first fire is then at once); a cron and an at() are read in the schedule's time zone (IANA names,
through zoneinfo); a recurring schedule never fires before its start date or after its end date,
which a one-time at() ignores, as Scheduler does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .cron import AwsCron, CronError

__all__ = ["Rate", "Cron", "At", "ExpressionError", "parse_expression", "zone", "next_fire", "upcoming"]

UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"rate\((?P<value>\S+) (?P<unit>\S+)\)")
_AT = re.compile(r"at\((?P<when>[^)]*)\)")
_CRON = re.compile(r"cron\((?P<body>.*)\)", re.DOTALL)


class ExpressionError(ValueError):
    """A schedule expression or time zone that does not read; `column` is the 1-based character
    of the expression the problem starts at, when there is one."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Rate:
    value: int
    unit: str

    @property
    def period(self) -> timedelta:
        return timedelta(seconds=self.value * UNITS[self.unit.rstrip("s")])


@dataclass(frozen=True)
class Cron:
    cron: AwsCron


@dataclass(frozen=True)
class At:
    when: datetime   # naive: read in the schedule's time zone


def parse_expression(text: str) -> Rate | Cron | At:
    """Returns the expression `text` reads as; raises ExpressionError saying what is wrong."""
    if not isinstance(text, str) or not text:
        raise ExpressionError("A schedule expression is rate(...), cron(...) or at(...).")
    if text.startswith("rate("):
        return _rate(text)
    if text.startswith("cron("):
        found = _CRON.fullmatch(text)
        if found is None:
            raise ExpressionError("A cron expression ends with ')'.", len(text))
        try:
            return Cron(AwsCron.parse(found["body"]))
        except CronError as error:
            column = error.column + len("cron(") if error.column else None
            raise ExpressionError(f"Invalid cron expression: {error}.", column) from None
    if text.startswith("at("):
        found = _AT.fullmatch(text)
        try:
            when = datetime.strptime(found["when"], "%Y-%m-%dT%H:%M:%S") if found else None
        except ValueError:
            when = None
        if when is None:
            raise ExpressionError("An at() expression is at(yyyy-mm-ddThh:mm:ss).", 4)
        return At(when)
    raise ExpressionError("A schedule expression is rate(...), cron(...) or at(...).", 1)


def _rate(text: str) -> Rate:
    found = _RATE.fullmatch(text)
    if found is None:
        raise ExpressionError("A rate expression is rate(value unit), e.g. rate(5 minutes).", 6)
    value, unit = found["value"], found["unit"]
    if not value.isdigit() or int(value) < 1:
        raise ExpressionError(f"The rate's value {value!r} is not a positive whole number.", 6)
    if unit not in {*UNITS, *(f"{name}s" for name in UNITS)}:
        raise ExpressionError(f"The rate's unit {unit!r} is not minute(s), hour(s) or day(s).", 7 + len(value))
    plural = unit.endswith("s")
    if plural != (int(value) != 1):
        wanted = unit.rstrip("s") + ("" if int(value) == 1 else "s")
        raise ExpressionError(f"For a value of {value} the unit is {wanted!r}, not {unit!r}.", 7 + len(value))
    return Rate(int(value), unit)


def zone(name: str | None) -> ZoneInfo:
    """Returns the IANA time zone `name` (UTC for None or ""); raises ExpressionError."""
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ExpressionError(f"{name!r} is not an IANA time zone name (such as Europe/Paris).") from None


def next_fire(expression: Rate | Cron | At, *, after: datetime, zone_name: str | None, anchor: datetime,
              start: datetime | None = None, end: datetime | None = None) -> datetime | None:
    """Returns the first time the expression fires strictly after `after` and not before `start`
    nor after `end` (aware datetimes; the answer is in UTC), or None when it never fires again."""
    tz = zone(zone_name)
    if isinstance(expression, At):
        start = end = None
    floor = after if start is None else max(after, start - timedelta(microseconds=1))
    if isinstance(expression, Rate):
        origin = start or anchor
        period = expression.period
        steps = max(0, (floor - origin) // period + 1) if floor >= origin else 0
        found = origin + steps * period
    elif isinstance(expression, At):
        found = expression.when.replace(tzinfo=tz)
        if found <= floor:
            return None
    else:
        found = next(iter(expression.cron.ticks(floor.astimezone(tz))), None)
        if found is None:
            return None
    if end is not None and found > end:
        return None
    return found.astimezone(timezone.utc)


def upcoming(expression: Rate | Cron | At, count: int, *, after: datetime, zone_name: str | None,
             anchor: datetime, start: datetime | None = None, end: datetime | None = None) -> list[datetime]:
    """Returns the next `count` fire times after `after` (fewer when the schedule ends)."""
    found: list[datetime] = []
    while len(found) < count:
        tick = next_fire(expression, after=after, zone_name=zone_name, anchor=anchor, start=start, end=end)
        if tick is None:
            break
        found.append(tick)
        after = tick
    return found
