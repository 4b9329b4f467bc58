"""Run Lambda-style functions (Python, Node.js) in sandboxed, warm worker processes.

    from runtime.functions import FunctionRunner, FunctionSpec
    spec = FunctionSpec(name="hello", runtime="python", handler="lambda_function.lambda_handler",
                        files={"lambda_function.py": source})
    with FunctionRunner() as runner:
        inv = runner.invoke(spec, {"key": "value"}, on_log=print)
    inv.payload, inv.error, inv.logs, inv.duration_ms, inv.init_ms

Errors the runner raises instead of running a function:

    FunctionError
    ├── SandboxUnavailable              the chosen sandbox does not work here (ServiceException)
    ├── TooManyRequestsException        the function is at its concurrency limit
    ├── InvalidRequestContentException  the event is not JSON-serialisable
    └── RequestTooLargeException        the event is over 6 MB
    RuntimeNotAvailable                 the runtime's language is not installed here
    InvalidFunctionSpec (ValueError)    a spec Lambda would refuse
"""

from .invocation import (FunctionError, Invocation, SandboxUnavailable, TooManyRequestsException,
                         service_error)
from .runner import FunctionRunner, InvalidRequestContentException, RequestTooLargeException
from .runtimes import Runtime, RuntimeNotAvailable, available_runtimes, resolve_runtime
from .sandbox import bubblewrap_works, sandbox_problem
from .spec import FunctionSpec, InvalidFunctionSpec
from .workdir import remove_abandoned_work_dirs

__all__ = [
    "FunctionRunner", "FunctionSpec", "Invocation",
    "FunctionError", "SandboxUnavailable", "TooManyRequestsException",
    "InvalidRequestContentException", "RequestTooLargeException", "InvalidFunctionSpec",
    "RuntimeNotAvailable",
    "Runtime", "available_runtimes", "resolve_runtime", "bubblewrap_works", "sandbox_problem",
    "service_error", "remove_abandoned_work_dirs",
]
