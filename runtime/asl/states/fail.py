"""Fail: ends the execution with an error name and cause, given or read from the input."""

from __future__ import annotations

from .. import jsonata, jsonpath
from ..errors import StatesError
from ..execution import to_json
from ..executor import State, states_binding


class FailError(StatesError):
    """The error a Fail state ends with; unlike the States.* errors it may have no name."""

    name = None


class FailState(State):
    type_name = "Fail"

    def __init__(self, name, spec, query_language, path):
        super().__init__(name, spec, query_language, path)
        self.error = self._field(spec, "Error")
        self.cause = self._field(spec, "Cause")

    def _field(self, spec, key):
        """Returns a callable (value, ctx, variables) -> text or None for Error / Cause."""
        if self.jsonata:
            if key not in spec:
                return None
            template = jsonata.compile_jsonata(spec[key], field=key)
            return lambda value, ctx, variables: template.evaluate(states_binding(value, ctx),
                                                                   variables)
        if key in spec:
            text = spec[key]
            return lambda value, ctx, variables: text
        if f"{key}Path" in spec:
            expr = jsonpath.compile_value(spec[f"{key}Path"], field=f"{key}Path")
            return lambda value, ctx, variables: expr.evaluate(value, ctx, variables)
        return None

    def attempt(self, frame, raw_input, ctx, entered_id):
        variables = frame.variables
        error = self.error(raw_input, ctx, variables) if self.error else None
        cause = self.cause(raw_input, ctx, variables) if self.cause else None
        if error is not None and not isinstance(error, str):
            error = to_json(error)
        if cause is not None and not isinstance(cause, str):
            cause = to_json(cause)
        raise FailError(cause, error)
