"""Task-token callbacks through the real boto3 client and the AWS CLI, against the live server: a
`.waitForTaskToken` Task hands its token to a function and waits, parked; SendTaskSuccess,
SendTaskFailure and SendTaskHeartbeat answer it, with AWS's errors for a token answered twice,
another person's token, a malformed token and output that is not JSON. Executions are started
through the studio's JSON API (StartExecution is another part of the API)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.integration.cluster import ApiClient, wait_until

WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"
ECHO = "def lambda_handler(event, context):\n    return {'handed': event}\n"
AWS_CLI = "/work/main/.venv/bin/aws"


def studio(server, person) -> ApiClient:
    return ApiClient(server["base"], person["name"]).sign_in(person["link"])


def poll(what: str, check, timeout: float = 60):
    """Returns check()'s first truthy value, asking the live server again until `timeout`."""
    return wait_until(check, timeout, what)


@pytest.fixture
def approval(server, fresh, aws):
    """A fresh person's function `notify`, a role made with IAM that may invoke it, and a published
    machine `approval` whose Task hands `notify` its token and waits; yields a starter that
    returns (execution id, token) once the Task waits."""
    client = studio(server, fresh)
    iam = aws(fresh, "iam")
    role = f"callbacks-{uuid.uuid4().hex[:6]}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName=role, PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                "Resource": "*"}]}))
    client.ok("POST", "/api/functions", {"name": "notify", "runtime": "python"}, status=201)
    client.ok("PUT", "/api/functions/notify/code", {"files": {"lambda_function.py": ECHO}})
    client.ok("POST", "/api/functions/notify/deploy")

    def machine(name, **task):
        definition = {"StartAt": "Ask", "States": {"Ask": {
            "Type": "Task", "Resource": WAIT, "End": True, **task,
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}}}}
        client.ok("POST", "/api/state-machines", {"name": name, "type": "STANDARD", "role": role,
                                                  "definition": json.dumps(definition)}, status=201)
        client.ok("POST", f"/api/state-machines/{name}/versions", status=201)

    def start(name="approval", **task):
        machine(name, **task)
        execution = client.ok("POST", f"/api/state-machines/{name}/executions", {"input": "{}"}, status=201)["id"]
        waiting = poll("the task to wait on its token", lambda: client.ok(
            "GET", f"/api/executions/{execution}/callbacks")["waiting"])
        return execution, waiting[0]["token"]

    def ended(execution):
        return poll("the execution's end", lambda: (found := client.ok("GET", f"/api/executions/{execution}"))
                    ["status"] != "RUNNING" and found)

    def events(execution):
        return client.ok("GET", f"/api/executions/{execution}/events")["events"]

    start.ended, start.events, start.person = ended, events, fresh
    yield start
    client.close()


def test_send_task_success_resumes_the_execution_with_the_output(approval, aws):
    sfn = aws(approval.person, "stepfunctions")
    execution, token = approval()
    assert sfn.send_task_success(taskToken=token, output='{"approved": true}')["ResponseMetadata"]["HTTPStatusCode"] \
        == 200
    done = approval.ended(execution)
    assert done["status"] == "SUCCEEDED", done["cause"]
    assert json.loads(done["output"]) == {"approved": True}
    succeeded = [e for e in approval.events(execution) if e["type"] == "TaskSucceeded"]
    assert json.loads(succeeded[0]["taskSucceededEventDetails"]["output"]) == {"approved": True}
    with pytest.raises(ClientError) as again:
        sfn.send_task_success(taskToken=token, output="{}")
    assert again.value.response["Error"]["Code"] == "TaskTimedOut"
    assert again.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_send_task_failure_fails_the_task_with_its_error_and_cause(approval, aws):
    sfn = aws(approval.person, "stepfunctions")
    execution, token = approval()
    sfn.send_task_failure(taskToken=token, error="Rejected", cause="The reviewer said no")
    done = approval.ended(execution)
    assert (done["status"], done["error"], done["cause"]) == ("FAILED", "Rejected", "The reviewer said no")


def test_send_task_heartbeat_keeps_the_task_and_answers_an_empty_result(approval, aws):
    sfn = aws(approval.person, "stepfunctions")
    execution, token = approval(HeartbeatSeconds=300)
    response = sfn.send_task_heartbeat(taskToken=token)
    assert set(response) == {"ResponseMetadata"}
    sfn.send_task_success(taskToken=token, output='"alive"')
    assert json.loads(approval.ended(execution)["output"]) == "alive"


