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

Dependencies and layers, made once and mounted read-only (FunctionSpec.packages, .layers):

    PackageCache(root).ensure(runtime, files)   requirements.txt / package.json -> a package
    check_layer_zip(data); opt_dir(root, layers) a layer's zip checked; layers merged as /opt
    InstallFailed, InvalidLayerZip (ValueError)  pip/npm failed; a zip refused (names the entry)
"""

from .layers import InvalidLayerZip, check_layer_zip, opt_dir
from .packages import InstallFailed, PackageCache
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
    "PackageCache", "InstallFailed", "InvalidLayerZip", "check_layer_zip", "opt_dir",
]
