"""Lambda's asynchronous (Event) invocations as a durable queue, held under leases as executions
and Deploy installs are (editor.services.leases).

An Event invocation (Invoke with InvocationType Event, a bucket notification, a schedule) is
committed as a RUNNING Invocation with `asynchronous` set and nobody running it: queued. Whoever
runs it (a thread of the web process in the embedded mode, a Celery worker's `flowbench.invoke_function`
job in the distributed one) first claims it: its process becomes the `runner`, `lease_until` a
lease this process's lease keeper renews while the function runs, and `attempts` goes up by one
(the fencing token of this attempt: a runner that lost its lease cannot record a result).

- Its process dies (SIGKILL, a machine gone): the lease runs out; the next start of the web
  process (embedded) takes it up at once, and the periodic sweep (the web process's lease keeper
  embedded, every worker's in a cluster) sends it again. Lambda's asynchronous invocations are
  at-least-once: a function cut off mid-run sees its event again. Two live runs of one invocation
  never happen (one claim at a time).
- Its process is told to stop (SIGTERM): the function gets the stop grace to answer
  (FLOWBENCH_STOP_GRACE_SECONDS); what still runs then is handed back, due at once.
- The function fails (its error, its timeout): retried after FLOWBENCH_EVENT_RETRY_SECONDS, then
  twice that (Lambda's one and two minutes), up to the function's MaximumRetryAttempts (default
  2), and never past MaximumEventAgeInSeconds (default 6 hours): then it fails, saying so.
- The function's concurrency is used up (a throttle): the event waits FLOWBENCH_EVENT_THROTTLE_SECONDS
  (longer the longer it has waited, at most five minutes) and is tried again, without counting as
  an attempt, until it is too old.

A synchronous invocation's caller waits for it; whose process died is gone with its caller, so it
is not run again: past its deadline (`lease_until`, set when it is recorded) the sweep, and in the
embedded mode the next start, finish it as failed with the reason.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from typing import Any

from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from editor.errors import ApiError
from editor.models import EventInvokeConfig, Function, FunctionVersion, Invocation
from editor.services.executor import get_executor
from editor.services.invocations import (HandedBack, announce_end, pending_invocation, result_fields,
                                         run_attempt)
from editor.services.leases import SWEEP_SECONDS, lease_seconds, process_id, queued_until

__all__ = ["start_invocation", "dispatch", "run_queued", "claim", "settle", "retry_policy", "sweep", "resume", "stop",
           "abandoned_error", "DEFAULT_RETRIES", "DEFAULT_EVENT_AGE", "MAX_TAKEOVERS"]

log = logging.getLogger(__name__)

DEFAULT_RETRIES = 2
DEFAULT_EVENT_AGE = 6 * 3600
# How many attempts may be cut off by their process going away before the event fails.
MAX_TAKEOVERS = 3
SWEEP_BATCH = 200
MAX_THROTTLE_DELAY = 300
THROTTLED = "TooManyRequestsException"


class _Held:
    """An attempt this process runs: its fencing token, and the switch set when it is handed back."""

    __slots__ = ("token", "handed_back")

    def __init__(self, token: int):
        self.token = token
        self.handed_back = threading.Event()


_held: dict[str, _Held] = {}
_condition = threading.Condition()
_renewing_keeper = None


def _stopping() -> bool:
    """Whether this process stops (its executor does, or was abandoned): it claims nothing then."""
    executor = get_executor()
    return executor.stopping or executor.abandoned


def _distributed() -> bool:
    return settings.FLOWBENCH_EXECUTOR == "celery"


# -- dispatching and claiming ------------------------------------------------------------------

def start_invocation(function: Function, event: Any, *, source: str, version: FunctionVersion | None = None,
                     client_context: dict | None = None, alias: str = "") -> Invocation:
    """Records an invocation of `version` (the deployed $LATEST by default) in the queue, as
    Lambda's asynchronous (Event) Invoke does, and has it run once the caller's transaction
    commits; returns it still RUNNING. A Celery worker runs it in the distributed mode, a thread
    of this process when embedded; either way it counts in the function's concurrency like any
    other, and it survives the process that runs it going away."""
    version, invocation = pending_invocation(function, event, source, version, None, client_context, alias,
                                             asynchronous=True)
    transaction.on_commit(lambda: dispatch(invocation.id))
    return invocation


def dispatch(invocation_id) -> None:
    """Hands a queued invocation to whoever runs it: this process's Event threads, or a Celery
    worker. A job the broker refuses is not lost: the invocation's queued lease runs out and a
    sweep sends it again. A stopping process starts nothing (the next start, or a worker, does)."""
    if _stopping():
        return
    if not _distributed():
        _event_pool().submit(_run_here, str(invocation_id))
        return
    from flowbench.broker import send_job

    send_job("flowbench.invoke_function", invocation_id, "invocation")


@functools.cache
def _event_pool() -> ThreadPoolExecutor:
    """Returns the pool Event invocations run on: their own, since run_invocation waits on
    get_pool()'s threads and must not take one of them."""
    return ThreadPoolExecutor(max_workers=settings.FLOWBENCH_THREADS, thread_name_prefix="flowbench-event")


