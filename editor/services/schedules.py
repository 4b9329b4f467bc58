"""Schedules and schedule groups (EventBridge Scheduler's): the only code that writes them. The
Scheduler API (editor.aws.providers.scheduler) and the studio's Schedules page both call these.

A schedule is given as EventBridge Scheduler's members (`ScheduleExpression`, `Target`:
{`Arn`, `RoleArn`, `Input`, `RetryPolicy`}, ...); every refusal is an ApiError whose `field`
names the member (`Target.Arn`), and a cron expression that does not read says its field and
character. The target is a function (invoked asynchronously) or a state machine (an execution
started with the input) of the same person, and the role must be theirs and allow that call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from editor.errors import ApiError
from editor.models import Function, Role, Schedule, ScheduleGroup, StateMachine
from editor.services.accounts import account_id, region
from editor.services.policy import evaluate
from editor.services.validation import parse_json
from runtime.arn import parse_function
from runtime.schedules import At, ExpressionError, next_fire, parse_expression, upcoming, zone

NAME = re.compile(r"^[0-9a-zA-Z._-]{1,64}$")
DEFAULT_GROUP = "default"
INPUT_LIMIT = 8192
_MACHINE_ARN = re.compile(r"arn:aws:states:(?P<region>[^:]*):(?P<account>\d{12}):stateMachine:(?P<name>[^:]+)")
_ROLE_ARN = re.compile(r"arn:aws:iam::(?P<account>\d{12}):role/(?:[^/]+/)*(?P<name>[^/]+)")
# RetryPolicy's members and their ranges; the upper bounds are also Scheduler's defaults.
RETRY_LIMITS = {"MaximumRetryAttempts": (0, 185), "MaximumEventAgeInSeconds": (60, 86400)}
MEMBERS = {"Name", "GroupName", "ScheduleExpression", "ScheduleExpressionTimezone", "StartDate", "EndDate",
           "Description", "State", "Target", "FlexibleTimeWindow", "ActionAfterCompletion", "ClientToken",
           "KmsKeyArn"}


@dataclass(frozen=True)
class Target:
    """What a schedule's target ARN names in its owner's account: a function (and the qualifier
    the ARN gave) or a state machine."""

    kind: str                 # "function" or "machine"
    function: Function | None = None
    qualifier: str | None = None
    machine: StateMachine | None = None

    @property
    def action(self) -> str:
        return "lambda:InvokeFunction" if self.kind == "function" else "states:StartExecution"


def schedule_arn(user, group: str, name: str) -> str:
    return f"arn:aws:scheduler:{region()}:{account_id(user)}:schedule/{group}/{name}"


def group_arn(user, name: str) -> str:
    return f"arn:aws:scheduler:{region()}:{account_id(user)}:schedule-group/{name}"


def schedule_name(value, field: str = "Name") -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise ApiError("InvalidName", f"{field} has 1 to 64 letters, digits or . _ -.", field=field)
    return value


# -- groups ------------------------------------------------------------------------------------

def get_group(user, name, *, create_default: bool = True) -> ScheduleGroup:
    """Returns the user's group `name` (None/"" is `default`, made on first use); 404 otherwise."""
    name = name or DEFAULT_GROUP
    found = ScheduleGroup.objects.filter(owner=user, name=name).first()
    if found is None and name == DEFAULT_GROUP and create_default:
        try:
            with transaction.atomic():
                return ScheduleGroup.objects.create(owner=user, name=DEFAULT_GROUP)
        except IntegrityError:
            return ScheduleGroup.objects.get(owner=user, name=DEFAULT_GROUP)
    if found is None:
        raise ApiError("ResourceNotFound", f"Schedule group {name} does not exist.", status=404, field="GroupName")
    return found


def create_group(user, name, tags=None) -> ScheduleGroup:
    schedule_name(name)
    try:
        with transaction.atomic():
            return ScheduleGroup.objects.create(owner=user, name=name, tags=tags or [])
    except IntegrityError:
        raise ApiError("Conflict", f"Schedule group {name} already exists.", status=409, field="Name") from None


def delete_group(user, name) -> None:
    """Deletes a group and every schedule in it (as Scheduler does); `default` stays."""
    if name == DEFAULT_GROUP:
        raise ApiError("InvalidName", "The default schedule group cannot be deleted.", field="Name")
    get_group(user, name).delete()


# -- targets -----------------------------------------------------------------------------------

