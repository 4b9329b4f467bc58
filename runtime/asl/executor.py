"""What every state shares: input and output processing, Assign, Retry, Catch and their events.

A state module defines only its own meaning (`State.execute`). This module compiles the fields all
states have, in both query languages, and runs a state through them:

    JSONPath:  raw input -> InputPath -> Parameters -> execute -> ResultSelector -> ResultPath
               -> OutputPath                       (Assign sees the result; old variable values)
    JSONata:   raw input -> Arguments -> execute -> Output   (Assign and Output see $states.result)

and runs a sequence of states (`run_states`) from StartAt until a state ends it.

The state types build on `State` and import this module; it imports none of them. Each subclass
with a `type_name` is recorded in STATE_CLASSES as it is defined (`runtime.asl.states` defines them
all), and `Program` compiles a state with the class of its Type from there.
"""

from __future__ import annotations

import json
import random

from . import jsonata, jsonpath
from .errors import DataLimitExceeded, RuntimeFailure, StatesError, error_matches
from .execution import Frame, to_json
from .history import Resumed

__all__ = ["State", "STATE_CLASSES", "Program", "Resumed", "run_states", "run_sequence", "resume_sequence", "states_binding", "show",
           "as_number", "apply_io_path", "JSONPATH", "JSONATA", "PAYLOAD_LIMIT", "FAILURE_EVENTS"]

JSONPATH = "JSONPath"
JSONATA = "JSONata"
PAYLOAD_LIMIT = 256 * 1024
_NOT_TRUNCATED = {"truncated": False}
_IDENTITY = object()   # InputPath/OutputPath "$" or absent: the value itself
_EMPTY = object()      # InputPath/OutputPath null: an empty object


def _mentions(value, needle: str) -> bool:
    """Returns whether any string inside `value` contains `needle`."""
    if isinstance(value, str):
        return needle in value
    if isinstance(value, dict):
        return any(needle in k or _mentions(v, needle) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions(v, needle) for v in value)
    return False


def _compile_io_path(spec: dict, key: str):
    if key not in spec:
        return _IDENTITY
    text = spec[key]
    if text is None:
        return _EMPTY
    if text == "$":
        return _IDENTITY
    return jsonpath.compile_path(text)


def apply_io_path(path, value, ctx, variables):
    """Returns `value` through a compiled InputPath/OutputPath (identity, empty, or a path)."""
    if path is _IDENTITY:
        return value
    if path is _EMPTY:
        return {}
    return path.select(value, ctx, variables)


def states_binding(value, ctx) -> dict:
    """Returns JSONata's `$states` for a state's input (and its context object, when it reads it)."""
    return {"input": value, "context": ctx} if ctx is not None else {"input": value}


def show(value) -> str:
    """Returns a value as AWS quotes it in causes: a string bare, anything else as JSON."""
    return value if isinstance(value, str) else to_json(value)


def as_number(found, kind: str):
    """Returns `found` as an integer (kind "integer") or a number (kind "float"), reading numeric
    strings too, or None when it is not one."""
    if isinstance(found, bool):
        return None
    convert, accepted = (int, (int,)) if kind == "integer" else (float, (int, float))
    if isinstance(found, accepted):
        return found
    if isinstance(found, str):
        try:
            return convert(found)
        except ValueError:
            return None
    return None


class Retrier:
    __slots__ = ("error_equals", "interval", "max_attempts", "backoff", "max_delay", "jitter")

    def __init__(self, spec: dict):
        self.error_equals = tuple(spec["ErrorEquals"])
        self.interval = spec.get("IntervalSeconds", 1)
        self.max_attempts = spec.get("MaxAttempts", 3)
        self.backoff = spec.get("BackoffRate", 2.0)
        self.max_delay = spec.get("MaxDelaySeconds")
        self.jitter = spec.get("JitterStrategy", "NONE")

    def delay(self, attempt: int) -> float:
        """Returns the seconds to wait before retry number `attempt` (0-based)."""
        seconds = self.interval * (self.backoff ** attempt)
        if self.max_delay is not None:
            seconds = min(seconds, self.max_delay)
        if self.jitter == "FULL":
            seconds = random.uniform(0, seconds)
        return seconds


