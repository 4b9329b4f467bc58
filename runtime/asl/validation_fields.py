"""The shapes every part of a definition shares, checked for the validator of `validation`.

`FieldChecks` expects `self.error(message, location, code=SCHEMA)`. Messages name a field ("The
value for the field 'X' ...") at the pointer of the object holding it, as AWS does ("... 'parsed.$'
... at /States/S/Parameters"); messages about a value alone ("String does not match RFC3339
timestamp") point at the value.
"""

from __future__ import annotations

from collections import deque

from runtime.asl.diagnostics import SCHEMA
from runtime.json_pointer import child
from runtime.asl.validation_expressions import (
    check_jsonata, check_path, check_path_or_intrinsic, check_reference_path, is_jsonata,
)

__all__ = ["FieldChecks", "at", "is_integer", "is_number", "names"]

MAX_SECONDS = 99999999
MAX_VARIABLE_NAME = 80
NOT_RFC3339 = "String does not match RFC3339 timestamp"


def at(location: str) -> str:
    """Returns `location`, with the whole document written "/" as AWS writes it."""
    return location or "/"


def is_integer(value) -> bool:
    """Returns whether `value` is a JSON integer (an integral float counts, a boolean does not)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def is_number(value) -> bool:
    """Returns whether `value` is a JSON number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def names(keys) -> str:
    """Returns `keys` written as AWS lists fields: [A, B]."""
    return "[" + ", ".join(keys) + "]"


