"""TestState: one state of a definition run on its own, each step of its input and output shown.

    result = run_test_state({"Type": "Pass", "Parameters": {"x.$": "$.a"}, "End": True}, {"a": 1})
    result.status, result.output, result.next_state, result.inspection["afterParameters"]

What AWS's TestState does, with the engine's own code: the state is compiled as in a machine and
run once through `State.attempt`, which records each step it takes in `Run.inspection`:

    JSONPath:  input -> afterInputPath -> afterParameters -> result -> afterResultSelector
               -> afterResultPath -> output (after OutputPath)
    JSONata:   input -> afterArguments -> result -> output          (variables after Assign)

and a Map adds afterItemsPath (JSONPath), afterItemSelector (each iteration's input) and
maxConcurrency before its result.

`definition` is one state (a dict with a Type) or a whole machine with `state_name` (its StartAt
when none is given). How it ends is one of AWS's statuses:

    SUCCEEDED      the output and the next state (none when the state ends its machine)
    FAILED         the error and cause (a Fail state, or an error no Catch takes)
    RETRIABLE      a Retry rule would run it again: its index and the seconds it would wait first
                   (`retrier_retry_count` says how many retries it has already had)
    CAUGHT_ERROR   a Catch rule took the error: its index, its output and its Next

Nothing waits: a Wait state is not waited (its fields are still evaluated), a Retry is reported,
not run. A Task calls its function through `invoker`, as in an execution, unless a `MockOutcome`
gives its result or its error instead. Map and Parallel run their iterations and branches for real (AWS
needs a mock for them; Flowbench can do both). A `.waitForTaskToken` or `.sync` task needs a mock:
nobody would ever answer its token here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import states  # noqa: F401  (each state type registers itself with the executor)
from .clock import FakeClock
from .diagnostics import ERROR, SCHEMA, Diagnostic
from .errors import DefinitionError, StatesError, error_matches
from .execution import ExecutionContext, Frame, Run, to_json
from .executor import JSONATA, JSONPATH, PAYLOAD_LIMIT, Program
from .validation import validate

__all__ = ["run_test_state", "MockOutcome", "TestStateResult", "TestStateRefused", "STEPS"]

# The steps of inspectionData in the order a state takes them (AWS's member names).
STEPS = ("input", "afterInputPath", "afterParameters", "afterArguments", "afterItemsPath",
         "afterItemSelector", "result", "afterResultSelector", "afterResultPath", "variables")
# inspectionData's members that are numbers rather than JSON text.
_FIGURES = ("maxConcurrency",)
_TRANSITIONS = ("Next", "Default")


class TestStateRefused(ValueError):
    """A request TestState cannot run as asked; `member` names the request's field at fault."""

    __test__ = False

    def __init__(self, member: str, message: str):
        super().__init__(message)
        self.member = member


@dataclass
class MockOutcome:
    """A Task's (or Map's, Parallel's) mocked outcome: its result, or its error and cause."""

    result: object = None
    error: str | None = None
    cause: str | None = None
    failing: bool = False

    @classmethod
    def failure(cls, error: str | None, cause: str | None) -> "MockOutcome":
        return cls(error=error, cause=cause, failing=True)


@dataclass
class TestStateResult:
    """How the tested state ended (see the module's docstring); `inspection` holds the values of
    STEPS it took, in order, and `error_details` the Retry or Catch rule that took its error."""

    __test__ = False

    status: str
    state_name: str
    output: object = None
    has_output: bool = False
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    inspection: dict = field(default_factory=dict)
    error_details: dict = field(default_factory=dict)

    def as_dict(self, inspection_level: str = "INFO") -> dict:
        """Returns AWS's TestStateOutput: payloads as JSON text; inspectionData at DEBUG and TRACE."""
        shape = {"status": self.status}
        if self.has_output:
            shape["output"] = to_json(self.output)
        if self.error is not None:
            shape["error"] = self.error
        if self.cause is not None:
            shape["cause"] = self.cause
        if self.next_state is not None:
            shape["nextState"] = self.next_state
        if inspection_level in ("DEBUG", "TRACE"):
            data = {key: to_json(self.inspection[key]) for key in STEPS if key in self.inspection}
            data.update({key: self.inspection[key] for key in _FIGURES if key in self.inspection})
            if self.error_details:
                data["errorDetails"] = dict(self.error_details)
            shape["inspectionData"] = data
        return shape


