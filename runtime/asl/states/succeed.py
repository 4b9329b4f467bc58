"""Succeed: ends its sequence (the machine, a branch, an iteration) successfully."""

from __future__ import annotations

from ..executor import State


class SucceedState(State):
    type_name = "Succeed"

    def next_state(self, frame, value, raw_input, ctx):
        return None
