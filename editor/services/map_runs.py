"""Distributed Map runs (AWS's Map Run): a Map state with ProcessorConfig Mode DISTRIBUTED runs
each item as a child execution of its own, dispatched like any execution (in the distributed mode,
to whichever worker takes it; it runs the Map's item processor, see runs.compiled), and waits for the run's end on a task token, parked.

    start(parent, arn, token=..., ...)     the Map asks (runtime.asl.states.map, through the Task
                                           invoker): the run is stored once, then advanced
    advance(run_id)                        starts children while fewer than MaxConcurrency run;
                                           ends the run once every child ended (its token answered
                                           with their outputs, in item order) or once more
                                           children failed than it tolerates (the ones still
                                           running are stopped)
    execution_ended                        (runs.execution_ended's receiver) a child's end
                                           advances its run; a parent that ended otherwise than
                                           by succeeding stops its runs
    stop(arn)                              the Map was abandoned (a sibling failed it): its run
                                           and children stop
    update(run_id, max_concurrency=...)    UpdateMapRun: a running run's limit and tolerance
                                           changed, then advanced under them

What the console shows of a run (its Map Run page, the parent's links to it):

    get_run(user, execution_id, run_id)    the person's run of that execution, else a 404 ApiError
    item_counts(runs)                      each run's items by how far they got (DescribeMapRun's
                                           itemCounts)
    children_page(run, status, page)       one page of its children, in item order

Nothing is started twice: a child is unique per (run, item index), and a run advances under its
row's lock. Nothing is lost: should a process die between a child's end and the advance that
follows it, the parked parent looks again within runtime.asl.states.map.MAP_RUN_RECHECK, and its
Map's `start` advances the run.
"""

from __future__ import annotations

import json
import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from editor.errors import ApiError, not_found
from editor.models import Execution, MapRun
from editor.services import executor, leases, task_answers
from runtime.asl.states.map import tolerated_failures

__all__ = ["start", "advance", "stop", "update", "execution_ended", "run_id_of", "get_run", "item_counts",
           "children_page", "FAILED_CHILD", "PAGE_SIZE"]

log = logging.getLogger(__name__)

# The ends of a child that count as a failed item.
FAILED_CHILD = (Execution.Status.FAILED, Execution.Status.TIMED_OUT, Execution.Status.ABORTED)
# The children a run without a MaxConcurrency of its own runs at once, as AWS's do.
DEFAULT_CONCURRENCY = 10_000
# A run whose children exceed what it tolerates fails with this, as AWS's does.
EXCEEDED = ("States.ExceedToleratedFailureThreshold", "The specified tolerated failure threshold was exceeded")
# The children a page of the console lists: a run may have thousands.
PAGE_SIZE = 100
# Where a child's status counts in item_counts.
_COUNTED = {Execution.Status.RUNNING: "running", Execution.Status.SUCCEEDED: "succeeded",
            Execution.Status.FAILED: "failed", Execution.Status.TIMED_OUT: "timed_out",
            Execution.Status.ABORTED: "aborted"}

def run_id_of(arn: str) -> uuid.UUID | None:
    """Returns the id a Map Run's ARN ends in (…:mapRun:MACHINE/LABEL:ID), or None."""
    try:
        return uuid.UUID(arn.rsplit(":", 1)[1])
    except (IndexError, ValueError, AttributeError):
        return None


# The largest count a PositiveIntegerField holds on every database. A Map's MaxConcurrencyPath or
# ToleratedFailureCountPath, or UpdateMapRun (a 64-bit long in AWS's model), may ask for more:
# any limit or tolerance past a run's item count (at most 256 KiB of items) means the same.
COUNT_CEILING = 2**31 - 1


def _count(value) -> int:
    return min(COUNT_CEILING, max(0, int(value or 0)))


def start(parent: Execution, arn: str, *, token: str, state: str, label: str, definition: dict,
          inputs: list, max_concurrency: int, tolerated_count: int, tolerated_percentage: float) -> MapRun:
    """Stores the Map Run `arn` of `parent`'s Map state `state` (once: a resumed run asks again)
    and advances it."""
    run_id = run_id_of(arn)
    run, _ = MapRun.objects.get_or_create(id=run_id, defaults=dict(
        arn=arn, execution=parent, state_name=state[:80], label=label[:80], token=token,
        definition=json.dumps(definition, ensure_ascii=False),
        items=json.dumps(inputs, ensure_ascii=False), item_count=len(inputs),
        max_concurrency=_count(max_concurrency),
        tolerated_failures=tolerated_failures(tolerated_count, tolerated_percentage, len(inputs)),
        tolerated_failure_count=_count(tolerated_count),
        tolerated_failure_percentage=float(tolerated_percentage or 0)))
    advance(run.pk)
    return run


