"""LambdaInvoker: the engine's Task seam, running real functions."""

import base64
import json

import pytest

from runtime.asl import (FunctionNotFound, FunctionServiceError, StateMachine, TaskTimedOut)
from runtime.functions import FunctionRunner, FunctionSpec
from runtime.tasks import LambdaInvoker
from tests.unit.functions.helpers import PY_GATE, Gate


@pytest.fixture(scope="module")
def runner():
    with FunctionRunner() as shared:
        yield shared


def spec(name, source, **config):
    return FunctionSpec(name=name, runtime="python", handler="handler.handler",
                        files={"handler.py": source}, **config)


def by_name(specs: dict):
    """A resolver that ignores qualifiers: the spec of that name, or None."""
    return lambda name, qualifier: specs.get(name)


ECHO = spec("echo", "def handler(event, context):\n    return {'echo': event}\n")
FAIL = spec("fail", "def handler(event, context):\n"
                    "    raise Exception(\"Some exception was raised.\")\n")


def test_a_function_response_is_the_outcomes_payload(runner):
    invoker = LambdaInvoker(by_name({"echo": ECHO}), runner)
    outcome = invoker.invoke_function("echo", {"a": 1})
    assert outcome.payload == {"echo": {"a": 1}} and outcome.error is None
    assert outcome.executed_version == "$LATEST"
    inv = outcome.details["invocation"]
    assert outcome.request_id == inv.request_id
    assert outcome.details["result"]["logs"] == inv.logs


def test_the_outcome_carries_the_invocations_log(runner):
    outcome = LambdaInvoker(by_name({"echo": ECHO}), runner).invoke_function("echo", {"a": 1})
    assert outcome.log == outcome.details["invocation"].logs
    assert "START RequestId: " in outcome.log and "REPORT RequestId: " in outcome.log


def test_a_function_error_is_the_outcomes_error(runner):
    outcome = LambdaInvoker(by_name({"fail": FAIL}), runner).invoke_function("fail", {})
    assert outcome.payload is None
    assert outcome.error["errorType"] == "Exception"
    assert outcome.error["errorMessage"] == "Some exception was raised."


def test_an_unknown_function_raises_function_not_found(runner):
    with pytest.raises(FunctionNotFound):
        LambdaInvoker(by_name({}), runner).invoke_function("ghost", {})


def test_resolve_is_given_the_qualifier(runner):
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
        LambdaInvoker(by_name({"throttled": throttled}), runner).invoke_function("throttled", {})
    assert raised.value.error_type == "TooManyRequestsException"


def test_a_task_timeout_shorter_than_the_functions_raises_task_timed_out(runner):
    gate = Gate()
    slow = spec("slow", PY_GATE + "def handler(event, context):\n    wait_at_gate(event)\n",
                timeout=60)
    with pytest.raises(TaskTimedOut):
        LambdaInvoker(by_name({"slow": slow}), runner).invoke_function("slow", gate.port,
                                                                  timeout=0.3)
    gate.close()


def test_the_functions_own_timeout_is_a_function_error(runner):
    gate = Gate()
    slow = spec("slow-own", PY_GATE + "def handler(event, context):\n    wait_at_gate(event)\n",
                timeout=1)
    outcome = LambdaInvoker(by_name({"slow-own": slow}), runner).invoke_function(
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
    invoker = LambdaInvoker(by_name({"echo": ECHO, "fail": FAIL}), runner)
    result = StateMachine(definition).run({"n": 1}, invoker=invoker)
    assert result.status == "SUCCEEDED"
    assert result.output["echo"] == {"n": 1}
    assert result.output["caught"]["Error"] == "Exception"


def test_lambda_invoke_with_log_type_tail_returns_the_functions_log(runner):
    talker = spec("talker", "def handler(event, context):\n    print('said ' + event['word'])\n"
                            "    return {}\n")
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "talker", "Payload.$": "$", "LogType": "Tail"},
        "End": True}}}
    result = StateMachine(definition).run({"word": "안녕"},
                                          invoker=LambdaInvoker(by_name({"talker": talker}), runner))
    log = base64.b64decode(result.output["LogResult"]).decode()
    assert "START RequestId: " in log
    assert "said 안녕" in log and "REPORT RequestId: " in log


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


def test_the_function_gets_the_tasks_input_as_its_history_records_it(runner):
    # The event goes as the engine encodes it for the history (runtime.asl's to_json: compact,
    # UTF-8), exact for any JSON value; a NaN, which JSON has not, is null in both.
    from runtime.asl.execution import to_json

    invoker = LambdaInvoker(by_name({"echo": ECHO}), runner)
    given = {"player": "민준", "big": 3 ** 50, "n": [1.5, None, True, {}]}
    assert invoker.invoke_function("echo", given).payload == {"echo": given}
    odd = [float("nan")]
    assert invoker.invoke_function("echo", odd).payload == {"echo": json.loads(to_json(odd))}