def _run_here(invocation_id: str) -> None:
    try:
        run_queued(invocation_id)
    except Exception:   # run_invocation records the runner's failures: this is the database's
        log.exception("the Event invocation %s failed", invocation_id)
    finally:
        connections.close_all()   # this pool's threads outlive the request


def claim(invocation_id) -> int | None:
    """Takes a queued (or abandoned) asynchronous invocation for this process, when it is due;
    returns the attempt's fencing token, or None when another live process holds it, a retry is
    not due yet, or it ended."""
    now = timezone.now()
    rows = (Invocation.objects.filter(pk=invocation_id, status=Invocation.Status.RUNNING, asynchronous=True)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(runner="") | Q(lease_until__lt=now) | Q(lease_until__isnull=True)))
    if not rows.update(runner=process_id(), lease_until=now + timedelta(seconds=lease_seconds()),
                       next_attempt_at=None, attempts=F("attempts") + 1):
        return None
    return Invocation.objects.filter(pk=invocation_id).values_list("attempts", flat=True).first()


def retry_policy(invocation: Invocation) -> tuple[int, int]:
    """Returns (MaximumRetryAttempts, MaximumEventAgeInSeconds) of the qualifier the invocation
    was made through: its alias, else its version ($LATEST or a number)."""
    qualifier = invocation.alias or invocation.version_label
    config = EventInvokeConfig.objects.filter(function_id=invocation.function_id, qualifier=qualifier).first()
    if config is None:
        return DEFAULT_RETRIES, DEFAULT_EVENT_AGE
    retries = DEFAULT_RETRIES if config.maximum_retry_attempts is None else config.maximum_retry_attempts
    age = DEFAULT_EVENT_AGE if config.maximum_event_age is None else config.maximum_event_age
    return retries, age


