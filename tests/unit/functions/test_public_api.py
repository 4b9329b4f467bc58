import runtime.functions
import runtime.tasks


def test_the_functions_package_exports_exactly_its_public_names():
    assert sorted(runtime.functions.__all__) == sorted([
        "FunctionRunner", "FunctionSpec", "Invocation",
        "FunctionError", "TooManyRequestsException", "InvalidRequestContentException",
        "RequestTooLargeException", "InvalidFunctionSpec", "RuntimeNotAvailable",
        "Runtime", "available_runtimes", "resolve_runtime", "bubblewrap_works",
    ])
    for name in runtime.functions.__all__:
        assert hasattr(runtime.functions, name)


def test_the_tasks_package_exports_exactly_its_public_names():
    assert sorted(runtime.tasks.__all__) == ["LambdaInvoker", "split_function_name"]
    for name in runtime.tasks.__all__:
        assert hasattr(runtime.tasks, name)