def _targets(spec: dict) -> set[str]:
    """Returns the names of the states a state's spec may go to next."""
    names = {spec[key] for key in _TRANSITIONS if isinstance(spec.get(key), str)}
    for key in ("Choices", "Catch"):
        for rule in spec.get(key) or ():
            if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
                names.add(rule["Next"])
    return names


def _machine_for(definition, state_name: str | None) -> tuple[dict, str]:
    """Returns (a machine holding the state to test, that state's name). A lone state is set in a
    machine of its own, beside stand-ins for the states it names as next, so that it validates as
    it would in any machine that has them. Raises DefinitionError, or TestStateRefused for a
    `state_name` the machine does not have."""
    if isinstance(definition, (bytes, bytearray)):
        definition = definition.decode("utf-8", errors="replace")
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError as exc:
            raise DefinitionError([Diagnostic(ERROR, "INVALID_JSON_DESCRIPTION",
                                              f"The definition is not JSON: {exc}", "/")])
    if not isinstance(definition, dict):
        raise DefinitionError([Diagnostic(ERROR, SCHEMA, "The definition must be a JSON object", "/")])
    if "States" in definition:
        name = state_name or definition.get("StartAt")
        found = definition.get("States")
        if isinstance(found, dict) and name not in found:
            raise TestStateRefused("stateName", f"stateName '{name}' names no state of the definition's States.")
        return definition, name
    if "Type" not in definition:
        raise DefinitionError([Diagnostic(
            ERROR, SCHEMA, "The definition is neither a state (it has no Type) nor a state machine "
            "(it has no States)", "/")])
    name = state_name or "TestState"
    machine_states = {name: definition}
    for target in _targets(definition) - {name}:
        machine_states[target] = {"Type": "Succeed"}
    machine = {"StartAt": name, "States": machine_states}
    if definition.get("QueryLanguage") == JSONATA:
        # A JSONata state stands in a JSONata machine (a JSONPath one may hold it, but not the
        # reverse), so its stand-ins and checks are JSONata's.
        machine["QueryLanguage"] = JSONATA
    return machine, name


