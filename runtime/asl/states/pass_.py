"""Pass: passes its input to its output, or a fixed Result, without doing work."""

from __future__ import annotations

from ..executor import State


class PassState(State):
    type_name = "Pass"

    def __init__(self, name, spec, query_language, path):
        super().__init__(name, spec, query_language, path)
        self.has_result_field = "Result" in spec
        self.result = spec.get("Result")

    def execute(self, frame, value, raw_input, ctx, entered_id):
        return self.result if self.has_result_field else value
