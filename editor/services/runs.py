"""One run of an execution: take its lease, run runtime.asl from its stored history, record how it
ended. The run's seams are a checkpointing sink (editor.services.checkpoints), the Task invoker
(editor.services.task_invoker) and its host: the Executor of the process (editor.services.executor),
whose keeper renews the lease and passes stops, and whose thread budgets bound Maps and Parallels.

A run ends in one of four ways: the execution ends (its status is stored and broadcast); it parks
in long Waits or callback Tasks, at the top level or in every branch and iteration still going (the
lease is given back until the first is due or a token is answered); it is suspended because
its process stops (its events are written and its lease handed back at once, for the next start or
another worker); or it is abandoned (another process holds the execution now: it writes nothing).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Protocol

from django.db import DatabaseError, close_old_connections, connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from editor import messages
from editor.models import Execution, ExecutionEvent, Invocation, MapRun, StateMachineVersion
from editor.services import leases, task_tokens
from editor.services.broadcast import broadcast, execution_group
from editor.services.checkpoints import Abandoned, EventRecorder, stored_history, update_where

__all__ = ["Host", "run_guarded", "finish_execution", "abort_stopped", "TERMINAL_EVENTS", "execution_ended"]

log = logging.getLogger(__name__)

# Sent once an execution's end is stored (`execution` the ended Execution): its task tokens close,
# a nested execution's parent goes on (editor.services.nested_executions receives it).
execution_ended = Signal()

TERMINAL_EVENTS = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED",
                   "ExecutionTimedOut": "TIMED_OUT", "ExecutionAborted": "ABORTED"}


class Host(Protocol):
    """What a run needs of the process running it (editor.services.executor.Executor)."""

    abandoned: bool
    keeper: leases.Keeper

    def thread_budget(self, user_id):
        """Returns the ThreadBudget for one run of `user_id`'s."""


_machines: dict[int, object] = {}
_machines_lock = threading.Lock()


def compiled(version: StateMachineVersion, map_run: MapRun | None = None):
    """Returns the compiled runtime.asl machine of a version (immutable, so compiled once); with
    `map_run`, what a Distributed Map's child runs: its Map Run's item processor."""
    from runtime.asl import StateMachine

    key = version.pk if map_run is None else map_run.pk
    with _machines_lock:
        machine = _machines.get(key)
    if machine is None:
        definition = version.definition if map_run is None else json.loads(map_run.definition)
        machine = StateMachine(definition, version.type)
        with _machines_lock:
            if len(_machines) > 256:
                _machines.clear()
            _machines[key] = machine
    return machine


# A version's run setup: the version with its role, and its machine with its owner and the owner's
# account, read again at most this often (a busy machine's runs share one reading).
SETUP_SECONDS = 1.0
_setups: dict[int, tuple] = {}
# The Map Runs of the children this process ran, with what a child's run reads of its run: its
# label (its ARNs name it) and its item processor. Neither changes, so each is read once.
_map_runs: dict = {}


def _with_setup(execution: Execution) -> Execution:
    """Returns `execution` with its version (and role) and machine (and owner, and account) set.
    Read once a second per version, not with every run: one query joining five tables cost more
    (1.3 ms, mostly building it) than the rest of a run's reads. A version never changes, nor
    does its role or its machine's name and owner; anything else of them a run uses is at most a
    second old, as a role's policy is (editor.services.task_invoker). A Distributed Map's child
    also gets its Map Run (its label and item processor: see _map_runs)."""
    found = _setups.get(execution.version_id)
    if found is None or time.monotonic() - found[1] >= SETUP_SECONDS \
            or found[0].machine_id != execution.machine_id:
        version = (StateMachineVersion.objects.select_related("role", "machine__owner__aws_account")
                   .get(pk=execution.version_id))
        if len(_setups) > 256:
            _setups.clear()
        found = _setups[execution.version_id] = (version, time.monotonic())
    version = found[0]
    execution.version = version
    execution.machine = version.machine
    if execution.map_run_id is not None:
        run = _map_runs.get(execution.map_run_id)
        if run is None:
            if len(_map_runs) > 256:
                _map_runs.clear()
            run = _map_runs[execution.map_run_id] = (MapRun.objects.only("label", "definition")
                                                     .get(pk=execution.map_run_id))
        execution.map_run = run
    return execution