def resolve_target(user, arn) -> Target | None:
    """Returns the target `arn` names among `user`'s functions and state machines, or None."""
    if not isinstance(arn, str):
        return None
    mine = account_id(user)
    if arn.startswith("arn:aws:lambda:"):
        ref = parse_function(arn)
        if ref is None or ref.account != mine:
            return None
        function = Function.objects.filter(owner=user, name=ref.name).first()
        return Target("function", function=function, qualifier=ref.qualifier) if function else None
    found = _MACHINE_ARN.fullmatch(arn)
    if found and found["account"] == mine:
        machine = StateMachine.objects.filter(owner=user, name=found["name"]).first()
        return Target("machine", machine=machine) if machine else None
    return None


def resolve_role(user, arn) -> Role | None:
    found = _ROLE_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if found is None or found["account"] != account_id(user):
        return None
    return Role.objects.filter(owner=user, name=found["name"]).first()


def check_target(user, arn: str, role_arn: str) -> Target:
    """Returns the target; refuses one the user does not have, a role not theirs, and a role
    whose policy does not allow starting the target."""
    target = resolve_target(user, arn)
    if target is None:
        raise ApiError("InvalidTarget", f"The target {arn} is not a function or a state machine of this account.",
                       field="Target.Arn")
    role = resolve_role(user, role_arn)
    if role is None:
        raise ApiError("InvalidRole", f"The role {role_arn} is not a role of this account.", field="Target.RoleArn")
    if "scheduler" not in role.trusted:
        raise ApiError("InvalidRole", f"The role {role.name} does not trust scheduler.amazonaws.com (its trust "
                                      "policy), so schedules cannot assume it.", field="Target.RoleArn")
    if evaluate(role.policy, target.action, arn) != "allow":
        raise ApiError("InvalidRole", f"The role {role.name} is not allowed to perform {target.action} on {arn}.",
                       field="Target.RoleArn")
    return target


# -- schedules ---------------------------------------------------------------------------------

def get_schedule(user, name, group=None) -> Schedule:
    found = (Schedule.objects.select_related("group")
             .filter(owner=user, name=name, group__name=group or DEFAULT_GROUP).first())
    if found is None:
        raise ApiError("ResourceNotFound", f"Schedule {name} does not exist.", status=404)
    return found


def _date(value, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ApiError("InvalidDate", f"{field} is a date and time such as 2027-01-31T09:30:00Z.", field=field)
        value = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.get_current_timezone())
    if not isinstance(value, datetime):
        raise ApiError("InvalidDate", f"{field} is a date and time.", field=field)
    return value


def _fields(user, data: dict, now: datetime) -> dict:
    """Returns the model fields of schedule members `data`, each checked (at `now`)."""
    if not isinstance(data, dict):
        raise ApiError("InvalidType", "A schedule is an object.")
    unknown = sorted(set(data) - MEMBERS)
    if unknown:
        raise ApiError("UnknownField", f"Unknown member {unknown[0]}.", field=unknown[0])
    if data.get("KmsKeyArn"):
        raise ApiError("Unsupported", "Flowbench does not encrypt schedules with KMS keys.", field="KmsKeyArn")
    expression_text = data.get("ScheduleExpression")
    for member, value, limit in (("ScheduleExpression", expression_text, 256),
                                 ("ScheduleExpressionTimezone", data.get("ScheduleExpressionTimezone"), 50)):
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise ApiError("TooLong", f"{member} is text of at most {limit} characters.", field=member)
    try:
        expression = parse_expression(expression_text)
    except ExpressionError as error:
        where = f" (character {error.column})" if error.column else ""
        raise ApiError("InvalidExpression", f"{error}{where}", field="ScheduleExpression") from None
    tz = data.get("ScheduleExpressionTimezone") or "UTC"
    try:
        zone(tz)
    except ExpressionError as error:
        raise ApiError("InvalidTimezone", str(error), field="ScheduleExpressionTimezone") from None
    start, end = _date(data.get("StartDate"), "StartDate"), _date(data.get("EndDate"), "EndDate")
    if start and end and end <= start:
        raise ApiError("InvalidDate", "EndDate is after StartDate.", field="EndDate")
    if start and not isinstance(expression, At) and start < now - timedelta(minutes=5):
        raise ApiError("InvalidDate", "The StartDate you specify cannot be earlier than 5 minutes ago.",
                       field="StartDate")
    state = data.get("State") or Schedule.State.ENABLED
    if state not in Schedule.State.values:
        raise ApiError("InvalidState", "State is ENABLED or DISABLED.", field="State")
    window = data.get("FlexibleTimeWindow")
    if not isinstance(window, dict) or window.get("Mode") not in ("OFF", "FLEXIBLE"):
        raise ApiError("InvalidWindow", "FlexibleTimeWindow.Mode is OFF or FLEXIBLE.", field="FlexibleTimeWindow.Mode")
    minutes = window.get("MaximumWindowInMinutes")
    if window["Mode"] == "FLEXIBLE" and not (isinstance(minutes, int) and 1 <= minutes <= 1440):
        raise ApiError("InvalidWindow", "A FLEXIBLE window has MaximumWindowInMinutes 1-1440.",
                       field="FlexibleTimeWindow.MaximumWindowInMinutes")
    after = data.get("ActionAfterCompletion") or "NONE"
    if after not in ("NONE", "DELETE"):
        raise ApiError("InvalidAction", "ActionAfterCompletion is NONE or DELETE.", field="ActionAfterCompletion")
    target = data.get("Target")
    if not isinstance(target, dict) or not target.get("Arn") or not target.get("RoleArn"):
        raise ApiError("InvalidTarget", "Target has an Arn and a RoleArn.", field="Target")
    for member in ("Arn", "RoleArn"):
        if not isinstance(target[member], str) or len(target[member]) > 1600:
            raise ApiError("InvalidTarget", f"Target.{member} is an ARN of at most 1600 characters.",
                           field=f"Target.{member}")
    text = target.get("Input")
    if text is not None:
        if not isinstance(text, str) or len(text) > INPUT_LIMIT:
            raise ApiError("InvalidInput", f"Target.Input is text of at most {INPUT_LIMIT} characters.",
                           field="Target.Input")
        parse_json(text, "Target.Input", "Target.Input is not JSON")
    retry = retry_policy(target.get("RetryPolicy"))
    check_target(user, target["Arn"], target["RoleArn"])
    description = data.get("Description") or ""
    if not isinstance(description, str) or len(description) > 512:
        raise ApiError("InvalidDescription", "Description is at most 512 characters.", field="Description")
    return {"expression": expression_text, "timezone": tz, "start_date": start, "end_date": end, "state": state,
            "flexible_mode": window["Mode"], "flexible_minutes": minutes if window["Mode"] == "FLEXIBLE" else None,
            "target_arn": target["Arn"], "target_role_arn": target["RoleArn"], "target_input": text,
            "retry_policy": retry, "action_after_completion": after,
            "description": description}