def advance(run_id) -> None:
    """Starts the children the run has room for, or ends the run (see the module's text)."""
    for _ in range(5):   # another process's advance of the same run took an index first: again
        try:
            _advance(run_id)
            return
        except IntegrityError:
            continue


def _advance(run_id) -> None:
    stopping: list = []
    with transaction.atomic():
        run = MapRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != MapRun.Status.RUNNING:
            return
        counts = dict(run.children.values_list("status").annotate(n=Count("id")).order_by())
        started = sum(counts.values())
        running = counts.get(Execution.Status.RUNNING, 0)
        failed = sum(counts.get(status, 0) for status in FAILED_CHILD)
        if failed > run.tolerated_failures:
            stopping = _end(run, MapRun.Status.FAILED, *_failure(run, failed))
        elif started - running == run.item_count:
            _end(run, MapRun.Status.SUCCEEDED, output=_outputs(run))
        else:
            room = min(run.item_count - started, (run.max_concurrency or DEFAULT_CONCURRENCY) - running)
            if room > 0:
                _start_children(run, started, room)
    _stop_children(stopping)


def _failure(run: MapRun, failed: int) -> tuple[str, str]:
    """The error a failed run answers: its one failed child's when it tolerated none (as the
    in-process Map does), else States.ExceedToleratedFailureThreshold."""
    if run.tolerated_failures == 0 and failed == 1:
        child = run.children.filter(status__in=FAILED_CHILD).values("error", "cause").first()
        return child["error"] or "States.TaskFailed", child["cause"] or ""
    return EXCEEDED


def _outputs(run: MapRun) -> str:
    """The children's outputs in item order (a failed item tolerated: its error and cause)."""
    parts = []
    for status, output, error, cause in (run.children.order_by("map_index")
                                         .values_list("status", "output", "error", "cause")):
        if status == Execution.Status.SUCCEEDED:
            parts.append(output if output is not None else "null")
        else:
            parts.append(json.dumps({"Error": error, "Cause": cause}, ensure_ascii=False))
    return "[" + ",".join(parts) + "]"


def _end(run: MapRun, status, error: str | None = None, cause: str | None = None,
         output: str | None = None) -> list:
    """Ends the run (inside a transaction holding its row) and answers its token, unless it was
    aborted (its Map no longer waits); returns the children to stop."""
    run.status, run.error, run.cause, run.stopped_at = status, error, cause, timezone.now()
    run.save(update_fields=["status", "error", "cause", "stopped_at"])
    if status == MapRun.Status.SUCCEEDED:
        task_answers.answer_child(run.token, output=output)
    elif status == MapRun.Status.FAILED:
        task_answers.answer_child(run.token, error=error, cause=cause)
    return list(run.children.filter(status=Execution.Status.RUNNING).values_list("pk", flat=True))


def _start_children(run: MapRun, first: int, count: int) -> None:
    inputs = json.loads(run.items)[first:first + count]
    parent = run.execution
    queued = leases.queued_until()
    children = [Execution(machine_id=parent.machine_id, version_id=parent.version_id, name=str(uuid.uuid4()),
                          input=json.dumps(item, ensure_ascii=False), lease_until=queued, parent=parent,
                          parent_state=run.state_name, map_run=run, map_index=first + offset)
                for offset, item in enumerate(inputs)]
    Execution.objects.bulk_create(children)
    ids = [child.pk for child in children]
    transaction.on_commit(lambda: [executor.dispatch(pk) for pk in ids])


def _stop_children(ids: list) -> None:
    from editor.services.executions import stop_execution

    for pk in ids:
        child = Execution.objects.select_related("machine", "machine__owner").filter(pk=pk).first()
        if child is None or child.status != Execution.Status.RUNNING:
            continue
        try:
            stop_execution(child.machine.owner, child, None, "The Map Run this execution belongs to stopped.")
        except ApiError:
            pass   # it ended meanwhile


