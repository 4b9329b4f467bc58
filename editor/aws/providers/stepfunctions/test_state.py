"""TestState: one state of a definition run on its own, each step of its input and output shown."""

from __future__ import annotations


class TestStateOperations:
    pass