def retry_policy(value) -> dict:
    """Returns Target.RetryPolicy checked as Scheduler checks it: MaximumRetryAttempts 0-185,
    MaximumEventAgeInSeconds 60-86400 (whole numbers), nothing else."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError("InvalidRetryPolicy", "Target.RetryPolicy is an object.", field="Target.RetryPolicy")
    for member in value:
        if member not in RETRY_LIMITS:
            raise ApiError("InvalidRetryPolicy", f"{member} is not a member of RetryPolicy (MaximumRetryAttempts, "
                           "MaximumEventAgeInSeconds).", field=f"Target.RetryPolicy.{member}")
    for member, (low, high) in RETRY_LIMITS.items():
        number = value.get(member)
        if number is not None and (not isinstance(number, int) or isinstance(number, bool) or not low <= number <= high):
            raise ApiError("InvalidRetryPolicy", f"{member} is a whole number from {low} to {high}.",
                           field=f"Target.RetryPolicy.{member}")
    return dict(value)


def retry_limits(schedule: Schedule) -> tuple[int, int]:
    """Returns the schedule's (MaximumRetryAttempts, MaximumEventAgeInSeconds), Scheduler's
    defaults (185, 86400) for what its RetryPolicy leaves out."""
    policy = schedule.retry_policy or {}
    return (policy.get("MaximumRetryAttempts", RETRY_LIMITS["MaximumRetryAttempts"][1]),
            policy.get("MaximumEventAgeInSeconds", RETRY_LIMITS["MaximumEventAgeInSeconds"][1]))


def next_tick(schedule: Schedule, after: datetime) -> datetime | None:
    """Returns the schedule's first tick strictly after `after`, or None (none left)."""
    return next_fire(parse_expression(schedule.expression), after=after, zone_name=schedule.timezone,
                     anchor=schedule.created_at, start=schedule.start_date, end=schedule.end_date)


def upcoming_ticks(schedule: Schedule, count: int = 3, now: datetime | None = None) -> list[datetime]:
    """Returns the schedule's next `count` fire times (none while it is disabled)."""
    if schedule.state != Schedule.State.ENABLED or schedule.next_fire_at is None:
        return []
    first = schedule.next_fire_at
    return [first, *upcoming(parse_expression(schedule.expression), count - 1, after=first,
                             zone_name=schedule.timezone, anchor=schedule.created_at,
                             start=schedule.start_date, end=schedule.end_date)]


def _arm(schedule: Schedule, now: datetime) -> None:
    """Sets next_fire_at from `now` on (a tick at `now` itself included, so a rate without a start
    date fires at once; never one before: nothing is replayed)."""
    enabled = schedule.state == Schedule.State.ENABLED
    schedule.next_fire_at = next_tick(schedule, now - timedelta(microseconds=1)) if enabled else None