def stop(arn: str) -> None:
    """Stops the run `arn` and its children still running (its Map was abandoned)."""
    _abort(MapRun.objects.filter(pk=run_id_of(arn), status=MapRun.Status.RUNNING))


def _abort(runs) -> None:
    for run_id in list(runs.values_list("pk", flat=True)):
        with transaction.atomic():
            run = MapRun.objects.select_for_update().filter(pk=run_id, status=MapRun.Status.RUNNING).first()
            if run is None:
                continue
            running = _end(run, MapRun.Status.ABORTED)
        _stop_children(running)


def update(run_id, *, max_concurrency: int | None = None, tolerated_count: int | None = None,
           tolerated_percentage: float | None = None) -> None:
    """Changes a running run's MaxConcurrency and tolerated failures (None leaves a setting as it
    is), then advances it: a higher limit starts more children at once, a tolerance now below the
    failures so far fails the run. Raises ApiError MapRunEnded (409) for a run that has ended
    (AWS updates only a Map Run in progress)."""
    with transaction.atomic():
        run = MapRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            raise not_found("Map Run")
        if run.status != MapRun.Status.RUNNING:
            raise ApiError("MapRunEnded", f"The Map Run has ended ({run.status}): only a running one can be updated.",
                           status=409)
        if max_concurrency is not None:
            run.max_concurrency = _count(max_concurrency)
        if tolerated_count is not None:
            run.tolerated_failure_count = _count(tolerated_count)
        if tolerated_percentage is not None:
            run.tolerated_failure_percentage = tolerated_percentage
        run.tolerated_failures = tolerated_failures(run.tolerated_failure_count, run.tolerated_failure_percentage,
                                                    run.item_count)
        run.save(update_fields=["max_concurrency", "tolerated_failure_count", "tolerated_failure_percentage",
                                "tolerated_failures"])
    advance(run_id)


def execution_ended(sender, execution: Execution, **kwargs) -> None:
    """A child's end advances its run; a parent that did not succeed stops its runs still going
    (its Map no longer waits for them)."""
    if execution.map_run_id is not None:
        try:
            advance(execution.map_run_id)
        except Exception:   # the parent's recheck advances it (see the module's text)
            log.exception("map run %s: advancing after child %s's end failed", execution.map_run_id,
                          execution.pk)
    if execution.status != Execution.Status.SUCCEEDED:
        _abort(MapRun.objects.filter(execution_id=execution.pk, status=MapRun.Status.RUNNING))


def get_run(user, execution_id, run_id) -> MapRun:
    """Returns `user`'s Map Run `run_id` of the execution `execution_id`; another person's run, or
    an id that is no UUID, is the same 404 as a run that does not exist."""
    try:
        execution_id, run_id = uuid.UUID(str(execution_id)), uuid.UUID(str(run_id))
    except ValueError:
        raise not_found("Map Run") from None
    run = (MapRun.objects.described().select_related("execution", "execution__machine")
           .filter(pk=run_id, execution_id=execution_id, execution__machine__owner=user).first())
    if run is None:
        raise not_found("Map Run")
    return run


def item_counts(runs) -> dict:
    """Returns {run id: counts} for `runs`, counts as DescribeMapRun's itemCounts: pending (no
    child started yet; a run that ended early leaves them so), running, succeeded, failed,
    timed_out, aborted and total. One query for all the runs."""
    found = {run.pk: {"pending": run.item_count, **{key: 0 for key in _COUNTED.values()}, "total": run.item_count}
             for run in runs}
    rows = (Execution.objects.filter(map_run_id__in=list(found)).values_list("map_run_id", "status")
            .annotate(n=Count("id")).order_by())
    for run_id, status, n in rows:
        found[run_id][_COUNTED[status]] += n
        found[run_id]["pending"] -= n
    return found


def children_page(run: MapRun, status: str | None = None, page: int = 1) -> tuple[list[Execution], int]:
    """Returns the run's children on page `page` (1 is the first; PAGE_SIZE each) in item order,
    only those with `status` when given, and how many children match in all."""
    found = run.children.all()
    if status:
        found = found.filter(status=status)
    start = (page - 1) * PAGE_SIZE
    return list(found.order_by("map_index")[start:start + PAGE_SIZE]), found.count()