def run_queued(invocation_id) -> bool:
    """Claims and runs one attempt of a queued asynchronous invocation on the calling thread;
    False when it was not this process's to run (another holds it, not due, ended, stopping)."""
    if _stopping():
        return False
    token = claim(invocation_id)
    if token is None:
        return False
    invocation = Invocation.objects.select_related("function", "version").get(pk=invocation_id)
    held = _track(invocation_id, token)
    try:
        _, max_age = retry_policy(invocation)
        if _age(invocation) > max_age:
            settle(invocation, token, None, {
                "errorType": "EventAgeExceeded",
                "errorMessage": f"The event was dropped: it is older than the maximum event age ({max_age} s) "
                                f"after {invocation.attempts - 1} attempt(s)."}, final=True, ran=False)
        elif invocation.attempts - invocation.function_errors > MAX_TAKEOVERS:
            settle(invocation, token, None, {
                "errorType": "ServiceException",
                "errorMessage": f"The process running the invocation went away {MAX_TAKEOVERS} times before it "
                                "finished; it is not tried again."}, final=True, ran=False)
        elif invocation.version is None:
            settle(invocation, token, None, {"errorType": "ResourceNotFoundException",
                                             "errorMessage": "The version invoked was deleted."},
                   final=True, ran=False)
        else:
            try:
                result, failure = run_attempt(invocation.function, invocation.version, invocation,
                                              handed_back=held.handed_back)
            except HandedBack:
                return True   # handed back as its process stops: the next claim runs it again
            settle(invocation, token, result, failure)
            invocation.refresh_from_db()
            announce_end(invocation)
        return True
    finally:
        _untrack(invocation_id, held)


def _age(invocation: Invocation) -> float:
    return (timezone.now() - invocation.started_at).total_seconds()


def retry_delay(failed_attempts: int) -> float:
    """Seconds before the retry that follows the `failed_attempts`-th failure (1: one delay, 2: twice that)."""
    return settings.FLOWBENCH_EVENT_RETRY_SECONDS * 2 ** (failed_attempts - 1)


def throttle_delay(age: float) -> float:
    """Seconds a throttled event waits before it is tried again: FLOWBENCH_EVENT_THROTTLE_SECONDS at
    first, longer the longer it has waited (half its age), at most MAX_THROTTLE_DELAY."""
    return min(MAX_THROTTLE_DELAY, max(settings.FLOWBENCH_EVENT_THROTTLE_SECONDS, age / 2))


def settle(invocation: Invocation, token: int, result, failure: dict | None, *, final: bool = False,
           ran: bool = True) -> bool:
    """Records how an attempt ended, under its fencing token: done (succeeded, or failed for good),
    or queued again for a retry (the function's error or timeout, within MaximumRetryAttempts and
    the maximum event age) or after a throttle. `final` ends it whatever it was; `ran=False`: the
    function did not run in this claim (it counts as no attempt). False when this attempt no
    longer holds it."""
    now = timezone.now()
    fields = result_fields(result, failure)
    fields.pop("finished_at")
    status = fields.pop("status")
    mine = Invocation.objects.filter(pk=invocation.pk, runner=process_id(), attempts=token,
                                     status=Invocation.Status.RUNNING)
    retries, max_age = retry_policy(invocation)
    if not final and result is None and (failure or {}).get("errorType") == THROTTLED:
        due = now + timedelta(seconds=throttle_delay(_age(invocation)))
        if (due - invocation.started_at).total_seconds() <= max_age:
            # Not an attempt: the function did not run.
            return bool(mine.update(runner="", lease_until=due, next_attempt_at=due,
                                    attempts=F("attempts") - 1, error=fields["error"]))
    errors = invocation.function_errors
    if not ran:
        fields["attempts"] = F("attempts") - 1
    elif status == Invocation.Status.FAILED:
        errors += 1
        due = now + timedelta(seconds=retry_delay(errors))
        if not final and errors <= retries and (due - invocation.started_at).total_seconds() <= max_age:
            return bool(mine.update(runner="", lease_until=due, next_attempt_at=due, function_errors=errors,
                                    **fields))
    with transaction.atomic():
        done = bool(mine.update(status=status, finished_at=now, runner="", lease_until=None, next_attempt_at=None,
                                function_errors=errors, **fields))
        if done:   # its destination's invocation commits with its end: sent once
            _send_to_destination(invocation, status, fields, token if ran else token - 1)
    if not done:
        log.warning("invocation %s: attempt %d lost its lease before it ended; its result is not kept",
                    invocation.pk, token)
    return done