class FieldChecks:
    """Checks of field shapes, paths, payload templates, Assign and transitions."""

    def error(self, message: str, location: str, code: str = SCHEMA) -> None:  # pragma: no cover
        raise NotImplementedError

    def string_field(self, obj: dict, key: str, location: str) -> bool:
        """Returns whether obj[key] is a string, reporting it when present and not one."""
        if key not in obj:
            return False
        if not isinstance(obj[key], str):
            self.error(f"The value for the field '{key}' must be a string", location)
            return False
        return True

    def integer_field(self, obj: dict, key: str, location: str, minimum: int,
                      maximum: int = MAX_SECONDS, language: str = "JSONPath") -> bool:
        """Returns whether obj[key] is an integer within bounds (or, in JSONata, an expression)."""
        value = obj.get(key)
        if language == "JSONata" and is_jsonata(value):
            self.jsonata_string(value, key, location)
            return False
        if not is_integer(value):
            self.error(f"The value for the field '{key}' must be an integer", location)
            return False
        if not minimum <= value <= maximum:
            self.error(f"The value for the field '{key}' must be between {minimum} and {maximum}",
                       location)
            return False
        return True

    def exclusive(self, obj: dict, keys, location: str) -> None:
        """Reports when more than one of `keys` is present in `obj`."""
        present = [key for key in keys if key in obj]
        if len(present) > 1:
            self.error(f"These fields cannot be used together: {names(present)}", location)

    # --- paths, templates and expressions --------------------------------------------------------

    def path_field(self, obj: dict, key: str, location: str, *, nullable: bool = False,
                   reference: bool = False, intrinsic: bool = False) -> None:
        """Checks that obj[key] is a JSONPath (or Reference Path, or intrinsic call) if present."""
        if key not in obj:
            return
        value = obj[key]
        if value is None and nullable:
            return
        if reference:
            what, check = "a valid Reference Path", check_reference_path
        elif intrinsic:
            what, check = "a valid JSONPath or a valid intrinsic function call", \
                check_path_or_intrinsic
        else:
            what, check = "a valid JSONPath", check_path
        if not isinstance(value, str) or check(value) is not None:
            self.error(f"The value for the field '{key}' must be {what}", location)

    def jsonata_string(self, text: str, field: str, location: str) -> None:
        """Reports `text` ("{% ... %}") at `location` when JSONata cannot parse it."""
        if check_jsonata(text) is not None:
            self.error(f"The value for the field '{field}' must be a valid JSONata expression",
                       location)

    def payload(self, value, location: str, language: str, field: str) -> None:
        """Checks a payload template (Parameters, ItemSelector, ResultSelector, Assign, Output,
        Arguments): `key.$` values in JSONPath, `{% %}` strings in JSONata. Iterative, so any depth
        of nesting is fine; problems come in document order, parents before children."""
        pending = deque([(value, location, field)])
        seen = set()  # ids of the containers walked: a cyclic Python object must still end
        while pending:
            value, location, field = pending.popleft()
            if isinstance(value, (dict, list)):
                if id(value) in seen:
                    continue
                seen.add(id(value))
            if isinstance(value, dict):
                for key, item in value.items():
                    key_text = str(key)
                    if language == "JSONPath" and key_text.endswith(".$"):
                        if not isinstance(item, str) or check_path_or_intrinsic(item) is not None:
                            self.error(f"The value for the field '{key_text}' must be a valid "
                                       "JSONPath or a valid intrinsic function call", location)
                    elif isinstance(item, (dict, list)):
                        pending.append((item, child(location, key_text), key_text))
                    elif language == "JSONata" and is_jsonata(item):
                        self.jsonata_string(item, key_text, location)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, (dict, list)):
                        pending.append((item, child(location, index), field))
                    elif language == "JSONata" and is_jsonata(item):
                        self.jsonata_string(item, field, location)
            elif language == "JSONata" and is_jsonata(value):
                self.jsonata_string(value, field, location)

    def object_payload(self, obj: dict, key: str, location: str, language: str) -> None:
        """Checks obj[key], a payload that must be a JSON object (Parameters, ItemSelector...)."""
        if key not in obj:
            return
        value = obj[key]
        if language == "JSONata" and is_jsonata(value):
            self.jsonata_string(value, key, location)
        elif not isinstance(value, dict):
            self.error(f"The value for the field '{key}' must be an object", location)
        else:
            self.payload(value, child(location, key), language, key)

    def any_payload(self, obj: dict, key: str, location: str, language: str) -> None:
        """Checks obj[key], any JSON value (Output, Arguments, Result)."""
        if key in obj:
            value = obj[key]
            if isinstance(value, (dict, list)):
                self.payload(value, child(location, key), language, key)
            else:
                self.payload(value, location, language, key)

    def assign(self, obj: dict, location: str, language: str) -> None:
        """Checks obj's Assign: an object of valid variable names whose values are payloads."""
        if "Assign" not in obj:
            return
        value = obj["Assign"]
        if not isinstance(value, dict):
            self.error("The value for the field 'Assign' must be an object", location)
            return
        assign_location = child(location, "Assign")
        for key in value:
            name = str(key)
            if language == "JSONPath" and name.endswith(".$"):
                name = name[:-2]
            if not name.isidentifier() or len(name) > MAX_VARIABLE_NAME:
                self.error(f"The variable name '{name}' is invalid: a name starts with a letter "
                           f"or '_', holds only letters, digits and '_', and has at most "
                           f"{MAX_VARIABLE_NAME} characters", assign_location)
        self.payload(value, assign_location, language, "Assign")

    def io_fields(self, state: dict, location: str, language: str, *, result: bool) -> None:
        """Checks the input/output processing fields every state type shares."""
        if language == "JSONPath":
            self.path_field(state, "InputPath", location, nullable=True)
            self.path_field(state, "OutputPath", location, nullable=True)
            if result:
                self.path_field(state, "ResultPath", location, nullable=True, reference=True)
                self.object_payload(state, "Parameters", location, language)
                self.object_payload(state, "ResultSelector", location, language)
        else:
            self.any_payload(state, "Output", location, language)
            self.any_payload(state, "Arguments", location, language)
        self.assign(state, location, language)

    # --- transitions -----------------------------------------------------------------------------

    def next_or_end(self, state: dict, location: str, transitions: list) -> None:
        """Checks that a state has exactly one of Next and End, recording its Next."""
        has_next = "Next" in state
        end = state.get("End")
        if "End" in state and not isinstance(end, bool):
            self.error("The value for the field 'End' must be a boolean", location)
        if has_next and end is True:
            self.error("These fields cannot be used together: [Next, End]", location)
        elif not has_next and end is not True:
            self.error("Exactly one of these fields is required: [Next, End]", location)
        if has_next:
            self.target(state, "Next", location, transitions)

    def target(self, obj: dict, key: str, location: str, transitions: list) -> None:
        """Records obj[key] as a transition to resolve in the scope, if it is a state name."""
        value = obj[key]
        if isinstance(value, str):
            transitions.append((key, value, child(location, key)))
        else:
            self.error(f"The value for the field '{key}' must be a string", location)