class Catcher:
    __slots__ = ("error_equals", "next", "result_path", "output", "assign")

    def __init__(self, spec: dict, query_language: str):
        self.error_equals = tuple(spec["ErrorEquals"])
        self.next = spec["Next"]
        spec_ql = query_language
        if spec_ql == JSONATA:
            self.result_path = None
            self.output = jsonata.compile_jsonata(spec["Output"], field="Output") \
                if "Output" in spec else None
            self.assign = jsonata.compile_jsonata(spec["Assign"], field="Assign") \
                if "Assign" in spec else None
        else:
            self.result_path = jsonpath.compile_result_path(spec.get("ResultPath", "$"))
            self.output = None
            self.assign = jsonpath.compile_template(spec["Assign"], field="Assign") \
                if "Assign" in spec else None


class Program:
    """A compiled sequence of states: the machine itself, a Parallel branch, a Map's processor."""

    def __init__(self, spec: dict, query_language: str, path: str = ""):
        self.start_at = spec["StartAt"]
        self.query_language = spec.get("QueryLanguage", query_language)
        self.states = {
            name: STATE_CLASSES[state_spec["Type"]](name, state_spec, self.query_language,
                                                    f"{path}/{name}")
            for name, state_spec in spec["States"].items()}
        # Runs on threads only where a state may block (a Task or Wait inside): CPU-only work runs
        # inline, which is faster in one Python process than any thread pool.
        self.blocking = any(state.blocking for state in self.states.values())


# The state classes by Type, filled as runtime.asl.states defines them (see State.__init_subclass__).
STATE_CLASSES: dict[str, type["State"]] = {}


