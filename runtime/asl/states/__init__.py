"""One module per state type, each holding only its own meaning; `build_state` picks the class."""

from __future__ import annotations

from .choice import ChoiceState
from .fail import FailState
from .map import MapState
from .parallel import ParallelState
from .pass_ import PassState
from .succeed import SucceedState
from .task import TaskState
from .wait import WaitState

__all__ = ["build_state", "STATE_TYPES"]

STATE_TYPES = {cls.type_name: cls for cls in (
    PassState, TaskState, ChoiceState, WaitState, SucceedState, FailState, ParallelState, MapState)}


def build_state(name: str, spec: dict, query_language: str, path: str):
    """Returns the compiled state for a (validated) state definition."""
    return STATE_TYPES[spec["Type"]](name, spec, query_language, path)
