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
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from editor.errors import ApiError
from editor.models import Invocation, Schedule, ScheduleFire
from editor.services import schedules

log = logging.getLogger(__name__)

BATCH = 200


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
        if following is None and schedule.action_after_completion == "DELETE":
            schedule.delete()
    return fire


def _input(schedule: Schedule, tick: datetime, fire_id: uuid.UUID) -> str:
    """Returns the target's input with Scheduler's context attributes put in."""
    text = schedule.target_input if schedule.target_input is not None else "{}"
    for key, value in {"scheduled-time": tick.strftime("%Y-%m-%dT%H:%M:%SZ"), "execution-id": str(fire_id),
                       "attempt-number": "1",
                       "schedule-arn": schedules.schedule_arn(schedule.owner, schedule.group.name, schedule.name)
                       }.items():
        text = text.replace(f"<aws.scheduler.{key}>", value)
    return text


def _start(schedule: Schedule, tick: datetime, now: datetime) -> ScheduleFire:
    """Starts the schedule's target and records the fire; a target that is gone disables the
    schedule, saying why."""
    from editor.services.executions import start_execution
    from editor.services.event_queue import start_invocation
    from editor.services.machines import current_version

    fire = ScheduleFire(owner=schedule.owner, schedule=schedule, group_name=schedule.group.name,
                        schedule_name=schedule.name, tick_at=tick, fired_at=now, target_arn=schedule.target_arn)
    fire_id = uuid.uuid4()
    try:
        with transaction.atomic():
            target = schedules.check_target(schedule.owner, schedule.target_arn, schedule.target_role_arn)
            text = _input(schedule, tick, fire_id)
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
    except ApiError as error:
        fire.error = error.message
        if error.field in ("Target.Arn", "Target.RoleArn"):
            schedules.disable(schedule, f"Disabled on {now:%Y-%m-%d %H:%M:%S} UTC: {error.message}")
    fire.save()
    return fire
