"""Step Functions' TestState through the real boto3 and the AWS CLI against a running server: each
step of a state's processing, a real function call with a role's permissions, mocks, Retry and
Catch, a state of a whole machine, AWS's errors naming the member, and Bob never using Alice's role.

TestState's endpoint has a host prefix (`sync-`) in botocore's model: against an address of one's
own, clients turn the prefix off (Config(inject_host_prefix=False), or for the CLI the variable
AWS_DISABLE_HOST_PREFIX_INJECTION=true), as for any endpoint that is not AWS's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

INVOKE = "arn:aws:states:::lambda:invoke"
SAMPLE_ROLE = "flowbench-sample-role"


@pytest.fixture(scope="module")
def clients(server):
    made = {}

    def make(person, *, validate=True):
        key = (person["name"], validate)
        if key not in made:
            session = boto3.session.Session(aws_access_key_id=person["key"], aws_secret_access_key=person["secret"],
                                            region_name="us-east-1")
            made[key] = session.client("stepfunctions", endpoint_url=server["base"], config=Config(
                retries={"max_attempts": 1}, parameter_validation=validate, inject_host_prefix=False))
        return made[key]
    return make


def role_arn(person) -> str:
    return f"arn:aws:iam::{person['account']}:role/{SAMPLE_ROLE}"


def error_of(call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_a_pass_state_shows_each_step_at_debug(clients, alice):
    answer = clients(alice).test_state(
        definition=json.dumps({"Type": "Pass", "InputPath": "$.player",
                               "Parameters": {"name.$": "$.name", "drills.$": "States.ArrayLength($.drills)"},
                               "ResultPath": "$.summary", "Next": "공격 훈련"}, ensure_ascii=False),
        input=json.dumps({"player": {"name": "민준", "drills": ["a", "b"]}}, ensure_ascii=False),
        inspectionLevel="DEBUG")
    assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "공격 훈련")
    data = {key: json.loads(value) for key, value in answer["inspectionData"].items()}
    assert list(data) == ["input", "afterInputPath", "afterParameters", "result", "afterResultPath"]
    assert data["afterInputPath"] == {"name": "민준", "drills": ["a", "b"]}
    assert data["afterParameters"] == {"name": "민준", "drills": 2}
    assert json.loads(answer["output"]) == data["afterResultPath"] == {
        "player": {"name": "민준", "drills": ["a", "b"]}, "summary": {"name": "민준", "drills": 2}}


def test_info_answers_the_output_without_inspection_data(clients, alice):
    answer = clients(alice).test_state(definition='{"Type": "Succeed"}', input='{"a": 1}')
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", {"a": 1})
    assert "inspectionData" not in answer and "nextState" not in answer


def test_a_task_calls_the_callers_function_with_the_roles_permissions(clients, alice):
    function = f"arn:aws:lambda:us-east-1:{alice['account']}:function:attack-training"
    answer = clients(alice).test_state(
        definition=json.dumps({"Type": "Task", "Resource": INVOKE,
                               "Parameters": {"FunctionName": function, "Payload.$": "$"},
                               "ResultSelector": {"player.$": "$.Payload"}, "OutputPath": "$.player",
                               "Next": "볼 경합 훈련"}, ensure_ascii=False),
        roleArn=role_arn(alice), input=json.dumps({"TraningType": "공격수"}, ensure_ascii=False),
        inspectionLevel="TRACE")
    assert answer["status"] == "SUCCEEDED", answer
    output = json.loads(answer["output"])
    assert (output["lastDrill"], output["TraningType"]) == ("공격 훈련", "공격수")
    assert json.loads(answer["inspectionData"]["result"])["StatusCode"] == 200
    assert answer["nextState"] == "볼 경합 훈련"


def test_a_task_without_a_role_cannot_call_its_function(clients, alice):
    answer = clients(alice).test_state(definition=json.dumps({
        "Type": "Task", "Resource": f"arn:aws:lambda:us-east-1:{alice['account']}:function:attack-training",
        "End": True}))
    assert (answer["status"], answer["error"]) == ("FAILED", "Lambda.AWSLambdaException")
    assert "roleArn" in answer["cause"]


RULES = {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "anything"},
         "Retry": [{"ErrorEquals": ["Drill.Failed"], "IntervalSeconds": 2, "MaxAttempts": 1}],
         "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.problem", "Next": "쉬기"}], "End": True}


def test_a_mocked_error_is_retriable_then_caught(clients, alice):
    sfn = clients(alice)
    failing = {"errorOutput": {"error": "Drill.Failed", "cause": "비가 온다"}}
    retriable = sfn.test_state(definition=json.dumps(RULES), input="{}", mock=failing, inspectionLevel="DEBUG")
    assert (retriable["status"], retriable["error"], retriable["cause"]) == ("RETRIABLE", "Drill.Failed", "비가 온다")
    assert retriable["inspectionData"]["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 2}
    caught = sfn.test_state(definition=json.dumps(RULES), input="{}", mock=failing, inspectionLevel="DEBUG",
                            stateConfiguration={"retrierRetryCount": 1})
    assert (caught["status"], caught["nextState"]) == ("CAUGHT_ERROR", "쉬기")
    assert json.loads(caught["output"]) == {"problem": {"Error": "Drill.Failed", "Cause": "비가 온다"}}
    assert caught["inspectionData"]["errorDetails"] == {"catchIndex": 0}
    mocked = sfn.test_state(definition=json.dumps(RULES), input="{}", mock={"result": '{"ok": true}'})
    assert (mocked["status"], json.loads(mocked["output"])) == ("SUCCEEDED", {"ok": True})


def test_a_state_of_a_whole_machine_is_tested_by_its_name(clients, alice):
    machine = {"StartAt": "훈련", "States": {
        "훈련": {"Type": "Choice", "Choices": [
            {"Variable": "$.TraningType", "StringEquals": "미드필더", "Next": "패스 훈련"}], "Default": "쉬기"},
        "패스 훈련": {"Type": "Pass", "End": True}, "쉬기": {"Type": "Succeed"}}}
    sfn = clients(alice)
    answer = sfn.test_state(definition=json.dumps(machine), stateName="훈련", input='{"TraningType": "미드필더"}')
    assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "패스 훈련")
    code, status, message = error_of(lambda: sfn.test_state(definition=json.dumps(machine), stateName="없음"))
    assert (code, status) == ("ValidationException", 400) and "stateName" in message


def test_jsonata_variables_come_back_after_assign(clients, alice):
    answer = clients(alice).test_state(
        definition=json.dumps({"QueryLanguage": "JSONata", "Type": "Pass", "Assign": {"total": "{% $total + 1 %}"},
                               "Output": "{% $states.input.n * 2 %}", "End": True}),
        input='{"n": 4}', variables='{"total": 41}', inspectionLevel="DEBUG")
    assert json.loads(answer["output"]) == 8
    assert json.loads(answer["inspectionData"]["variables"]) == {"total": 42}


@pytest.mark.parametrize("request_, expected", [
    ({"definition": '{"Type": "Pass"}'}, "InvalidDefinition"),
    ({"definition": "{not json"}, "InvalidDefinition"),
    ({"definition": '{"Type": "Pass", "End": true}', "input": "{oops"}, "InvalidExecutionInput"),
    ({"definition": '{"Type": "Pass", "End": true}', "variables": "[1"}, "ValidationException"),
    ({"definition": '{"Type": "Pass", "End": true}', "mock": {"result": "1"}}, "ValidationException"),
    ({"definition": '{"Type": "Pass", "End": true}', "roleArn": "not-an-arn"}, "InvalidArn"),
    ({"definition": '{"Type": "Pass", "End": true}', "stateConfiguration": {"mapIterationFailureCount": 1}},
     "ValidationException"),
])
def test_bad_requests_get_aws_codes(clients, alice, request_, expected):
    code, status, message = error_of(lambda: clients(alice).test_state(**request_))
    assert (code, status) == (expected, 400), message


def test_the_members_at_fault_are_named(clients, alice):
    sfn = clients(alice, validate=False)
    code, status, message = error_of(lambda: sfn.test_state(input="{}"))
    assert (code, status) == ("ValidationException", 400) and "definition" in message
    code, _, message = error_of(lambda: sfn.test_state(definition='{"Type": "Pass", "End": true}',
                                                       inspectionLevel="LOUD"))
    assert code == "ValidationException" and "inspectionLevel" in message
    code, _, message = error_of(lambda: clients(alice).test_state(
        definition='{"Type": "Pass", "End": true}', mock={"result": "1"}))
    assert "mock" in message


def test_another_persons_role_is_as_unknown_as_a_missing_one(clients, alice, bob):
    definition = json.dumps({"Type": "Pass", "End": True})
    theirs = error_of(lambda: clients(bob).test_state(definition=definition, roleArn=role_arn(alice)))
    missing = error_of(lambda: clients(bob).test_state(
        definition=definition, roleArn=f"arn:aws:iam::{bob['account']}:role/no-such-role"))
    assert theirs == missing and theirs[0] == "AccessDeniedException"
    mine = clients(bob).test_state(definition=definition, roleArn=role_arn(bob), input='{"b": 1}')
    assert mine["status"] == "SUCCEEDED"


def test_the_aws_cli_tests_a_state(server, alice):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": alice["key"], "AWS_SECRET_ACCESS_KEY": alice["secret"],
           "AWS_ENDPOINT_URL": server["base"], "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "awscli", "stepfunctions", "test-state", "--definition",
         '{"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}], '
         '"Default": "Small"}', "--input", '{"n": 5}', "--inspection-level", "DEBUG", "--output", "json"],
        env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "Big")
    assert json.loads(answer["inspectionData"]["input"]) == {"n": 5}


def test_a_context_given_is_what_the_state_reads(clients, alice):
    answer = clients(alice).test_state(
        definition=json.dumps({"Type": "Pass", "Parameters": {"name.$": "$$.Execution.Name", "account.$": "$$.Execution.RoleArn"},
                               "End": True}),
        context=json.dumps({"Execution": {"Name": "연습"}}), roleArn=role_arn(alice))
    assert json.loads(answer["output"]) == {"name": "연습", "account": role_arn(alice)}
