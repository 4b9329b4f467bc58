"""A validated, compiled state machine, and the runs of it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from .clock import Clock
from .errors import DefinitionError, StatesError
from .branches import ThreadBudget
from .execution import Aborted, ExecutionContext, ExecutionTimedOut, Frame, Parked, Run, Suspended, to_json
from .executor import JSONPATH, PAYLOAD_LIMIT, Program, run_sequence
from .history import HistoryIndex, Resumed, position, top_level_events
from . import states  # noqa: F401  (each state type registers itself with the executor)
from .timestamps import parse_timestamp
from .validation import validate

__all__ = ["StateMachine", "ExecutionResult", "Parked", "Suspended"]

_NOT_TRUNCATED = {"truncated": False}
_DEFAULT_CLOCK = Clock()


@dataclass
class ExecutionResult:
    """How a run ended: status, output or error and cause, and its whole history."""

    status: str
    output: object = None
    error: str | None = None
    cause: str | None = None
    history: list = field(default_factory=list)
    transitions: int = 0

    @property
    def output_json(self) -> str | None:
        return None if self.status != "SUCCEEDED" else to_json(self.output)


class StateMachine:
    """A definition validated and compiled once, to be run any number of times.

    `StateMachine(definition)` takes a dict or JSON text and raises DefinitionError (with
    `.diagnostics`) when it does not validate. Every path, template, intrinsic call and JSONata
    expression is parsed here, never while a run goes on. `machine_type` is "STANDARD" or
    "EXPRESS" (Express machines may not use .sync or .waitForTaskToken resources)."""

    def __init__(self, definition, machine_type: str = "STANDARD"):
        if isinstance(definition, (bytes, bytearray)):
            definition = definition.decode("utf-8", errors="replace")
        diagnostics = validate(definition, state_machine_type=machine_type)
        self.machine_type = machine_type
        if any(d.severity == "ERROR" for d in diagnostics):
            raise DefinitionError(diagnostics)
        if isinstance(definition, str):
            definition = json.loads(definition)
        self.definition = definition
        self.warnings = diagnostics
        self.timeout_seconds = definition.get("TimeoutSeconds")
        self.program = Program(definition, definition.get("QueryLanguage", JSONPATH))

    def run(self, input=None, invoker=None, clock=None, context=None, sink=None, *,
            cancel: threading.Event | None = None, resume_from: list | None = None,
            park_after: float | None = None, suspend: threading.Event | None = None,
            threads: ThreadBudget | None = None) -> ExecutionResult:
        """Runs one execution to its end and returns its ExecutionResult.

        `invoker` runs Task functions (see runtime.asl.invoker); `clock` defaults to the real one
        (FakeClock makes waits instant); `context` names the execution (stateMachineName,
        executionName, roleArn, region, accountId, redriveCount; `synchronous` for an Express
        execution started with StartSyncExecution, `expressId` its id; `mapRunLabel` for a
        Distributed Map's child, its Map's label); `sink(event)` receives each history
        event as it is appended; setting `cancel` aborts the run. `resume_from`, the history of
        an earlier, interrupted run of this machine, continues that run instead of starting anew:
        from the top-level state it had entered and not left (without entering it again), else
        after its last completed one. With `park_after` (seconds), a Wait at least that long,
        or a `.waitForTaskToken` Task still without its answer, raises Parked instead of holding
        its thread, at the top level or inside Parallel branches and Map iterations (once their
        siblings have ended or parked too): the host resumes the run when it is due.
        Setting `suspend`, then `cancel`, raises Suspended: the run stops without ending the
        execution, for a later run to continue (the host is shutting down). `threads` bounds the
        helper threads of its Maps and Parallels (see runtime.asl.branches)."""
        clock = clock or _DEFAULT_CLOCK
        seams = {"invoker": invoker, "sink": sink, "cancel": cancel, "park_after": park_after,
                 "suspend": suspend, "threads": threads}
        if resume_from:
            return self._resume(resume_from, clock, context, seams)
        start = clock.now()
        deadline = start + timedelta(seconds=self.timeout_seconds) if self.timeout_seconds else None
        ctx = ExecutionContext({"stateMachineType": self.machine_type, **(context or {})}, input,
                               start)
        run = Run(clock=clock, context=ctx, deadline=deadline, **seams)
        input_text = to_json(input)
        started = {"input": input_text, "inputDetails": _NOT_TRUNCATED, "roleArn": ctx.role_arn}
        if self.timeout_seconds:
            started["timeoutInSeconds"] = self.timeout_seconds
        run.emit(None, "ExecutionStarted", "executionStartedEventDetails", started)
        if len(input_text.encode()) > PAYLOAD_LIMIT:
            return self._fail(run, StatesError(
                "The state machine input exceeds the maximum number of bytes service limit.",
                "States.DataLimitExceeded"))
        frame = Frame(run, {}, 1)
        return self._drive(run, frame, input, None, input_text)

    def _drive(self, run: Run, frame: Frame, value, start_at: str | None,
               text: str | None = None, resumed: Resumed | None = None) -> ExecutionResult:
        try:
            output, text = run_sequence(self.program, value, frame, start_at, text, resumed)
        except StatesError as error:
            return self._fail(run, error)
        except ExecutionTimedOut:
            run.emit(None, "ExecutionTimedOut", "executionTimedOutEventDetails",
                     {"error": "States.Timeout"})
            return ExecutionResult("TIMED_OUT", None, "States.Timeout", None, run.history,
                                   run.transitions)
        except Aborted:
            run.emit(None, "ExecutionAborted", "executionAbortedEventDetails", {})
            return ExecutionResult("ABORTED", None, None, None, run.history, run.transitions)
        run.emit(None, "ExecutionSucceeded", "executionSucceededEventDetails",
                 {"output": text if text is not None else to_json(output),
                  "outputDetails": _NOT_TRUNCATED})
        return ExecutionResult("SUCCEEDED", output, None, None, run.history, run.transitions)

    @staticmethod
    def _fail(run: Run, error: StatesError) -> ExecutionResult:
        details = {}
        if error.cause is not None:
            details["cause"] = error.cause
        if error.error is not None:
            details["error"] = error.error
        run.emit(None, "ExecutionFailed", "executionFailedEventDetails", details)
        return ExecutionResult("FAILED", None, error.error, error.cause, run.history,
                               run.transitions)

    # -- resuming --------------------------------------------------------------------------------

    def _resume(self, history, clock, context, seams: dict) -> ExecutionResult:
        """Continues an interrupted run.

        Top-level states are those named in the machine's own States; their Exited events carry
        the output and the variables assigned, which is all a run needs to go on. A top-level
        state entered and not left is continued as a Resumed visit with its own events; a Map or
        Parallel continued so finds its iterations and branches in the history (runtime.asl.history)."""
        events = sorted(history, key=lambda e: e["id"])
        started = next(e for e in events if e["type"] == "ExecutionStarted")
        start_details = started["executionStartedEventDetails"]
        input_value = json.loads(start_details["input"])
        start = parse_timestamp(started["timestamp"]) or clock.now()
        deadline = start + timedelta(seconds=self.timeout_seconds) if self.timeout_seconds else None
        ctx = ExecutionContext({"stateMachineType": self.machine_type, **(context or {})},
                               input_value, start)
        run = Run(clock=clock, context=ctx, deadline=deadline, first_event_id=events[-1]["id"] + 1,
                  **seams)
        run.history = list(events)
        top = top_level_events(events, self.program.states)
        value, variables, start_at, resumed = position(self.program, top, input_value, {},
                                                        HistoryIndex(events), clock.now())
        # The machine's own sequence goes on from its own last event: that of the visit left open
        # (a Map's or Parallel's last, not one of its iterations' or branches', which may come
        # later in the history), so that a Map resumed, then parked or stopped again, still finds
        # all of its own events by their links.
        last = events[-1]["id"]
        if resumed is not None:
            last = resumed.events[-1]["id"] if resumed.events else resumed.entered_id
        frame = Frame(run, variables, last)
        if start_at is None:
            run.emit(None, "ExecutionSucceeded", "executionSucceededEventDetails",
                     {"output": to_json(value), "outputDetails": _NOT_TRUNCATED})
            return ExecutionResult("SUCCEEDED", value, None, None, run.history, run.transitions)
        return self._drive(run, frame, value, start_at, None, resumed)
