"""`LambdaInvoker`: the States Language engine's Task invoker, running real functions.

It implements runtime.asl.invoker's seam (`invoke_function`) on top of a FunctionRunner and a
`resolve` callable that finds the FunctionSpec for a function name (and qualifier).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from runtime.arn import parse_function
from runtime.asl.execution import to_json
from runtime.asl.invoker import (FunctionNotFound, FunctionOutcome, FunctionServiceError,
                                 TaskTimedOut)
from runtime.functions import FunctionError, FunctionRunner, FunctionSpec, RuntimeNotAvailable

__all__ = ["LambdaInvoker"]

# A Task names the same few functions at every call: each name's reading (a regular expression
# over the whole text, a frozen FunctionRef) is kept, for at most this many names.
_function_of = lru_cache(maxsize=1024)(parse_function)


class LambdaInvoker:
    """Runs Task states' functions through `runner`.

    `resolve(name, qualifier)` returns the FunctionSpec to run, or None when there is no such
    function (version or alias); `qualifier` is None when the Task names none.
    """

    def __init__(self, resolve: Callable[[str, str | None], FunctionSpec | None], runner: FunctionRunner):
        self.resolve = resolve
        self.runner = runner

    def invoke_function(self, name: str, payload: Any, *, qualifier: str | None = None,
                        timeout: float | None = None, arn: str = "", state: str = "") -> FunctionOutcome:
        """Runs the function and returns its FunctionOutcome (the Invocation in
        `details["invocation"]`, its plain form in `details["result"]`).

        Raises FunctionNotFound, FunctionServiceError (throttling, a runtime not installed, an
        event that is not JSON) or TaskTimedOut when `timeout` passes before the function's
        own timeout.
        """
        function = _function_of(name) if isinstance(name, str) else None
        function_name = function.name if function else name
        qualifier = qualifier or (function.qualifier if function else None)
        spec = self.resolve(function_name, qualifier)
        if spec is None:
            shown = f"{function_name}:{qualifier}" if qualifier else function_name
            raise FunctionNotFound(f"Function not found: {arn or shown}")
        try:
            # The function gets the text the Task's history records as its input (encoded as
            # the engine encodes it); what that cannot encode, the runner judges and refuses.
            event_json = to_json(payload).encode()
        except (TypeError, ValueError):
            event_json = None
        try:
            inv = self.runner.invoke(spec, payload, timeout=timeout, arn=arn or None,
                                     event_json=event_json)
        except RuntimeNotAvailable as exc:
            raise FunctionServiceError("InvalidRuntimeException", str(exc)) from exc
        except FunctionError as exc:
            error_type = getattr(exc, "error_type", "ServiceException")
            raise FunctionServiceError(error_type, str(exc)) from exc
        if inv.timed_out and timeout is not None and timeout < spec.timeout:
            raise TaskTimedOut(f"Task timed out after {timeout} seconds")
        return FunctionOutcome(payload=inv.payload, error=inv.error,
                               request_id=inv.request_id, executed_version=spec.version,
                               log=inv.logs, details={"invocation": inv, "result": inv.to_dict()})
