"""The seam through which Task states call functions, and a fake of it for tests.

The engine knows Lambda's integration shapes (the direct function ARN, `lambda:invoke`), the
history events they produce and how their failures map onto States Language errors. It does not know
how a function runs: that is the invoker's job. `runtime.tasks.LambdaInvoker` runs real functions
through `runtime.functions`; `FakeInvoker` runs Python callables in-process.
"""

from __future__ import annotations

import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

__all__ = [
    "FunctionOutcome", "FunctionNotFound", "FunctionServiceError", "TaskTimedOut",
    "Invoker", "FakeInvoker",
]


@dataclass
class FunctionOutcome:
    """What one invocation of a function returned.

    `payload` is the function's JSON response, or None when `error` is set; `error` is Lambda's
    error object `{"errorType", "errorMessage", "stackTrace"}` when the function failed. `log` is
    the invocation's log text, START to REPORT as Lambda writes it (what `LogType: Tail` returns
    the end of).
    """

    payload: Any = None
    error: dict | None = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    executed_version: str = "$LATEST"
    log: str = ""
    # Free-form figures of the invocation (duration, logs, ...) for callers that record them.
    details: dict = field(default_factory=dict)


class FunctionNotFound(Exception):
    """The invoker has no function of that name (and qualifier)."""


class FunctionServiceError(Exception):
    """Lambda itself refused the call: `error_type` such as `TooManyRequestsException` or
    `AccessDeniedException`; the engine reports it as `Lambda.<error_type>` (or as given when
    `error_type` already has a dot)."""

    def __init__(self, error_type: str, message: str):
        self.error_type = error_type
        self.message = message
        super().__init__(f"{error_type}: {message}")


class TaskTimedOut(Exception):
    """The invocation did not finish within the `timeout` the engine asked for."""


class Invoker(Protocol):
    def invoke_function(self, name: str, payload: Any, *, qualifier: str | None = None,
                        timeout: float | None = None, arn: str = "",
                        state: str = "") -> FunctionOutcome:
        """Runs the function `name` (its name, parsed from the Task's resource: never an ARN)
        at `qualifier` with `payload`, for the Task state named `state`; returns its outcome.

        Raises FunctionNotFound, FunctionServiceError, or TaskTimedOut when `timeout` (seconds,
        the Task's TimeoutSeconds) passes before the function answers.
        """
        ...

    # An invoker may also define `thread_done()`: the engine calls it on each helper thread it
    # started (Map iterations, Parallel branches) as that thread ends, so that what the invoker
    # holds per thread (a database connection, say) is released with it.


class FakeInvoker:
    """Runs Python callables `handler(event, context)` in-process, keyed by function name.

    An exception raised by a handler becomes Lambda's error object with its class name as
    `errorType`, as the Python runtime reports it.
    """

    def __init__(self, functions: dict[str, Callable[[Any, Any], Any]] | None = None):
        self.functions = dict(functions or {})
        self.calls: list[tuple[str, Any]] = []

    def invoke_function(self, name, payload, *, qualifier=None, timeout=None, arn="", state=""):
        handler = self.functions.get(name)
        if handler is None:
            raise FunctionNotFound(name)
        self.calls.append((name, payload))
        try:
            return FunctionOutcome(payload=handler(payload, None))
        except Exception as exc:  # the handler's own failure is the function's error result
            return FunctionOutcome(error={
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__),
            })