def test_bad_answers_get_awss_errors_and_the_task_still_waits(approval, aws, bob):
    sfn = aws(approval.person, "stepfunctions")
    execution, token = approval()
    cases = [
        (sfn, {"taskToken": token, "output": "{not json"}, "InvalidOutput"),
        (sfn, {"taskToken": "not a token", "output": "{}"}, "InvalidToken"),
        (sfn, {"taskToken": "A" * 64, "output": "{}"}, "TaskDoesNotExist"),
        # Bob's key: Alice's token does not exist for him.
        (aws(bob, "stepfunctions"), {"taskToken": token, "output": "{}"}, "TaskDoesNotExist"),
    ]
    for client, params, code in cases:
        with pytest.raises(ClientError) as refused:
            client.send_task_success(**params)
        assert refused.value.response["Error"]["Code"] == code, params
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as bob_failure:
        aws(bob, "stepfunctions").send_task_failure(taskToken=token, error="x")
    assert bob_failure.value.response["Error"]["Code"] == "TaskDoesNotExist"
    unvalidated = aws(approval.person, "stepfunctions", validate=False)
    with pytest.raises(ClientError) as missing:
        unvalidated.send_task_success(taskToken=token)
    assert missing.value.response["Error"]["Code"] == "ValidationException"
    assert "output" in missing.value.response["Error"]["Message"]
    sfn.send_task_success(taskToken=token, output="1")
    assert approval.ended(execution)["status"] == "SUCCEEDED"


def test_a_timed_out_tasks_token_answers_task_timed_out(approval, aws):
    sfn = aws(approval.person, "stepfunctions")
    execution, token = approval(TimeoutSeconds=1)
    done = approval.ended(execution)
    assert (done["status"], done["error"]) == ("FAILED", "States.Timeout")
    with pytest.raises(ClientError) as late:
        sfn.send_task_success(taskToken=token, output="{}")
    assert late.value.response["Error"]["Code"] == "TaskTimedOut"


def test_the_aws_cli_sends_task_success(approval, server):
    execution, token = approval()
    person = approval.person
    env = {**os.environ, "AWS_ACCESS_KEY_ID": person["key"], "AWS_SECRET_ACCESS_KEY": person["secret"],
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    env.pop("AWS_PROFILE", None)
    done = subprocess.run([AWS_CLI, "stepfunctions", "send-task-success", "--endpoint-url", server["base"],
                           "--task-token", token, "--task-output", '{"via": "cli"}'],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(approval.ended(execution)["output"]) == {"via": "cli"}


def test_a_nested_execution_answers_its_parents_token_with_send_task_success(server, fresh, aws):
    """A parent's states:startExecution.waitForTaskToken hands its token to the child in its input;
    SendTaskSuccess with it (as the child's worker would send it) ends the parent's Task."""
    client = studio(server, fresh)
    iam = aws(fresh, "iam")
    role = f"nested-{uuid.uuid4().hex[:6]}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName=role, PolicyName="start", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "states:StartExecution",
                                                "Resource": "*"}]}))
    child_arn = f"arn:aws:states:us-east-1:{fresh['account']}:stateMachine:child"
    machines = {
        "child": {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 1, "End": True}}},
        "parent": {"StartAt": "Start", "States": {"Start": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken", "End": True,
            "Parameters": {"StateMachineArn": child_arn, "Name": "the-child",
                           "Input": {"token.$": "$$.Task.Token",
                                     "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}}}}},
    }
    for name, definition in machines.items():
        client.ok("POST", "/api/state-machines", {"name": name, "type": "STANDARD", "role": role,
                                                  "definition": json.dumps(definition)}, status=201)
        client.ok("POST", f"/api/state-machines/{name}/versions", status=201)
    parent = client.ok("POST", "/api/state-machines/parent/executions", {"input": "{}"}, status=201)["id"]
    child = poll("the child execution", lambda: client.ok("GET", f"/api/executions/{parent}/callbacks")["children"])[0]
    assert child["name"] == "the-child"
    given = json.loads(client.ok("GET", f"/api/executions/{child['id']}")["input"])
    assert given["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"].endswith(":parent:" + client.ok(
        "GET", f"/api/executions/{parent}")["name"])
    assert client.ok("GET", f"/api/executions/{child['id']}/callbacks")["parent"]["id"] == parent
    aws(fresh, "stepfunctions").send_task_success(taskToken=given["token"], output='{"child": "done"}')
    poll("the parent's end", lambda: client.ok("GET", f"/api/executions/{parent}")["status"] == "SUCCEEDED")
    assert json.loads(client.ok("GET", f"/api/executions/{parent}")["output"]) == {"child": "done"}
    client.close()