def _send_to_destination(invocation: Invocation, status: str, fields: dict, attempts: int) -> None:
    """Invokes the OnSuccess or OnFailure destination of the qualifier invoked (another function,
    asynchronously) with Lambda's invocation record of how the event ended; a destination that no
    longer exists is logged and skipped, as Lambda counts a failed delivery."""
    config = EventInvokeConfig.objects.filter(function_id=invocation.function_id,
                                              qualifier=invocation.alias or invocation.version_label).first()
    succeeded = status == Invocation.Status.SUCCEEDED
    arn = ((config.destination_config or {}).get("OnSuccess" if succeeded else "OnFailure") or {}).get(
        "Destination") if config is not None else None
    if not arn:
        return
    from editor.services.accounts import function_arn

    error = fields.get("error") or {}
    condition = ("Success" if succeeded else "EventAgeExceeded" if error.get("errorType") == "EventAgeExceeded"
                 else "RetriesExhausted")
    response = {"statusCode": 200, "executedVersion": invocation.version_label}
    if not succeeded:
        response["functionError"] = "Unhandled"
    record = {
        "version": "1.0", "timestamp": timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {"requestId": str(invocation.pk),
                           "functionArn": function_arn(invocation.function.owner_id, invocation.function.name,
                                                       invocation.alias or invocation.version_label),
                           "condition": condition, "approximateInvokeCount": attempts},
        "requestPayload": invocation.request, "responseContext": response,
        "responsePayload": fields.get("response") if succeeded else error,
    }
    try:
        function, version = destination_target(invocation.function.owner, arn)
        start_invocation(function, record, source=Invocation.Source.DESTINATION, version=version,
                         alias=alias_of(arn))
    except ApiError as refused:
        log.warning("invocation %s: its destination %s was not invoked: %s", invocation.pk, arn, refused.message)


def destination_target(owner, arn: str) -> tuple[Function, FunctionVersion]:
    """Returns the function and version a destination's ARN names in `owner`'s account; ApiError
    (naming DestinationConfig) when it names none."""
    from editor.services.accounts import account_id
    from editor.services.versions import version_named
    from runtime.arn import parse_function

    ref = parse_function(arn) if arn.startswith("arn:") else None
    if ref is None or ref.account not in (None, account_id(owner)):
        raise ApiError("InvalidParameterValue", f"The destination {arn} is not a function ARN of this account: "
                       "Flowbench sends asynchronous invocations' records to Lambda functions.")
    function = Function.objects.select_related("deployed").filter(owner=owner, name=ref.name).first()
    version = version_named(function, ref.qualifier) if function is not None else None
    if version is None:
        raise ApiError("ResourceNotFound", f"The destination function {arn} does not exist (or has nothing "
                       "deployed).", status=404)
    return function, version


def alias_of(arn: str) -> str:
    """Returns the alias a function ARN's qualifier names ("" for none, $LATEST or a version)."""
    from runtime.arn import parse_function

    ref = parse_function(arn)
    qualifier = ref.qualifier if ref is not None else None
    return qualifier if qualifier and qualifier != "$LATEST" and not qualifier.isdigit() else ""


# -- this process's attempts: renewed, handed back ---------------------------------------------

def _track(invocation_id, token: int) -> _Held:
    global _renewing_keeper
    keeper = get_executor().keeper
    held = _Held(token)
    with _condition:
        _held[str(invocation_id)] = held
        register = _renewing_keeper is not keeper
        _renewing_keeper = keeper
    if register:
        keeper.every(lease_seconds() / 3, renew)
    return held


def _untrack(invocation_id, held: _Held) -> None:
    with _condition:
        if _held.get(str(invocation_id)) is held:
            del _held[str(invocation_id)]
            _condition.notify_all()


def renew() -> None:
    """Extends the leases of the attempts this process runs (the lease keeper's periodic work)."""
    with _condition:
        held = dict(_held)
    if not held:
        return   # nothing to do: no database work at all
    until = timezone.now() + timedelta(seconds=lease_seconds())
    for invocation_id, entry in held.items():
        Invocation.objects.filter(pk=invocation_id, runner=process_id(), attempts=entry.token,
                                  status=Invocation.Status.RUNNING).update(lease_until=until)