class State:
    """A compiled state: its name, type, transitions and the fields every state may have."""

    type_name = ""
    has_result = False      # Task, Map, Parallel produce a result distinct from their input
    failed_type = None      # the event Parallel and Map emit when they fail
    blocking = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.type_name:
            STATE_CLASSES[cls.type_name] = cls

    def __init__(self, name: str, spec: dict, query_language: str, path: str):
        self.name = name
        self.path = path
        self.spec = spec
        self.query_language = spec.get("QueryLanguage", query_language)
        self.next = spec.get("Next")
        self.end = bool(spec.get("End", False))
        self.entered_type = f"{self.type_name}StateEntered"
        self.exited_type = f"{self.type_name}StateExited"
        self.retriers = [Retrier(r) for r in spec.get("Retry", ())]
        self.catchers = [Catcher(c, self.query_language) for c in spec.get("Catch", ())]
        if self.query_language == JSONATA:
            self.uses_context = _mentions(spec, "$states.context")
            self.arguments = jsonata.compile_jsonata(spec["Arguments"], field="Arguments") \
                if "Arguments" in spec else None
            self.output = jsonata.compile_jsonata(spec["Output"], field="Output") \
                if "Output" in spec else None
            self.assign = jsonata.compile_jsonata(spec["Assign"], field="Assign") \
                if "Assign" in spec else None
        else:
            self.uses_context = _mentions(spec, "$$")
            self.input_path = _compile_io_path(spec, "InputPath")
            self.output_path = _compile_io_path(spec, "OutputPath")
            self.parameters = jsonpath.compile_template(spec["Parameters"], field="Parameters") \
                if "Parameters" in spec and self.type_name != "Map" else None
            self.result_selector = jsonpath.compile_template(
                spec["ResultSelector"], field="ResultSelector") if "ResultSelector" in spec else None
            self.result_path = jsonpath.compile_result_path(spec.get("ResultPath", "$")) \
                if self.has_result or self.type_name == "Pass" else None
            self.assign = jsonpath.compile_template(spec["Assign"], field="Assign") \
                if "Assign" in spec else None
        self.jsonata = self.query_language == JSONATA

    def number_field(self, spec: dict, key: str, kind: str = "integer"):
        """Returns a callable (value, ctx, variables) -> number for a numeric field given as a
        literal, a JSONata expression, or (JSONPath) its `...Path` variant; None when absent."""
        if key in spec:
            raw = spec[key]
            if self.jsonata and jsonata.is_expression(raw):
                template = jsonata.compile_jsonata(raw, field=key)
                expected = "integer" if kind == "integer" else "number"
                return lambda value, ctx, variables: template.evaluate_as(
                    states_binding(value, ctx), variables, expected)
            return lambda value, ctx, variables: raw
        if f"{key}Path" not in spec:
            return None
        path = jsonpath.compile_path(spec[f"{key}Path"])
        field = f"{key}Path"

        def read(value, ctx, variables):
            found = path.find(value, ctx, variables)
            number = as_number(found, kind)
            if number is None:
                raise RuntimeFailure(f"The {field} field refers to value \"{show(found)}\" which is "
                                     f"not a valid {kind}: {path.text}", in_state=True)
            return number
        return read

    # -- what each state type defines ------------------------------------------------------------

    def execute(self, frame: Frame, value, raw_input, ctx, entered_id: int):
        """Returns the state's result for the effective input `value` (JSONPath: after InputPath
        and Parameters; JSONata: after Arguments). Raises StatesError on failure."""
        return value

    def next_state(self, frame: Frame, value, raw_input, ctx) -> str | None:
        """Returns the name of the state to run next, or None when this state ends its sequence."""
        return None if self.end else self.next

    # -- the shared processing -------------------------------------------------------------------

    def context_object(self, frame: Frame, entered_time: str, retry_count: int = 0):
        if not self.uses_context:
            return None
        return frame.run.context.object(self.name, entered_time,
                                        retry_count if self.type_name == "Task" else None,
                                        frame.map_item)

    def attempt(self, frame: Frame, raw_input, ctx, entered_id: int):
        """Runs the state once; returns (output, assigned variables or None, next state name)."""
        variables = frame.variables
        # TestState's record of each step (runtime.asl.test_state), for the state it runs itself.
        steps = frame.run.inspection if frame.top else None
        if self.jsonata:
            states = states_binding(raw_input, ctx)
            value = self.arguments.evaluate(states, variables) if self.arguments else raw_input
            if steps is not None and self.arguments is not None:
                steps["afterArguments"] = value
            result = self.execute(frame, value, raw_input, ctx, entered_id)
            if steps is not None and self.has_result:
                steps["result"] = result
            states["result"] = result
            assigned = self.assign.evaluate(states, variables) if self.assign else None
            if self.output is not None:
                output = self.output.evaluate(states, variables)
            else:
                output = result if self.has_result else raw_input
            return output, assigned, self.next_state(frame, value, raw_input, ctx)
        value = apply_io_path(self.input_path, raw_input, ctx, variables)
        if steps is not None:
            steps["afterInputPath"] = value
        if self.parameters is not None:
            value = self.parameters.evaluate(value, ctx, variables)
        if steps is not None:
            steps["afterParameters"] = value
        result = self.execute(frame, value, raw_input, ctx, entered_id)
        if steps is not None and (self.has_result or self.result_path is not None):
            steps["result"] = result
        if self.result_selector is not None:
            result = self.result_selector.evaluate(result, ctx, variables)
        if steps is not None and self.has_result:
            steps["afterResultSelector"] = result
        assigned = self.assign.evaluate(result, ctx, variables) if self.assign else None
        if self.result_path is not None:
            output = self.result_path.apply(raw_input, result)
        else:
            output = result
        if steps is not None and self.result_path is not None:
            steps["afterResultPath"] = output
        output = apply_io_path(self.output_path, output, ctx, variables)
        return output, assigned, self.next_state(frame, value, raw_input, ctx)

    def run(self, frame: Frame, raw_input, input_text: str | None = None,
            resumed: "Resumed | None" = None):
        """Runs the state with its events, retries and catchers; returns (output, next name,
        output as JSON text). `input_text`, when given, is `raw_input` as JSON text already;
        `resumed` continues a visit an interrupted run entered (see Resumed) instead of entering.

        Raises StatesError when the state fails and no catcher takes the error."""
        run = frame.run
        run.check_alive()
        retries = [0] * len(self.retriers)
        if resumed is None:
            run.transitions += 1
            if input_text is None:
                input_text = to_json(raw_input)
            entered_id = frame.emit(self.entered_type, "stateEnteredEventDetails", {
                "name": self.name, "input": input_text, "inputDetails": _NOT_TRUNCATED})
            entered_time = run.clock.timestamp() if self.uses_context else ""
            retry_count, pending = 0, None
        else:
            entered_id, entered_time = resumed.entered_id, resumed.timestamp
            retry_count, pending = self._continue(frame, resumed, retries)
            frame.resumed = resumed
        try:
            while True:
                try:
                    if pending is not None:
                        failure, pending = pending, None
                        raise failure
                    ctx = self.context_object(frame, entered_time, retry_count)
                    output, assigned, next_name = self.attempt(frame, raw_input, ctx, entered_id)
                    break
                except StatesError as exc:
                    error = exc.with_state_prefix(self.name, entered_id)
                    if error.error == "States.QueryEvaluationError" and not error.reported:
                        # Reported once, by the state whose own evaluation failed.
                        details = {"cause": error.cause, "error": error.error, "state": self.name}
                        if error.location:
                            details["location"] = error.location
                        frame.emit("EvaluationFailed", "evaluationFailedEventDetails", details)
                        error.reported = True
                    retrier = self._retrier_for(error, retries)
                    if retrier is not None:
                        index = self.retriers.index(retrier)
                        run.sleep(retrier.delay(retries[index]))
                        retries[index] += 1
                        retry_count += 1
                        continue
                    if self.failed_type and error.catchable:
                        # Parallel and Map report their failure once, after the last retry.
                        frame.emit(self.failed_type)
                    output, assigned, next_name = self._catch(frame, raw_input, error, entered_time)
                    break
        finally:
            frame.resumed = None
        return self._exit(frame, output, assigned, next_name)

    def interrupted(self, frame: Frame, resumed: "Resumed") -> StatesError | None:
        """Returns the error a resumed visit of this state starts with, or None to run it again:
        a state without side effects simply runs again (Task overrides this)."""
        return None

    def _continue(self, frame: Frame, resumed: "Resumed", retries: list[int]):
        """Returns (retry count, pending error) for a visit an interrupted run left: the failures
        its history shows count against the retriers, as they did; a failure that nothing followed
        is handled again (retried or caught); else `interrupted` says how the visit goes on."""
        failures = [event for event in resumed.events if event["type"] in FAILURE_EVENTS]
        pending = None
        if failures and resumed.events[-1] is failures[-1]:
            pending = _recorded_error(failures.pop())
        retry_count = 0
        for event in failures:
            retrier = self._retrier_for(_recorded_error(event), retries)
            if retrier is not None:
                retries[self.retriers.index(retrier)] += 1
                retry_count += 1
        if pending is None:
            pending = self.interrupted(frame, resumed)
        return retry_count, pending

    def _retrier_for(self, error: StatesError, retries: list[int]):
        if not error.retryable:
            return None
        for index, retrier in enumerate(self.retriers):
            if error_matches(retrier.error_equals, error.error):
                return retrier if retries[index] < retrier.max_attempts else None
        return None

    def _catch(self, frame: Frame, raw_input, error: StatesError, entered_time: str):
        if error.catchable:
            for catcher in self.catchers:
                if error_matches(catcher.error_equals, error.error):
                    return self._caught(frame, raw_input, error, catcher, entered_time)
        raise error

    def _caught(self, frame: Frame, raw_input, error: StatesError, catcher: Catcher, entered_time):
        error_output = {"Error": error.error, "Cause": error.cause if error.cause is not None else ""}
        ctx = self.context_object(frame, entered_time)
        variables = frame.variables
        if self.jsonata:
            states = {"input": raw_input, "errorOutput": error_output}
            if ctx is not None:
                states["context"] = ctx
            assigned = catcher.assign.evaluate(states, variables) if catcher.assign else None
            output = catcher.output.evaluate(states, variables) if catcher.output else error_output
        else:
            assigned = catcher.assign.evaluate(error_output, ctx, variables) \
                if catcher.assign else None
            output = catcher.result_path.apply(raw_input, error_output)
        return output, assigned, catcher.next

    def _exit(self, frame: Frame, output, assigned, next_name):
        output_text = to_json(output)
        if len(output_text) > PAYLOAD_LIMIT // 4 and len(output_text.encode()) > PAYLOAD_LIMIT:
            raise DataLimitExceeded(
                f"The state/task '{self.name}' returned a result with a size exceeding the "
                f"maximum number of bytes service limit.")
        details = {"name": self.name, "output": output_text, "outputDetails": _NOT_TRUNCATED}
        if assigned is not None:
            details["assignedVariables"] = {k: to_json(v) for k, v in assigned.items()}
            details["assignedVariablesDetails"] = _NOT_TRUNCATED
            frame.variables.update(assigned)
        frame.emit(self.exited_type, "stateExitedEventDetails", details)
        return output, next_name, output_text


