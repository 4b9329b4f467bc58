"""LambdaInvoker: the engine's Task seam, running real functions."""

import pytest

from runtime.asl import (FunctionNotFound, FunctionServiceError, StateMachine, TaskTimedOut)
from runtime.functions import FunctionRunner, FunctionSpec
from runtime.tasks import LambdaInvoker, split_function_name
from tests.unit.functions.helpers import PY_GATE, Gate


@pytest.fixture(scope="module")
def runner():
    with FunctionRunner() as shared:
        yield shared


def spec(name, source, **config):
    return FunctionSpec(name=name, runtime="python", handler="handler.handler",
                        files={"handler.py": source}, **config)


ECHO = spec("echo", "def handler(event, context):\n    return {'echo': event}\n")
FAIL = spec("fail", "def handler(event, context):\n"
                    "    raise Exception(\"Some exception was raised.\")\n")


@pytest.mark.parametrize("name, expected", [
    ("echo", ("echo", None)),
    ("echo:7", ("echo", "7")),
    ("arn:aws:lambda:us-east-1:111111111111:function:echo", ("echo", None)),
    ("arn:aws:lambda:us-east-1:111111111111:function:echo:$LATEST", ("echo", "$LATEST")),
    ("111111111111:function:echo", ("echo", None)),
])
def test_function_names_partial_and_full_arns_split_into_name_and_qualifier(name, expected):
    assert split_function_name(name) == expected


def test_a_function_response_is_the_outcomes_payload(runner):
    invoker = LambdaInvoker({"echo": ECHO}.get, runner)
    outcome = invoker.invoke_function("echo", {"a": 1})
    assert outcome.payload == {"echo": {"a": 1}} and outcome.error is None
    assert outcome.executed_version == "$LATEST"
    inv = outcome.details["invocation"]
    assert outcome.request_id == inv.request_id
    assert outcome.details["result"]["logs"] == inv.logs


def test_a_function_error_is_the_outcomes_error(runner):
    outcome = LambdaInvoker({"fail": FAIL}.get, runner).invoke_function("fail", {})
    assert outcome.payload is None
    assert outcome.error["errorType"] == "Exception"
    assert outcome.error["errorMessage"] == "Some exception was raised."


def test_an_unknown_function_raises_function_not_found(runner):
    with pytest.raises(FunctionNotFound):
        LambdaInvoker({}.get, runner).invoke_function("ghost", {})


def test_resolve_may_take_the_qualifier(runner):
    seen = []

    def resolve(name, qualifier):
        seen.append((name, qualifier))
        return ECHO

    invoker = LambdaInvoker(resolve, runner)
    invoker.invoke_function("arn:aws:lambda:us-east-1:111111111111:function:echo:3", 1)
    invoker.invoke_function("echo", 2, qualifier="live")
    assert seen == [("echo", "3"), ("echo", "live")]


def test_a_throttled_function_raises_too_many_requests(runner):
    throttled = spec("throttled", "def handler(e, c):\n    return 1\n", reserved_concurrency=0)
    with pytest.raises(FunctionServiceError) as raised:
        LambdaInvoker({"throttled": throttled}.get, runner).invoke_function("throttled", {})
    assert raised.value.error_type == "TooManyRequestsException"


def test_a_task_timeout_shorter_than_the_functions_raises_task_timed_out(runner):
    gate = Gate()
    slow = spec("slow", PY_GATE + "def handler(event, context):\n    wait_at_gate(event)\n",
                timeout=60)
    with pytest.raises(TaskTimedOut):
        LambdaInvoker({"slow": slow}.get, runner).invoke_function("slow", gate.port,
                                                                  timeout=0.3)
    gate.close()


def test_the_functions_own_timeout_is_a_function_error(runner):
    gate = Gate()
    slow = spec("slow-own", PY_GATE + "def handler(event, context):\n    wait_at_gate(event)\n",
                timeout=1)
    outcome = LambdaInvoker({"slow-own": slow}.get, runner).invoke_function(
        "slow-own", gate.port, timeout=60)
    gate.close()
    assert outcome.error["errorType"] == "Sandbox.Timedout"


def test_a_state_machine_runs_real_functions_through_the_invoker(runner):
    definition = {
        "StartAt": "Echo",
        "States": {
            "Echo": {"Type": "Task",
                     "Resource": "arn:aws:lambda:us-east-1:111111111111:function:echo",
                     "Next": "Fail"},
            "Fail": {"Type": "Task",
                     "Resource": "arn:aws:lambda:us-east-1:111111111111:function:fail",
                     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught",
                                "Next": "Done"}],
                     "End": True},
            "Done": {"Type": "Succeed"},
        },
    }
    invoker = LambdaInvoker({"echo": ECHO, "fail": FAIL}.get, runner)
    result = StateMachine(definition).run({"n": 1}, invoker=invoker)
    assert result.status == "SUCCEEDED"
    assert result.output["echo"] == {"n": 1}
    assert result.output["caught"]["Error"] == "Exception"


def test_a_task_fails_with_lambda_service_exception_where_the_sandbox_does_not_work(monkeypatch):
    monkeypatch.setattr("runtime.functions.sandbox.bubblewrap_problem",
                        lambda: "bwrap is not installed")
    definition = {"StartAt": "Echo", "States": {"Echo": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:111111111111:function:echo",
        "End": True}}}
    with FunctionRunner("bubblewrap") as unavailable:
        result = StateMachine(definition).run({"n": 1}, invoker=LambdaInvoker({"echo": ECHO}.get,
                                                                                unavailable))
        assert unavailable.workers() == {}
    assert (result.status, result.error) == ("FAILED", "Lambda.ServiceException")
    assert "bwrap is not installed" in result.cause and "apt-get install bubblewrap" in result.cause
    assert "Error Code: ServiceException" in result.cause