def create_schedule(user, name, data: dict, now: datetime | None = None) -> Schedule:
    schedule_name(name)
    now = now or timezone.now()
    fields = _fields(user, data, now)
    group = get_group(user, data.get("GroupName"))
    try:
        with transaction.atomic():
            schedule = Schedule(owner=user, group=group, name=name, created_at=now, **fields)
            _arm(schedule, now)
            schedule.save()
            Schedule.objects.filter(pk=schedule.pk).update(created_at=now)
    except IntegrityError:
        raise ApiError("Conflict", f"Schedule {name} already exists.", status=409, field="Name") from None
    return schedule


def update_schedule(user, name, data: dict, now: datetime | None = None) -> Schedule:
    """Replaces every member of the schedule (as UpdateSchedule does: what is left out is reset)."""
    now = now or timezone.now()
    fields = _fields(user, data, now)
    with transaction.atomic():
        schedule = get_schedule(user, name, data.get("GroupName"))
        for key, value in fields.items():
            setattr(schedule, key, value)
        schedule.disabled_reason = ""
        _arm(schedule, now)
        schedule.save()
    return schedule


def set_state(user, name, group, state: str, now: datetime | None = None) -> Schedule:
    """Enables or disables a schedule (the studio's switch); enabling fires from the next tick on."""
    if state not in Schedule.State.values:
        raise ApiError("InvalidState", "State is ENABLED or DISABLED.", field="State")
    now = now or timezone.now()
    with transaction.atomic():
        schedule = get_schedule(user, name, group)
        if state == Schedule.State.ENABLED:
            check_target(user, schedule.target_arn, schedule.target_role_arn)
            schedule.disabled_reason = ""
        schedule.state = state
        _arm(schedule, now)
        schedule.save()
    return schedule


def delete_schedule(user, name, group=None) -> None:
    get_schedule(user, name, group).delete()


def disable(schedule: Schedule, reason: str) -> None:
    """Disables a schedule Flowbench cannot fire any more, recording why."""
    Schedule.objects.filter(pk=schedule.pk).update(state=Schedule.State.DISABLED, next_fire_at=None,
                                                   disabled_reason=reason, updated_at=timezone.now())


def target_deleted(user, arn: str, what: str) -> int:
    """Disables the user's enabled schedules whose target is `arn` (or one of its versions or
    aliases), recording that the `what` was deleted; returns how many."""
    from django.db.models import Q

    found = Schedule.objects.filter(owner=user, state=Schedule.State.ENABLED).filter(
        Q(target_arn=arn) | Q(target_arn__startswith=f"{arn}:"))
    return found.update(state=Schedule.State.DISABLED, next_fire_at=None, updated_at=timezone.now(),
                        disabled_reason=f"Disabled on {timezone.now():%Y-%m-%d %H:%M:%S} UTC: its target, the "
                                        f"{what} {arn}, was deleted.")


# -- triggers ----------------------------------------------------------------------------------

def _triggers(user, arn: str) -> list[dict]:
    from django.db.models import Q
    from django.urls import reverse

    found = []
    for schedule in (Schedule.objects.select_related("group").filter(owner=user)
                     .filter(Q(target_arn=arn) | Q(target_arn__startswith=f"{arn}:"))):
        enabled = schedule.state == Schedule.State.ENABLED
        upcoming_at = f"next run {schedule.next_fire_at:%Y-%m-%d %H:%M} UTC" if schedule.next_fire_at else "no next run"
        name = schedule.name if schedule.group.name == DEFAULT_GROUP else f"{schedule.group.name}/{schedule.name}"
        found.append({"kind": "schedule", "title": "EventBridge Scheduler", "label": name,
                      "lines": [schedule.expression, f"{schedule.state} · {upcoming_at}" if enabled else schedule.state],
                      "detail": schedule_arn(user, schedule.group.name, schedule.name),
                      "href": reverse("schedule-list") + f"#{schedule.group.name}/{schedule.name}",
                      "disabled": "" if enabled else schedule.disabled_reason or "The schedule is disabled."})
    return found


def triggers_for(function: Function) -> list[dict]:
    """Returns the schedules that invoke the function as its page's trigger boxes
    (editor.services.triggers), disabled ones saying why."""
    from editor.services.accounts import function_arn

    return _triggers(function.owner, function_arn(function.owner, function.name))


def machine_triggers(machine: StateMachine) -> list[dict]:
    """Returns the schedules that start the state machine, as triggers_for's boxes."""
    from editor.services.accounts import state_machine_arn

    return _triggers(machine.owner, state_machine_arn(machine.owner, machine.name))