# The events that end a failed attempt of a Task (the only states with attempts in the history).
FAILURE_EVENTS = frozenset({
    "TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed", "LambdaFunctionFailed",
    "LambdaFunctionTimedOut", "LambdaFunctionStartFailed", "LambdaFunctionScheduleFailed"})


def _recorded_error(event: dict) -> StatesError:
    """Returns the error a failure event records, as the engine raised it (already reported)."""
    details = next((v for k, v in event.items() if k.endswith("EventDetails")), None) or {}
    name = details.get("error") or "States.TaskFailed"
    kind = {"States.Runtime": RuntimeFailure, "States.DataLimitExceeded": DataLimitExceeded}.get(
        name, StatesError)
    error = kind(details.get("cause"), name)
    error.reported = True
    return error


def run_states(program: Program, value, frame: Frame, start_at: str | None = None):
    """Runs `program` from StartAt (or `start_at`) until a state ends it; returns the output.

    Raises StatesError when a state fails without a catcher."""
    return run_sequence(program, value, frame, start_at)[0]


def resume_sequence(program: Program, frame: Frame, at) -> object:
    """Runs `program` on `frame` from where it stands (a runtime.asl.history.Position: its next
    state and the visit left open, if any); returns its output (at once when it had ended)."""
    if at.start_at is None:
        return at.value
    return run_sequence(program, at.value, frame, at.start_at, None, at.visit)[0]


def run_sequence(program: Program, value, frame: Frame, start_at: str | None = None,
                 text: str | None = None, resumed: Resumed | None = None) -> tuple[object, str | None]:
    """Returns (output, output as JSON text) of `run_states`; `text` is `value` as JSON text
    when the caller has it. Each state's output text is the next one's input text: the engine
    encodes every value once. `resumed` continues the visit of `start_at` a run left open."""
    states = program.states
    name = start_at or program.start_at
    if resumed is not None:
        value, name, text = states[name].run(frame, value, text, resumed)
    while name is not None:
        value, name, text = states[name].run(frame, value, text)
    return value, text


def parse_json_text(text):
    """Returns the JSON value of `text` (used when history is read back to resume a run)."""
    return json.loads(text)
