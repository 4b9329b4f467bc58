"""One module per state type, each holding only its own meaning.

Defining the classes is what makes them known: each registers its Type in
`runtime.asl.executor.STATE_CLASSES`, from which `Program` compiles states. Import this package
before compiling a definition (`runtime.asl.machine` does).
"""

from __future__ import annotations

from .choice import ChoiceState
from .fail import FailState
from .map import MapState
from .parallel import ParallelState
from .pass_ import PassState
from .succeed import SucceedState
from .task import TaskState
from .wait import WaitState

__all__ = ["ChoiceState", "FailState", "MapState", "ParallelState", "PassState", "SucceedState",
           "TaskState", "WaitState"]
