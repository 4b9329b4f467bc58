"""Validation of an Amazon States Language definition, as AWS Step Functions validates one.

`validate(definition)` returns every problem as a Diagnostic (severity, AWS's code, AWS's message,
JSON pointer); it never raises, whatever it is given. `create_error_message(diagnostics)` gives the
text CreateStateMachine answers with ("Invalid State Machine Definition: '...'").

Codes, as AWS names them: SCHEMA_VALIDATION_FAILED (shape, types, values, paths, expressions,
resources), MISSING_TRANSITION_TARGET (a Next/Default/StartAt naming no state of its scope, a state
nothing reaches), DUPLICATE_STATE_NAME (a name used twice anywhere in the definition) and
INVALID_JSON_DESCRIPTION (text that is not JSON, said in the words of AWS's parser, Jackson: the
message ends with " at [Source: ...; line: L, column: C]", which is also its location). All of them are ERRORs: no check yet knows of
something AWS accepts with a WARNING.

The walk over the document lives here (top level, scopes, transitions, reachability). The checks of
each state type are in `validation_states`, of Choice rules in `validation_choice`, of the shapes
all states share (paths, payload templates, Assign, Next/End) in `validation_fields`, and the
syntax of paths, intrinsic calls, JSONata and timestamps in `validation_expressions`.
"""

from __future__ import annotations

import json
import re
from collections import deque

from runtime.asl.diagnostics import (
    DUPLICATE_NAME, ERROR, INVALID_JSON, MISSING_TARGET, SCHEMA, WARNING, Diagnostic,
    create_error_message,
)
from runtime.asl.validation_fields import at
from runtime.json_text import find_error
from runtime.json_pointer import child
from runtime.asl.validation_states import StateChecks

__all__ = ["validate", "create_error_message"]

NOT_AN_OBJECT = "Definition must be a valid JSON object"
MAX_STATE_NAME = 80
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
QUERY_LANGUAGES = ("JSONPath", "JSONata")
STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")

