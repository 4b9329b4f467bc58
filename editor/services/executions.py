"""Starting, stopping and redriving executions: the only code that writes them (their events are
written by the executor's recorder as the engine emits them)."""

from __future__ import annotations

import json
import re
import uuid

from django.db import IntegrityError, transaction

from editor.errors import ApiError, not_found
from editor.models import Execution, ExecutionEvent, StateMachine
from editor.services import executor, leases
from editor.services.broadcast import broadcast, execution_group
from editor.services.validation import parse_json

INPUT_LIMIT_BYTES = 256 * 1024
# AWS execution names: 1-80 characters, no whitespace, brackets, wildcards, punctuation or controls.
EXECUTION_NAME = re.compile(r"""^[^\s<>{}\[\]?*"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$""")


def execution_name(value, field: str = "name") -> str:
    if not isinstance(value, str) or not EXECUTION_NAME.match(value):
        raise ApiError("InvalidName", "An execution name has 1 to 80 characters, without spaces, brackets, "
                                      "wildcards or punctuation such as \" # % \\ ^ | ~ ` $ & , ; : /.", field=field)
    return value


def input_text(value, field: str = "input") -> str:
    """Returns the execution input as JSON text (an empty text is {}); 400 naming `input` else."""
    if value is None:
        return "{}"
    if not isinstance(value, str):
        try:
            value = json.dumps(value, ensure_ascii=False)
        except RecursionError:
            raise ApiError("InvalidJson", "The input nests arrays and objects too deeply.", field=field) from None
    if len(value.encode("utf-8")) > INPUT_LIMIT_BYTES:
        raise ApiError("InputTooLarge", "The input is limited to 256 KiB.", status=400, field=field)
    if not value.strip():
        return "{}"
    parse_json(value, field, "The input is not JSON")
    return value


def start_execution(user, machine: StateMachine, input_value, name=None, version=None, *, qualifier: str = "",
                    synchronous: bool = False, idempotent: bool = False) -> Execution:
    """Creates a RUNNING execution of `version` (default: the latest published) and dispatches it.

    A name already used is ExecutionAlreadyExists; `idempotent` (the AWS API's StartExecution)
    returns instead the execution of that name still RUNNING with the same input. `qualifier` is
    what the start named besides the machine (a version number or an alias's name, for the AWS
    API's ARNs); `synchronous`: a StartSyncExecution caller waits for the end."""
    text = input_text(input_value)
    name = str(uuid.uuid4()) if name in (None, "") else execution_name(name)
    if machine.owner_id != user.pk:
        raise not_found("State machine")
    if version in (None, ""):
        chosen = machine.versions.order_by("-number").first()
        if chosen is None:
            raise ApiError("NoVersion", "Publish a version of the state machine first.", status=409, field="version")
    else:
        if isinstance(version, bool) or not str(version).isdigit():
            raise ApiError("InvalidType", "version is a published version number.", field="version")
        chosen = machine.versions.filter(number=int(version)).first()
        if chosen is None:
            raise ApiError("ResourceNotFound", f"Version {version} not found.", status=404, field="version")
    try:
        with transaction.atomic():   # a name already taken breaks the (machine, name) constraint
            execution = Execution.objects.create(machine=machine, version=chosen, name=name, input=text,
                                                 lease_until=leases.queued_until(), qualifier=qualifier,
                                                 synchronous=synchronous)
            transaction.on_commit(lambda: executor.dispatch(execution.id))
    except IntegrityError:
        same = Execution.objects.filter(machine=machine, name=name, status=Execution.Status.RUNNING, input=text,
                                        qualifier=qualifier, synchronous=False)
        if not qualifier or qualifier.isdigit():   # (an alias may have drawn another of its versions)
            same = same.filter(version=chosen)
        same = same.first()
        if same is not None and idempotent and not synchronous:
            return same
        raise ApiError("ExecutionAlreadyExists", f"An execution called {name} already exists.", status=409,
                       field="name") from None
    return execution


def wait_for_end(execution: Execution, timeout: float) -> bool:
    """Waits until the execution has ended, at most `timeout` seconds; returns whether it has.

    Listens to the execution's Channels group (the status message its run broadcasts when it
    ends, from this process or any worker) and checks the database once the group is joined,
    so an end before that is not missed; the database is read again every second too, since a
    broadcast may be lost (the layer is down) but the row never is."""
    from editor.services.broadcast import wait_for_group

    def ended() -> bool:
        return not Execution.objects.filter(pk=execution.pk, status=Execution.Status.RUNNING).exists()

    def is_end(message: dict) -> bool:
        return (message.get("type") == "execution.status"
                and message.get("execution", {}).get("status") not in (None, Execution.Status.RUNNING))

    return wait_for_group(execution_group(execution.id), is_end, ended, timeout)