def run_guarded(execution_id, host: Host, steal: bool = False, reserved: bool = False,
                keep_connection: bool = False) -> bool:
    """Runs (or continues, from its stored events) one RUNNING execution if this process can take
    its lease: to its end, or until it parks, is suspended or abandoned; returns whether it took
    the lease (`steal` takes it whoever holds it; `reserved`: this process holds it for this job,
    see leases.reserve). A database that failed
    leaves the execution RUNNING (its lease runs out and a process that can reach the database
    resumes it); any other error is Flowbench's own and fails the execution, saying so, unless
    the run had already lost the execution."""
    # On an executor's thread a SQLite connection stays from one run to the next (opening one costs
    # more than a short execution's writes); a pooled PostgreSQL one goes back to the pool after each.
    keep = keep_connection and connection.vendor == "sqlite"
    if not keep:
        close_old_connections()
    token = None
    try:
        token = leases.acquire(execution_id, steal=steal, reserved=reserved)
        if token is not None:   # else another process runs it, or it has ended
            _run_leased(execution_id, token, host)
    except Abandoned:
        pass
    except DatabaseError:
        keep = False
        log.exception("execution %s: the database failed; it resumes when its lease runs out", execution_id)
    except Exception:
        log.exception("execution %s stopped on an internal error", execution_id)
        if token is not None and not host.abandoned:
            _fail_internal(execution_id, token)
    finally:
        if not keep or connection.in_atomic_block:
            connection.close()
    return token is not None


def _run_leased(execution_id, token: int, host: Host) -> None:
    from editor.services.accounts import account_id, execution_context
    from editor.services.task_invoker import TaskInvoker
    from flowbench.connections import release_connection
    from runtime.asl import Clock, Parked, Suspended

    execution = _with_setup(Execution.objects.get(pk=execution_id))
    # The first lease ever taken (token 1): no run wrote an event before this one.
    history = stored_history(execution.id) if token > 1 else []
    if history and history[-1]["type"] in TERMINAL_EVENTS:
        _finish_from_event(execution, history[-1], token)
        return
    if history:
        _close_orphaned_invocations(execution)
    cancel, suspend = threading.Event(), threading.Event()
    if execution.stop_requested:
        if history:
            # Stopped while no process ran it: close its history here.
            abort_stopped(execution, history, token)
            return
        cancel.set()   # stopped before it started: the engine writes Started, then Aborted
    version = execution.version
    machine = compiled(version, execution.map_run)
    recorder = EventRecorder(execution.id, token, host,
                             entered=sum(e["type"].endswith("StateEntered") for e in history))
    owner = execution.machine.owner
    account = owner.aws_account.account_id if hasattr(owner, "aws_account") else account_id(owner)
    invoker = TaskInvoker(execution, version.role, recorder=recorder, account=account)
    # Its ARNs ($$.Execution.Id, $$.StateMachine.Id) are the ones the AWS API names it by.
    context = {**execution_context(execution, account), "roleArn": f"arn:aws:iam::{account}:role/{version.role_name}",
               "redriveCount": execution.redrive_count, "synchronous": execution.synchronous}
    keeper = host.keeper
    keeper.track(execution.id, token, cancel, suspend, recorder)
    # The run holds no pooled connection while it goes on: its Map and Parallel threads, the
    # checkpointer and other runs share the process's few (on PostgreSQL; see release_connection).
    release_connection()
    try:
        result = machine.run(json.loads(execution.input), invoker=invoker, clock=Clock(), context=context,
                             sink=recorder, cancel=cancel, suspend=suspend, resume_from=history or None,
                             park_after=leases.lease_seconds(),
                             threads=host.thread_budget(execution.machine.owner_id))
    except Parked as parked:
        recorder.flush()
        # Untracked before the lease is given back: a stop from now on either finds the run gone
        # from this process's keeper and takes the lease itself, or finds the lease still held
        # and makes `release` refuse (stop_requested), so the run aborts the execution below. (A
        # stop between the two steps would otherwise set the switch of a run that has ended, and
        # wait for the parked Wait to be due.)
        keeper.untrack(execution.id, recorder)
        until = parked.until
        if leases.release(execution.id, token, until):
            keeper.wake_at(execution.id, until)
            if task_tokens.claim_answered(execution.id):   # a task token was answered while the run parked
                keeper.dispatch(execution.id)
        elif Execution.objects.filter(pk=execution.id, lease_token=token).exists():
            abort_stopped(execution, stored_history(execution.id), token)   # a stop came meanwhile
        return
    except Suspended:
        recorder.flush()
        leases.hand_back(execution.id, token)
        return
    except Abandoned:
        return
    finally:
        keeper.untrack(execution.id, recorder)
    # Its last events and its end in one write (raises Abandoned if the run lost the execution).
    # The tokens to close at the end: none, when no run before this one took the lease and this
    # one issued none.
    finish_execution(execution, result.status, result.output_json, result.error, result.cause, token, recorder,
                     close_tokens=token > 1 or invoker.issued_tokens)


