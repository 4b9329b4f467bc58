"""One execution in progress: its history, its seams (clock, invoker, sink) and its context object.

A `Run` owns the history of an execution. Events are appended under a lock (Map iterations and
Parallel branches may run on threads) and passed to the sink as they happen. Each branch of the
execution has a `Frame`: the variables it sees, the id of the last event it emitted (AWS's
`previousEventId` links events within a branch, not across branches) and, inside a Map iteration,
the item it runs on.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timezone

import orjson

from runtime.arn import execution_arn, function_arn, state_machine_arn, state_machine_name

from .branches import DEFAULT_RUN_THREADS, Parked, ThreadBudget
from .clock import Clock
from .errors import RuntimeFailure
from .history import HistoryIndex

__all__ = ["Run", "Frame", "ExecutionContext", "to_json", "iso_time", "Aborted", "ExecutionTimedOut",
           "Parked", "Suspended", "HISTORY_LIMIT"]

# An execution's history holds at most this many events, as in AWS; the run fails on reaching it.
HISTORY_LIMIT = 25_000

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def to_json(value) -> str:
    """Returns `value` as compact JSON text, as AWS writes payloads in history events.

    Every state's input and output is encoded for its events, so this is on the engine's hot
    path: orjson does it some twenty times faster than the standard library, which still takes
    what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _dumps(value)


def iso_time(moment: datetime) -> str:
    """Returns AWS's timestamp text for `moment`: UTC with milliseconds, e.g. 2024-01-01T00:00:00.000Z."""
    if moment.utcoffset():
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


class Aborted(Exception):
    """The execution was stopped from outside (`cancel` was set)."""


class ExecutionTimedOut(Exception):
    """The state machine's own TimeoutSeconds passed."""


class Suspended(Exception):
    """The host asked the run to stop where it stands without ending the execution (it is going
    away): the run emits nothing more, and a later run continues it from its history
    (`resume_from`), as if the host had died between two events."""


class ExecutionContext:
    """The names and ARNs an execution runs under: what `$$` / `$states.context` describe."""

    def __init__(self, context: dict | None, input_value, start: datetime):
        context = context or {}
        self.region = context.get("region") or "us-east-1"
        self.account = str(context.get("accountId") or "123456789012")
        self.machine_name = context.get("stateMachineName") or "StateMachine"
        self.machine_type = context.get("stateMachineType") or "STANDARD"
        self.execution_name = context.get("executionName") or str(uuid.uuid4())
        self.role_arn = context.get("roleArn") or f"arn:aws:iam::{self.account}:role/flowbench-execution"
        # A Distributed Map's child (the host's) runs the state machine MACHINE/LABEL, its Map's
        # label (`mapRunLabel`): its ARNs and StateMachine.Name say so, as the API's do.
        label = context.get("mapRunLabel") or None
        self.labelled_name = state_machine_name(self.machine_name, label)
        self.machine_arn = state_machine_arn(self.machine_name, self.region, self.account, label)
        # An Express execution's ARN ends in an id of its own; the host may give it (`expressId`).
        express_id = (str(context.get("expressId") or uuid.uuid4()) if self.machine_type == "EXPRESS"
                      else None)
        self.execution_arn = execution_arn(self.machine_name, self.execution_name, self.region,
                                           self.account, express_id, label)
        self.redrive_count = int(context.get("redriveCount") or 0)
        # Started with StartSyncExecution (Express only): the caller waits for the result.
        self.synchronous = self.machine_type == "EXPRESS" and bool(context.get("synchronous"))
        self.start_time = iso_time(start)
        self.input = input_value

    def lambda_arn(self, name: str, region: str | None = None, account: str | None = None) -> str:
        """Returns the ARN of function `name` in `region` and `account` (those the Task's resource
        names), by default this execution's."""
        return function_arn(name, region or self.region, account or self.account)

    def object(self, state_name: str, entered_time: str, retry_count: int | None = None,
               map_item: tuple | None = None) -> dict:
        """Returns the context object (`$$`) for a state about to run; `retry_count` is given for
        Task states only, the only ones whose context AWS gives a RetryCount."""
        ctx = {
            "Execution": {
                "Id": self.execution_arn,
                "Input": self.input,
                "StartTime": self.start_time,
                "Name": self.execution_name,
                "RoleArn": self.role_arn,
            },
            "StateMachine": {"Id": self.machine_arn, "Name": self.labelled_name},
            "State": {"Name": state_name, "EnteredTime": entered_time},
        }
        if not self.synchronous:
            # As AWS recorded: an Express execution started with StartSyncExecution has no
            # RedriveCount in its context (one started with StartExecution has, 0).
            ctx["Execution"]["RedriveCount"] = self.redrive_count
        if retry_count is not None:
            ctx["State"]["RetryCount"] = retry_count
        if map_item is not None:
            ctx["Map"] = {"Item": {"Index": map_item[0], "Value": map_item[1]}}
        return ctx