def _merge(base: dict, extra: dict) -> dict:
    """Returns `base` with `extra`'s members over it, objects merged member by member."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _needs_mock(state) -> bool:
    """Returns whether a state can only be tested with a mock: a task waiting for a callback or
    for another job (nobody would ever answer it here)."""
    resource = getattr(state, "resource", "")
    return isinstance(resource, str) and resource.endswith((".waitForTaskToken", ".sync", ".sync:2"))


def _mocked(mock: MockOutcome):
    """Returns an `execute` for a state whose outcome `mock` gives instead of its work."""
    def execute(frame, value, raw_input, ctx, entered_id):
        if mock.failing:
            raise StatesError(mock.cause, mock.error)
        return mock.result
    return execute


def run_test_state(definition, input=None, *, state_name: str | None = None, invoker=None,
                   mock: MockOutcome | None = None, variables: dict | None = None,
                   context: dict | None = None, execution: dict | None = None,
                   retrier_retry_count: int = 0, machine_type: str = "STANDARD") -> TestStateResult:
    """Runs one state on `input` and returns its TestStateResult (see the module's docstring).

    `invoker` runs its Task's function (runtime.asl.invoker); `mock` replaces that call (or a Map's
    or Parallel's work); `variables` are the workflow variables it sees; `context` is merged
    into the context object (`$$`, `$states.context`) the engine gives it; `execution` names the
    execution as `StateMachine.run`'s context does (stateMachineName, roleArn, accountId, ...).

    Raises DefinitionError when the definition does not validate, TestStateRefused when the
    request cannot be run as asked (its `member` says which field)."""
    machine, name = _machine_for(definition, state_name)
    diagnostics = validate(machine, state_machine_type=machine_type)
    if any(d.severity == ERROR for d in diagnostics):
        raise DefinitionError(diagnostics)
    program = Program(machine, machine.get("QueryLanguage", JSONPATH))
    state = program.states[name]
    if mock is not None:
        if state.type_name not in ("Task", "Map", "Parallel"):
            raise TestStateRefused("mock", f"mock is for Task, Map and Parallel states only: "
                                           f"'{name}' is a {state.type_name} state.")
        state.execute = _mocked(mock)   # this compiled copy only: the definition is untouched
    elif _needs_mock(state):
        raise TestStateRefused("mock", f"The resource '{state.resource}' waits for an answer that "
                                       f"would never come here: give a mock (mock.result or mock.errorOutput).")
    if variables is not None and not isinstance(variables, dict):
        raise TestStateRefused("variables", "variables must be a JSON object.")
    # Virtual time that starts now: $$.State.EnteredTime is real, and a Wait is not waited.
    clock = FakeClock(datetime.now(timezone.utc))
    ctx_names = {"stateMachineType": machine_type, **(execution or {})}
    run = Run(clock=clock, invoker=invoker, sink=None,
              context=ExecutionContext(ctx_names, input, clock.now()))
    run.inspection = {"input": input}
    frame = Frame(run, dict(variables or {}), 0)
    entered_id = frame.emit(state.entered_type, "stateEnteredEventDetails",
                            {"name": name, "input": to_json(input)})
    entered_time = clock.timestamp()
    result = TestStateResult("SUCCEEDED", name, inspection=run.inspection)

    def context_for(retry_count: int = 0):
        ctx = state.context_object(frame, entered_time, retry_count)
        return _merge(ctx, context) if ctx is not None and context else ctx

    try:
        output, assigned, next_name = state.attempt(frame, input, context_for(retrier_retry_count),
                                                    entered_id)
    except StatesError as exc:
        error = exc.with_state_prefix(name, entered_id)
        result.error, result.cause = error.error, error.cause
        if _retriable(state, error, retrier_retry_count, result):
            return result
        caught = _caught(state, frame, input, error, entered_time, result)
        if caught is None:
            result.status = "FAILED"
            return result
        output, assigned, next_name = caught
        result.status = "CAUGHT_ERROR"
    if assigned is not None:
        frame.variables.update(assigned)
    if frame.variables or variables is not None:
        result.inspection["variables"] = frame.variables
    text = to_json(output)
    if len(text) > PAYLOAD_LIMIT // 4 and len(text.encode()) > PAYLOAD_LIMIT:
        result.status, result.error = "FAILED", "States.DataLimitExceeded"
        result.cause = (f"The state/task '{name}' returned a result with a size exceeding the "
                        f"maximum number of bytes service limit.")
        return result
    result.output, result.has_output, result.next_state = output, True, next_name
    return result


def _retriable(state, error: StatesError, retry_count: int, result: TestStateResult) -> bool:
    """Returns whether a Retry rule of `state` takes `error` (the first whose ErrorEquals names it,
    as in an execution, while it has attempts left), and reports it in `result`."""
    if not error.retryable:
        return False
    for index, retrier in enumerate(state.retriers):
        if error_matches(retrier.error_equals, error.error):
            if retry_count >= retrier.max_attempts:
                return False
            result.status = "RETRIABLE"
            result.error_details = {"retryIndex": index,
                                    "retryBackoffIntervalSeconds": int(retrier.delay(retry_count))}
            return True
    return False


def _caught(state, frame, raw_input, error: StatesError, entered_time: str, result: TestStateResult):
    """Returns (output, assigned, next) when a Catch rule of `state` takes `error` (and reports
    which in `result`), else None. Raises nothing: a catcher that fails to evaluate fails the state."""
    if not error.catchable:
        return None
    for index, catcher in enumerate(state.catchers):
        if error_matches(catcher.error_equals, error.error):
            result.error_details = {"catchIndex": index}
            try:
                return state._caught(frame, raw_input, error, catcher, entered_time)
            except StatesError as failure:
                result.error, result.cause = failure.error, failure.cause
                result.error_details = {}
                return None
    return None