def _close_orphaned_invocations(execution: Execution) -> None:
    """Marks failed the function invocations a dead run left running (its worker died while the
    function ran): the resumed run holds the lease, so no live run of this execution waits for
    them. (A stalled run that lost its lease and still finishes its call records its outcome.)"""
    Invocation.objects.filter(execution_id=execution.pk, status=Invocation.Status.RUNNING).update(
        status=Invocation.Status.FAILED, finished_at=timezone.now(),
        error={"errorType": "ServiceException",
               "errorMessage": "The worker running this invocation stopped before it finished."})


def finish_execution(execution: Execution, status, output, error, cause, token: int | None,
                     recorder: EventRecorder | None = None, close_tokens: bool = True) -> None:
    """Stores how the execution ended (if `token` still holds its lease; None: whoever holds it)
    and tells its watchers. With the run's `recorder`, in the write of its last events (raises
    Abandoned, storing nothing, when the run lost the execution). `close_tokens`: the execution
    may have task tokens (which then take no answer any more)."""
    aborted = status == "ABORTED"
    if aborted:   # a stop's error and cause, stored with the stop request, stay
        execution.refresh_from_db(fields=["error", "cause"])
    ended = {}

    def write():
        # A state transition is a state entered (as the engine counts them): counted over the
        # whole stored history (the run's recorder counts them as it records them), the figure
        # stays right across resumes and redrives.
        entered = (recorder.entered if recorder is not None else
                   ExecutionEvent.objects.filter(execution_id=execution.pk, type__endswith="StateEntered").count())
        held = {"id": execution.pk, "status": Execution.Status.RUNNING}
        if token is not None:
            held["lease_token"] = token
        end = {"status": status, "output": output,
               "error": execution.error if aborted and execution.error else error,
               "cause": execution.cause if aborted and execution.cause else cause,
               "stopped_at": timezone.now(), "transitions": entered, "lease_owner": "", "lease_until": None}
        if update_where(Execution, end, held):
            if close_tokens:
                task_tokens.close_all(execution)   # none of its tokens takes an answer now
            ended.update(end)

    if recorder is None:
        with transaction.atomic():
            write()
    else:
        recorder.also(write)
        recorder.flush()
    if ended:
        for field, value in ended.items():   # the row as written (the run held it: nothing else changed it)
            setattr(execution, field, value)
        broadcast(execution_group(execution.id), messages.status_group_message(execution))
        execution_ended.send(Execution, execution=execution)


def _finish_from_event(execution: Execution, event: dict, token: int) -> None:
    status = TERMINAL_EVENTS[event["type"]]
    details = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
    output = details.get("output") if status == "SUCCEEDED" else None
    finish_execution(execution, status, output, details.get("error"), details.get("cause"), token)


def abort_stopped(execution: Execution, history: list[dict], token: int) -> None:
    """Ends an execution no run is running (stopped while queued, parked, or left by a process
    that stopped): ExecutionAborted after its last event."""
    from runtime.asl import Clock

    last = history[-1]["id"]
    recorder = EventRecorder(execution.id, token)
    recorder({"id": last + 1, "previousEventId": last, "timestamp": Clock().timestamp(),
              "type": "ExecutionAborted", "executionAbortedEventDetails": {}})
    try:
        recorder.flush()
    except Abandoned:
        return
    finish_execution(execution, "ABORTED", None, None, None, token)


def _fail_internal(execution_id, token: int) -> None:
    execution = Execution.objects.filter(pk=execution_id).first()
    if execution is not None:
        finish_execution(execution, "FAILED", None, "States.Runtime",
                         "Flowbench could not run this execution (an internal error; see the server log).", token)