def get_execution(user, execution_id) -> Execution:
    try:
        execution_id = uuid.UUID(str(execution_id))
    except ValueError:
        raise not_found("Execution") from None
    # A Map Run's child with its run (its ARN names the run's label), not the run's items.
    execution = (Execution.objects.select_related("machine", "version", "map_run").defer("map_run__items")
                 .filter(pk=execution_id, machine__owner=user).first())
    if execution is None:
        raise not_found("Execution")
    return execution


def stop_execution(user, execution: Execution, error=None, cause=None) -> Execution:
    """Aborts a RUNNING execution: ExecutionAborted where it stands (at once when this process runs
    it or nobody does; within a second when another worker runs it)."""
    if execution.machine.owner_id != user.pk:
        raise not_found("Execution")
    for value, field, limit in ((error, "error", 256), (cause, "cause", 32768)):
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise ApiError("InvalidType", f"{field} is a string of at most {limit} characters.", field=field)
    updated = Execution.objects.filter(pk=execution.pk, status=Execution.Status.RUNNING).update(
        stop_requested=True, error=error, cause=cause)
    if not updated:
        raise ApiError("ExecutionNotRunning", "Only a running execution can be stopped.", status=409)
    executor.request_stop(execution.pk)
    execution.refresh_from_db()
    return execution


def redrive_execution(user, execution: Execution) -> Execution:
    """Continues a FAILED, TIMED_OUT or ABORTED Standard execution from the state that did not
    finish, as AWS's RedriveExecution: same execution, redrive_count + 1, event ids continuing."""
    if execution.machine.owner_id != user.pk:
        raise not_found("Execution")
    if execution.version.type != "STANDARD":
        raise ApiError("ExecutionNotRedrivable", "Only Standard executions can be redriven.", status=409)
    return _redrive(execution)


def _redrive(execution: Execution) -> Execution:
    with transaction.atomic():
        execution = Execution.objects.select_for_update().get(pk=execution.pk)
        if execution.status not in ("FAILED", "TIMED_OUT", "ABORTED"):
            raise ApiError("ExecutionNotRedrivable", "Only a failed, timed out or aborted execution can be redriven.",
                           status=409)
        last = ExecutionEvent.objects.filter(execution=execution).order_by("-event_id").first()
        if last is None:
            raise ApiError("ExecutionNotRedrivable", "This execution has no history to continue from.", status=409)
        from runtime.asl import Clock
        from django.utils import timezone

        execution.redrive_count += 1
        execution.status = Execution.Status.RUNNING
        execution.output = execution.error = execution.cause = None
        execution.stopped_at = None
        execution.stop_requested = False
        execution.redriven_at = timezone.now()
        execution.lease_owner, execution.lease_until = "", leases.queued_until()
        execution.save()
        event = {"id": last.event_id + 1, "previousEventId": last.event_id, "timestamp": Clock().timestamp(),
                 "type": "ExecutionRedriven",
                 "executionRedrivenEventDetails": {"redriveCount": execution.redrive_count}}
        ExecutionEvent.objects.create(execution=execution, event_id=event["id"], type=event["type"],
                                      timestamp=event["timestamp"], previous_event_id=event["previousEventId"],
                                      details={"executionRedrivenEventDetails": event["executionRedrivenEventDetails"]})
        transaction.on_commit(lambda: _announce_and_dispatch(execution, event))
    return execution


def _announce_and_dispatch(execution: Execution, event: dict) -> None:
    from editor import messages

    broadcast(execution_group(execution.id), messages.events_group_message([event]))
    broadcast(execution_group(execution.id), messages.status_group_message(execution))
    executor.dispatch(execution.id)


def events_after(execution: Execution, after: int = 0, limit: int | None = None) -> list[dict]:
    rows = ExecutionEvent.objects.filter(execution=execution, event_id__gt=after).order_by("event_id")
    if limit:
        rows = rows[:limit]
    return [row.as_event() for row in rows]


def recent_inputs(machine: StateMachine, count: int = 5) -> list[str]:
    """Returns the last `count` different inputs the machine was started with (a Distributed Map's
    children, started with its items, are not starts of the machine)."""
    seen, found = set(), []
    for text in (machine.executions.filter(map_run__isnull=True).order_by("-started_at")
                 .values_list("input", flat=True)[:200]):
        if text not in seen:
            seen.add(text)
            found.append(text)
            if len(found) == count:
                break
    return found
