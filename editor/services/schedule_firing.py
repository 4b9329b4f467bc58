"""Firing what is due: every tick of every enabled schedule starts its target once.

`fire_due(now)` is called about every second: by Celery beat's `flowbench.fire_schedules` job in
the distributed mode, by the lease keeper's thread in the embedded one; tests call it with the
`now` they choose. A tick is claimed by a compare-and-set UPDATE that moves the schedule's
`next_fire_at` on, in the same transaction as the ScheduleFire row and the start of its target
(the Invocation row, the Execution row): whoever loses the race changes nothing, and a process
killed before the commit leaves the tick to the next caller. The target runs once the
transaction commits (its job or thread is dispatched on commit).

A tick found more than LATE_SECONDS overdue was missed while Flowbench was not running: it is
skipped, not replayed (as Scheduler does with its flexible window off), and the schedule moves to
its next future tick. A FLEXIBLE window fires at its start.

A target whose start fails inside Flowbench (an internal error such as a database that cannot
take the write: what Scheduler retries, unlike a target that is gone or a role that refuses) is
tried again under the schedule's RetryPolicy: the fire records the attempt and its error, and its
`retry_at` (1, 2, 4 ... 60 seconds on) is claimed by the same compare-and-set, until
MaximumRetryAttempts more attempts were made or the event is older than MaximumEventAgeInSeconds.
The target's input says which attempt it is (<aws.scheduler.attempt-number>).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from editor.errors import ApiError
from editor.models import Invocation, Schedule, ScheduleFire
from editor.services import schedules

log = logging.getLogger(__name__)

BATCH = 200
MAX_RETRY_DELAY = 60   # seconds between two attempts at most


def late_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "FLOWBENCH_SCHEDULE_LATE_SECONDS", 60))


def fire_due(now: datetime | None = None) -> list[ScheduleFire]:
    """Fires every tick due at `now` (default: the clock's) that nobody fired; returns the fires
    this call made."""
    now = now or timezone.now()
    due = list(Schedule.objects.filter(state=Schedule.State.ENABLED, next_fire_at__lte=now)
               .order_by("next_fire_at").values_list("pk", "next_fire_at")[:BATCH])
    fired = []
    for pk, tick in due:
        try:
            found = _fire(pk, tick, now)
        except Exception:   # one schedule's trouble never stops the others
            log.exception("schedule %s could not fire its tick %s", pk, tick)
            continue
        if found is not None:
            fired.append(found)
    retries = list(ScheduleFire.objects.filter(retry_at__lte=now).order_by("retry_at")
                   .values_list("pk", "retry_at")[:BATCH])
    for pk, due_at in retries:
        try:
            found = _retry(pk, due_at, now)
        except Exception:
            log.exception("schedule fire %s could not be retried", pk)
            continue
        if found is not None:
            fired.append(found)
    return fired


def _fire(pk: int, tick: datetime, now: datetime) -> ScheduleFire | None:
    with transaction.atomic():
        # Only the schedule's row is locked (not its owner's or group's, which other schedules share).
        schedule = (Schedule.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("owner", "group")
                    .filter(pk=pk, state=Schedule.State.ENABLED, next_fire_at=tick).first())
        if schedule is None:
            return None   # another firer took it (or it changed meanwhile)
        # The tick after this one, unless Flowbench was down past it: ticks still within the late
        # margin fire on the next calls (nothing is missed while it runs), older ones never.
        following = schedules.next_tick(schedule, max(tick, now - late_after()))
        claimed = Schedule.objects.filter(pk=pk, state=Schedule.State.ENABLED, next_fire_at=tick,
                                          updated_at=schedule.updated_at).update(next_fire_at=following)
        if not claimed:
            return None
        if now - tick > late_after():
            log.info("schedule %s skipped its tick %s, missed while Flowbench was not running", schedule, tick)
            return None
        fire = _start(schedule, tick, now)
        if following is None and fire.retry_at is None:
            _completed(schedule)
    return fire


def _completed(schedule: Schedule) -> None:
    """The schedule fired its last tick (and made its last attempt): deletes it if it says so."""
    if schedule.action_after_completion == "DELETE":
        schedule.delete()


def _input(schedule: Schedule, tick: datetime, fire_id: uuid.UUID, attempt: int) -> str:
    """Returns the target's input with Scheduler's context attributes put in."""
    text = schedule.target_input if schedule.target_input is not None else "{}"
    for key, value in {"scheduled-time": tick.strftime("%Y-%m-%dT%H:%M:%SZ"), "execution-id": str(fire_id),
                       "attempt-number": str(attempt),
                       "schedule-arn": schedules.schedule_arn(schedule.owner, schedule.group.name, schedule.name)
                       }.items():
        text = text.replace(f"<aws.scheduler.{key}>", value)
    return text


def _start(schedule: Schedule, tick: datetime, now: datetime) -> ScheduleFire:
    """Starts the schedule's target and records the fire; a target that is gone disables the
    schedule, saying why."""
    fire = ScheduleFire(owner=schedule.owner, schedule=schedule, group_name=schedule.group.name,
                        schedule_name=schedule.name, tick_at=tick, fired_at=now, target_arn=schedule.target_arn)
    _attempt(schedule, fire, now)
    fire.save()
    return fire


def _attempt(schedule: Schedule, fire: ScheduleFire, now: datetime) -> None:
    """Makes attempt number `fire.attempts` at starting the target, filling in the fire: what it
    started, or its error (and when to try again, for a failure the RetryPolicy covers)."""
    from editor.services.executions import start_execution
    from editor.services.event_queue import start_invocation
    from editor.services.machines import current_version

    # One id for every attempt at this tick, as Scheduler's execution-id.
    fire_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{schedule.pk}/{fire.tick_at.isoformat()}")
    fire.retry_at = None
    try:
        with transaction.atomic():
            target = schedules.check_target(schedule.owner, schedule.target_arn, schedule.target_role_arn)
            text = _input(schedule, fire.tick_at, fire_id, fire.attempts)
            if target.kind == "function":
                version = None
                if target.qualifier not in (None, "$LATEST"):
                    from editor.services.functions import get_version

                    version = get_version(target.function, target.qualifier)
                fire.invocation = start_invocation(target.function, json.loads(text), source=Invocation.Source.SCHEDULE,
                                                   version=version)
            else:
                # As StartExecution on the machine's ARN: its latest revision, published now if new.
                version = current_version(target.machine)
                fire.execution = start_execution(schedule.owner, target.machine, text,
                                                 name=f"{schedule.name[:43]}-{fire_id.hex}",
                                                 version=version.number if version else None)
        fire.error = ""
    except ApiError as error:
        fire.error = error.message
        if error.field in ("Target.Arn", "Target.RoleArn"):
            schedules.disable(schedule, f"Disabled on {now:%Y-%m-%d %H:%M:%S} UTC: {error.message}")
    except DatabaseError as error:   # inside Flowbench: tried again as the RetryPolicy says
        fire.retry_at = _next_attempt(schedule, fire, now)
        then = (f"attempt {fire.attempts + 1} at {fire.retry_at:%H:%M:%S} UTC" if fire.retry_at else
                "no more attempts (its RetryPolicy)")
        fire.error = (f"Attempt {fire.attempts} could not start the target ({type(error).__name__}: {error}); "
                      f"{then}.")


def _next_attempt(schedule: Schedule, fire: ScheduleFire, now: datetime) -> datetime | None:
    """Returns when to try the fire's target again, or None when its RetryPolicy allows no more."""
    retries, max_age = schedules.retry_limits(schedule)
    if fire.attempts > retries:
        return None
    at = now + timedelta(seconds=min(2 ** (fire.attempts - 1), MAX_RETRY_DELAY))
    return at if (at - fire.tick_at).total_seconds() <= max_age else None


def _retry(pk: int, due_at: datetime, now: datetime) -> ScheduleFire | None:
    """Makes the next attempt of the fire `pk` whose retry was due at `due_at`, once (claimed by a
    compare-and-set on retry_at); returns the fire, or None when another caller took it."""
    with transaction.atomic():
        fire = (ScheduleFire.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=pk, retry_at=due_at).first())
        if fire is None or not ScheduleFire.objects.filter(pk=pk, retry_at=due_at).update(retry_at=None):
            return None
        schedule = (Schedule.objects.select_related("owner", "group").filter(pk=fire.schedule_id).first()
                    if fire.schedule_id else None)
        if schedule is None or schedule.state != Schedule.State.ENABLED:
            fire.error += " Not tried again: the schedule was deleted or disabled."
            fire.save(update_fields=["error"])
            return None
        _, max_age = schedules.retry_limits(schedule)
        if (now - fire.tick_at).total_seconds() > max_age:
            fire.error += f" Not tried again: the event is older than MaximumEventAgeInSeconds ({max_age})."
            fire.save(update_fields=["error"])
            return None
        fire.attempts += 1
        fire.fired_at = now
        _attempt(schedule, fire, now)
        fire.save()
        if fire.retry_at is None and schedule.next_fire_at is None:
            _completed(schedule)
    return fire