_MACHINE_FIELDS = {
    "top": {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"},
    "branch": {"StartAt", "States", "Comment", "QueryLanguage"},
    "processor": {"StartAt", "States", "Comment", "QueryLanguage", "ProcessorConfig"},
}


def validate(definition, *, state_machine_type: str = "STANDARD") -> list[Diagnostic]:
    """Returns the diagnostics of `definition` (a dict, or JSON text as str or bytes).

    An empty list, or one with only WARNINGs, means the definition is valid. `state_machine_type`
    is STANDARD or EXPRESS (express machines refuse `.sync` and `.waitForTaskToken` resources).
    Never raises: anything that is not a valid definition yields diagnostics saying why.
    """
    try:
        return _Validator(state_machine_type).run(definition)
    except RecursionError:
        return [Diagnostic(ERROR, SCHEMA, "Definition is nested too deeply", "/")]
    except Exception as error:  # noqa: BLE001 - the contract is "diagnostics, never an exception"
        return [Diagnostic(ERROR, SCHEMA,
                           f"Definition could not be validated ({type(error).__name__})", "/")]


_UNREADABLE = object()  # what `parse` returns for text that holds no JSON value


class _DuplicateKeys(dict):
    """A JSON object whose text repeated some keys; `duplicates` lists them in order."""

    duplicates: list


def _object_pairs(pairs):
    """Returns the JSON object of `pairs`, a _DuplicateKeys when a key came twice."""
    seen = {}
    duplicates = []
    for key, value in pairs:
        if key in seen:
            duplicates.append(key)
        seen[key] = value
    if not duplicates:
        return seen
    obj = _DuplicateKeys(seen)
    obj.duplicates = duplicates
    return obj


def _reject_constant(name):
    """Refuses NaN and Infinity, which Python's json accepts and JSON does not."""
    raise ValueError(name)


class _Validator(StateChecks):
    """Walks one definition and collects its diagnostics."""

    def __init__(self, state_machine_type: str = "STANDARD"):
        self.diagnostics: list[Diagnostic] = []
        self.express = str(state_machine_type).upper() == "EXPRESS"
        self.state_names: dict[str, str] = {}
        self.machines: deque = deque()
        self.top_language = "JSONPath"   # the whole machine's QueryLanguage

    def error(self, message: str, location: str, code: str = SCHEMA) -> None:
        """Records an ERROR diagnostic (code SCHEMA_VALIDATION_FAILED unless told)."""
        self.diagnostics.append(Diagnostic(ERROR, code, message, at(location)))

    def warning(self, message: str, location: str, code: str) -> None:
        """Records a WARNING diagnostic."""
        self.diagnostics.append(Diagnostic(WARNING, code, message, at(location)))

    def run(self, definition) -> list[Diagnostic]:
        """Returns the diagnostics of `definition`."""
        if isinstance(definition, (str, bytes, bytearray)):
            definition = self.parse(definition)
            if definition is _UNREADABLE:
                return self.diagnostics
        if not isinstance(definition, dict):
            self.diagnostics.append(Diagnostic(ERROR, SCHEMA, NOT_AN_OBJECT, ""))
            return self.diagnostics
        # Nested state machines (branches, Map processors) wait in a queue rather than being
        # walked recursively, so no depth of nesting can exhaust the stack.
        self.machines.append((definition, "", "JSONPath", "top"))
        walked = set()  # a cyclic Python object (never JSON) must still come to an end
        while self.machines:
            nested = self.machines.popleft()
            if id(nested[0]) not in walked:
                walked.add(id(nested[0]))
                self.machine(*nested)
        return self.diagnostics

    def parse(self, text):
        """Returns the JSON value of `text`, or _UNREADABLE after reporting why it is not JSON."""
        if isinstance(text, (bytes, bytearray)):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError as error:
                self.diagnostics.append(Diagnostic(
                    ERROR, INVALID_JSON, f"Definition is not valid UTF-8: {error.reason}", ""))
                return _UNREADABLE
        if not text.strip():
            self.diagnostics.append(Diagnostic(ERROR, SCHEMA, NOT_AN_OBJECT, ""))
            return _UNREADABLE
        try:
            return json.loads(text, object_pairs_hook=_object_pairs,
                              parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            pass
        # Said as AWS says it: Jackson's words, and where (line and column) as its location.
        found = find_error(text)
        if found is None:  # refused for its depth alone, in a call already deep in the stack
            self.diagnostics.append(Diagnostic(ERROR, INVALID_JSON, "JSON is nested too deeply",
                                               ""))
        else:
            self.diagnostics.append(Diagnostic(ERROR, INVALID_JSON, found.text, found.location))
        return _UNREADABLE

    # --- state machines and their scopes ---------------------------------------------------------

    def machine(self, machine: dict, location: str, query_language: str, kind: str) -> None:
        """Checks a state machine (the whole definition, a Parallel branch or a Map processor);
        queues the state machines nested in it."""
        allowed = _MACHINE_FIELDS[kind]
        for key in machine:
            if key not in allowed:
                self.error(f"Field '{key}' is not supported", location)
        missing = [key for key in ("StartAt", "States") if key not in machine]
        if missing:
            self.error(f"These fields are required: [{', '.join(missing)}]", location)
        self.string_field(machine, "Comment", location)
        if kind == "top":
            version = machine.get("Version")
            if "Version" in machine and version != "1.0":
                self.error("The value for the field 'Version' must be \"1.0\"", location)
            if "TimeoutSeconds" in machine:
                self.integer_field(machine, "TimeoutSeconds", location, 1, 99999999)
        query_language = self.query_language(machine, location, query_language)
        if kind == "top":
            self.top_language = query_language
        if kind == "processor":
            self.processor_config(machine, location)

        start_at = machine.get("StartAt")
        if "StartAt" in machine and not isinstance(start_at, str):
            self.error("The value for the field 'StartAt' must be a string", location)
            start_at = None
        states = machine.get("States")
        if "States" in machine and not isinstance(states, dict):
            self.error("The value for the field 'States' must be an object", location)
            states = None
        if states is None:
            return
        states_location = child(location, "States")
        if isinstance(states, _DuplicateKeys):
            for name in states.duplicates:
                self.error(f"Duplicate State name: {name}", child(states_location, name),
                           DUPLICATE_NAME)
        if not states:
            self.error("The field 'States' must contain at least one state", location)

        edges: dict[str, list[str]] = {}
        for name, state in states.items():
            state_location = child(states_location, name)
            self.state_name(str(name), state_location)
            if not isinstance(state, dict):
                self.error("A state must be a JSON object", state_location)
                edges[name] = []
                continue
            transitions: list[tuple[str, str, str]] = []
            self.state(state, state_location, query_language, transitions)
            targets = []
            for field, target, target_location in transitions:
                if target in states:
                    targets.append(target)
                else:
                    self.error(f"Missing '{field}' target: {target}", target_location,
                               MISSING_TARGET)
            edges[name] = targets

        if isinstance(start_at, str):
            if start_at not in states:
                self.error(f"Missing 'StartAt' target: {start_at}", child(location, "StartAt"),
                           MISSING_TARGET)
            else:
                self.reachability(start_at, edges, states_location)

    def reachability(self, start_at: str, edges: dict[str, list[str]], states_location: str):
        """Reports every state of the scope that no path from StartAt leads to."""
        reached = {start_at}
        pending = [start_at]
        while pending:
            for target in edges.get(pending.pop(), ()):
                if target not in reached:
                    reached.add(target)
                    pending.append(target)
        for name in edges:
            if name not in reached:
                self.error(f'State "{name}" is not reachable.', child(states_location, name),
                           MISSING_TARGET)

    def state_name(self, name: str, location: str) -> None:
        """Checks a state name: not empty, at most 80 characters, no control characters (AWS's
        API refuses them in the names its events carry), unique in the whole definition."""
        if not name:
            self.error("A state name must not be empty", location)
        if _CONTROL.search(name):
            self.error("A state name must not contain control characters (U+0000-001F, "
                       "U+007F-009F, U+FFFE-FFFF) or surrogates (U+D800-DFFF)", location)
        if len(name) > MAX_STATE_NAME:
            self.error(f"State name '{name}' is longer than {MAX_STATE_NAME} characters",
                       location)
        if name in self.state_names:
            self.error(f"Duplicate State name: {name}", location, DUPLICATE_NAME)
        else:
            self.state_names[name] = location

    def query_language(self, obj: dict, location: str, inherited: str) -> str:
        """Returns the query language `obj` uses (its own QueryLanguage, else `inherited`)."""
        if "QueryLanguage" not in obj:
            return inherited
        value = obj["QueryLanguage"]
        if value not in QUERY_LANGUAGES:
            self.error("The value for the field 'QueryLanguage' must be one of [JSONPath, JSONata]",
                       location)
            return inherited
        return value

    def state(self, state: dict, location: str, query_language: str, transitions: list) -> None:
        """Checks one state; appends its (field, target, location) transitions to `transitions`."""
        state_type = state.get("Type")
        if "Type" not in state:
            self.error("These fields are required: [Type]", location)
            return
        if state_type not in STATE_TYPES:
            self.error("The value for the field 'Type' must be one of "
                       f"[{', '.join(STATE_TYPES)}]", location)
            return
        if state.get("QueryLanguage") == "JSONPath" and self.top_language == "JSONata":
            # A state may move from JSONPath to JSONata, never back from a JSONata machine.
            self.error("'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state "
                       "machine", location)
        query_language = self.query_language(state, location, query_language)
        self.allowed_fields(state, state_type, location, query_language)
        self.string_field(state, "Comment", location)
        check = getattr(self, f"check_{state_type.lower()}")
        check(state, location, query_language, transitions)
        if state_type in ("Parallel",):
            self.branches(state, location, query_language)
        if state_type == "Map":
            self.map_processor(state, location, query_language)

    def branches(self, state: dict, location: str, query_language: str) -> None:
        """Checks a Parallel state's Branches and queues each branch as a state machine."""
        branches = state.get("Branches")
        if "Branches" not in state:
            return
        if not isinstance(branches, list) or not branches:
            self.error("The value for the field 'Branches' must be a non-empty array", location)
            return
        for index, branch in enumerate(branches):
            branch_location = child(location, "Branches", index)
            if not isinstance(branch, dict):
                self.error("A branch must be a JSON object", branch_location)
                continue
            self.machines.append((branch, branch_location, query_language, "branch"))

    def map_processor(self, state: dict, location: str, query_language: str) -> None:
        """Checks that a Map has one ItemProcessor (or legacy Iterator) and queues it."""
        has_processor = "ItemProcessor" in state
        has_iterator = "Iterator" in state
        if has_processor and has_iterator:
            self.error("These fields cannot be used together: [ItemProcessor, Iterator]", location)
        elif not has_processor and not has_iterator:
            self.error("These fields are required: [ItemProcessor]", location)
        for key in ("ItemProcessor", "Iterator"):
            if key not in state:
                continue
            processor = state[key]
            if not isinstance(processor, dict):
                self.error(f"The value for the field '{key}' must be an object", location)
                continue
            self.machines.append((processor, child(location, key), query_language, "processor"))