def stop(deadline: float) -> int:
    """This process stops (its executor stopping, it claims nothing more): lets its running
    attempts answer until `deadline` (time.monotonic()), keeping their leases meanwhile (the lease
    keeper may be closed already), then hands back what still runs, due at once; returns how many
    it handed back."""
    while True:
        with _condition:
            left = deadline - time.monotonic()
            if _held and left > 0:
                _condition.wait(min(left, lease_seconds() / 3))
            if not _held or time.monotonic() >= deadline:
                still = dict(_held)
                break
        renew()
    for invocation_id, entry in still.items():
        entry.handed_back.set()
        Invocation.objects.filter(pk=invocation_id, runner=process_id(), attempts=entry.token,
                                  status=Invocation.Status.RUNNING).update(runner="", lease_until=timezone.now())
    if still:
        log.warning("stopping: handed back %d running Event invocation(s)", len(still))
    return len(still)


# -- finding what was left -----------------------------------------------------------------------

def abandoned_error() -> dict:
    return {"errorType": "ServiceException",
            "errorMessage": "Abandoned: the process running the invocation stopped before it finished, and its "
                            "caller (who waited for the answer) went with it; a synchronous invocation is not run "
                            "again."}


def _abandon(rows) -> int:
    return rows.update(status=Invocation.Status.FAILED, finished_at=timezone.now(), runner="", lease_until=None,
                       error=abandoned_error())


def sweep() -> int:
    """Sends again every asynchronous invocation whose lease ran out (a dead process's attempt, a
    retry that is due, a queued job that was lost) and finishes the synchronous ones past their
    deadline as abandoned; returns how many it sent. The lease keeper calls it periodically."""
    now = timezone.now()
    due = list(Invocation.objects.filter(status=Invocation.Status.RUNNING, lease_until__lt=now)
               .values_list("pk", "asynchronous", "runner")[:SWEEP_BATCH])
    sent = 0
    for invocation_id, asynchronous, runner in due:
        rows = Invocation.objects.filter(pk=invocation_id, status=Invocation.Status.RUNNING, runner=runner,
                                         lease_until__lt=now)
        if not asynchronous:
            if _abandon(rows):
                log.warning("invocation %s: abandoned by %s (past its deadline)", invocation_id, runner or "its caller")
            continue
        # Queued again under a fresh lease, by one sweeper only: its job then finds it free to claim.
        if rows.update(runner="", lease_until=queued_until()):
            if runner:
                log.info("taking over invocation %s from %s (its lease ran out)", invocation_id, runner)
            dispatch(invocation_id)
            sent += 1
    return sent


def resume(started_before: datetime) -> int:
    """At the start of the embedded mode's one process: finishes the synchronous invocations the
    previous process left running (recorded before `started_before`) as abandoned, and sends
    again every asynchronous one it left queued or running; returns how many it sent."""
    abandoned = _abandon(Invocation.objects.filter(status=Invocation.Status.RUNNING, asynchronous=False,
                                                   started_at__lt=started_before))
    if abandoned:
        log.warning("finished %d synchronous invocation(s) the previous process left running as abandoned", abandoned)
    left = Invocation.objects.filter(status=Invocation.Status.RUNNING, asynchronous=True).exclude(runner=process_id())
    left.exclude(runner="").update(runner="", lease_until=queued_until())
    now = timezone.now()
    ids = list(left.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
               .order_by("started_at").values_list("pk", flat=True))
    for invocation_id in ids:
        dispatch(invocation_id)
    return len(ids)


def start_sweeping(keeper) -> None:
    """Has `keeper` (a process's lease keeper) sweep the invocations every SWEEP_SECONDS."""
    keeper.every(SWEEP_SECONDS, sweep)