class Run:
    """The history and seams of one execution."""

    # TestState sets a dict here: the state it runs records each step of its input and output
    # processing in it (State.attempt); None in an execution.
    inspection: dict | None = None

    def __init__(self, *, clock: Clock, invoker, sink, context: ExecutionContext,
                 cancel: threading.Event | None = None, deadline: datetime | None = None,
                 first_event_id: int = 1, park_after: float | None = None,
                 suspend: threading.Event | None = None, threads: ThreadBudget | None = None):
        self.clock = clock
        self.invoker = invoker
        # Called on each helper thread (Map iterations, Parallel branches) as it ends.
        self.thread_done = getattr(invoker, "thread_done", None)
        self.sink = sink
        self.context = context
        self.cancel = cancel or threading.Event()
        # Set with `cancel` (which wakes what sleeps): stop without ending the execution.
        self.suspend = suspend or threading.Event()
        # The helper threads this run's Map iterations and Parallel branches may hold at once.
        self.threads = threads or ThreadBudget(DEFAULT_RUN_THREADS)
        self.deadline = deadline
        # Waits of at least this many seconds, and Tasks waiting for a token's answer, raise Parked
        # instead of holding their thread (see runtime.asl.branches.Parked); None: they never do.
        self.park_after = park_after
        self.history: list[dict] = []
        self.transitions = 0
        self._next_id = first_event_id
        self._lock = threading.Lock()

    def emit(self, frame: "Frame | None", type_: str, details_key: str | None = None,
             details: dict | None = None) -> int:
        """Appends an event to the history, passes it to the sink, returns its id.

        Only the execution's own closing event may take the last id of the history limit: any
        other event there raises States.Runtime, which fails the execution."""
        with self._lock:
            event_id = self._next_id
            if event_id >= HISTORY_LIMIT and not type_.startswith("Execution"):
                raise RuntimeFailure(f"The execution reached the maximum number of events in its "
                                     f"history ({HISTORY_LIMIT}).")
            self._next_id += 1
            event = {
                "id": event_id,
                "previousEventId": frame.last_event if frame is not None else event_id - 1,
                "timestamp": self.clock.timestamp(),
                "type": type_,
            }
            if details_key is not None:
                event[details_key] = details if details is not None else {}
            if frame is not None:
                frame.last_event = event_id
            self.history.append(event)
            if self.sink is not None:
                self.sink(event)
        return event_id

    def history_index(self) -> HistoryIndex:
        """Returns the history so far, indexed: where a parked branch or iteration called again
        finds how far it got."""
        with self._lock:
            events = list(self.history)
        return HistoryIndex(events)

    def check_alive(self) -> None:
        """Raises Suspended, Aborted or ExecutionTimedOut when the run must stop now."""
        if self.cancel.is_set():
            if self.suspend.is_set():
                raise Suspended()
            raise Aborted()
        if self.deadline is not None and self.clock.now() >= self.deadline:
            raise ExecutionTimedOut()

    def sleep(self, seconds: float) -> None:
        """Waits `seconds` on the run's clock; stops early for an abort or the machine's timeout."""
        if seconds > 0 and self.deadline is not None:
            remaining = (self.deadline - self.clock.now()).total_seconds()
            if remaining < seconds:
                self.clock.sleep(max(remaining, 0), self.cancel)
                self.check_alive()
                raise ExecutionTimedOut()
        self.clock.sleep(seconds, self.cancel)
        self.check_alive()

    def remaining_seconds(self) -> float | None:
        """Returns the seconds left before the machine's TimeoutSeconds, or None without one."""
        if self.deadline is None:
            return None
        return max((self.deadline - self.clock.now()).total_seconds(), 0.0)


class Frame:
    """Where a sequence of states runs: the top level, a Parallel branch or a Map iteration."""

    __slots__ = ("run", "variables", "last_event", "map_item", "top", "resumed")

    def __init__(self, run: Run, variables: dict, last_event: int, map_item: tuple | None = None,
                 top: bool = True):
        self.run = run
        self.variables = variables
        self.last_event = last_event
        self.map_item = map_item
        # The machine's own sequence (not a branch or an iteration): the state TestState runs.
        self.top = top
        # The state visit a resumed run continues (a Resumed), while that state runs again.
        self.resumed = None

    def child(self, after: int, map_item: tuple | None = None, variables: dict | None = None) -> "Frame":
        """Returns a frame for a branch or iteration whose events follow event `after` (its
        ParallelStateStarted or MapIterationStarted): it sees a copy of these variables (or
        `variables`), so what it assigns stays inside it."""
        return Frame(self.run, dict(self.variables if variables is None else variables), after, map_item,
                     top=False)

    def emit(self, type_: str, details_key: str | None = None, details: dict | None = None) -> int:
        return self.run.emit(self, type_, details_key, details)
