import runtime.functions
import runtime.tasks


def test_the_functions_package_exports_exactly_its_public_names():
    assert sorted(runtime.functions.__all__) == sorted([
        "FunctionRunner", "FunctionSpec", "Invocation",
        "FunctionError", "SandboxUnavailable", "TooManyRequestsException",
        "InvalidRequestContentException", "RequestTooLargeException", "InvalidFunctionSpec",
        "RuntimeNotAvailable", "Runtime", "available_runtimes", "resolve_runtime",
        "bubblewrap_works", "sandbox_problem", "service_error", "remove_abandoned_work_dirs",
        "PackageCache", "InstallFailed", "InvalidLayerZip", "check_layer_zip", "opt_dir",
    ])
    for name in runtime.functions.__all__:
        assert hasattr(runtime.functions, name)


def test_the_tasks_package_exports_exactly_its_public_names():
    assert sorted(runtime.tasks.__all__) == ["LambdaInvoker"]
    for name in runtime.tasks.__all__:
        assert hasattr(runtime.tasks, name)


def test_service_error_names_the_runners_refusals_as_lambdas_api_does():
    from runtime.functions import (RequestTooLargeException, RuntimeNotAvailable,
                                   TooManyRequestsException, service_error)
    assert service_error(TooManyRequestsException("Rate Exceeded.")) == (
        "TooManyRequestsException", "Rate Exceeded.")
    assert service_error(RequestTooLargeException("big"))[0] == "RequestTooLargeException"
    assert service_error(RuntimeNotAvailable("no node"))[0] == "InvalidRuntimeException"
    assert service_error(OSError("disk"))[0] == "OSError"
