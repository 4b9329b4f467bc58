"""The AWS SDK inside functions: boto3 in a Python handler (and the JavaScript SDK v3 in a Node.js
one) signs with its execution role's
temporary credentials and reaches Flowbench's own API, allowed or refused by the role's policy;
those credentials are refused once expired and never reach the studio's logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws.lambda_kit import unique, zipped
from tests.live_server import manage

CALLER = '''import json
import os

import boto3


def handler(event, context):
    sfn = boto3.client("stepfunctions")
    found = {"caller": boto3.client("sts").get_caller_identity()["Arn"], "key": os.environ["AWS_ACCESS_KEY_ID"]}
    try:
        if event.get("start"):
            found["execution"] = sfn.start_execution(stateMachineArn=event["start"])["executionArn"]
        if event.get("sync"):   # sent to "sync-" + the endpoint unless the host prefix is off
            found["sync"] = sfn.start_sync_execution(stateMachineArn=event["sync"], input='{"n": 1}')["output"]
        found["machines"] = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    except Exception as exc:
        found["error"] = {"code": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}
    if event.get("leak"):
        print("secret", os.environ["AWS_SECRET_ACCESS_KEY"], "token", os.environ["AWS_SESSION_TOKEN"])
    if event.get("credentials"):
        found["credentials"] = {name: os.environ[name] for name in
                                ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    if event.get("elsewhere"):
        import urllib.request
        try:
            urllib.request.urlopen(event["elsewhere"], timeout=3)
            found["elsewhere"] = "reached"
        except OSError as exc:
            found["elsewhere"] = "unreachable: " + str(exc)
    return found
'''

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
    "Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}, "Action": "sts:AssumeRole"}]})
# The same handler in Node.js, as an ES module importing the SDK v3's clients (an import, which
# resolves packages up the directory tree, where the clients are mounted).
NODE_CALLER = '''import { SFNClient, StartExecutionCommand, ListStateMachinesCommand } from "@aws-sdk/client-sfn";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";

export const handler = async (event) => {
  const sfn = new SFNClient({});
  const found = { key: process.env.AWS_ACCESS_KEY_ID,
                  caller: (await new STSClient({}).send(new GetCallerIdentityCommand({}))).Arn };
  try {
    if (event.start) {
      found.execution = (await sfn.send(new StartExecutionCommand({ stateMachineArn: event.start }))).executionArn;
    }
    found.machines = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines.map((m) => m.name);
  } catch (err) {
    found.error = { code: err.name, message: err.message };
  }
  if (event.elsewhere) {
    try {
      await fetch(event.elsewhere, { signal: AbortSignal.timeout(3000) });
      found.elsewhere = "reached";
    } catch (err) {
      found.elsewhere = "unreachable: " + err.message;
    }
  }
  return found;
};
'''
CODE = {"python": ("python3.11", "app.handler", {"app.py": CALLER}),
        "nodejs": ("nodejs20.x", "index.handler", {"index.mjs": NODE_CALLER})}

MACHINE = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


def allow(*actions, deny=()):
    statements = [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}] if actions else []
    if deny:
        statements.append({"Effect": "Deny", "Action": list(deny), "Resource": "*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@pytest.fixture(params=["python", "nodejs"])
def language(request):
    return request.param


@pytest.fixture
def setup(aws, fresh, language):
    """A role of `fresh`'s, a state machine, and a function calling the AWS SDK with that role
    (Python's boto3 or the JavaScript SDK v3, as `language` says)."""
    iam = aws(fresh, "iam")
    role = unique("fn-role")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    machine = aws(fresh, "stepfunctions").create_state_machine(
        name=unique("m"), definition=MACHINE, roleArn=role_arn)["stateMachineArn"]
    name = unique("caller")
    runtime, handler, files = CODE[language]
    aws(fresh, "lambda").create_function(FunctionName=name, Runtime=runtime, Handler=handler,
                                         Role=role_arn, Code={"ZipFile": zipped(files)}, Timeout=30, MemorySize=256)

    def invoke(event):
        answer = aws(fresh, "lambda").invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
        assert "FunctionError" not in answer, answer["Payload"].read()
        return json.loads(answer["Payload"].read()), answer

    def policy(document):
        iam.put_role_policy(RoleName=role, PolicyName="calls", PolicyDocument=document)

    return {"role": role, "machine": machine, "name": name, "invoke": invoke, "policy": policy, "iam": iam}


def test_a_handler_calls_step_functions_as_its_role_when_the_policy_allows_it(aws, fresh, setup):
    setup["policy"](allow("states:StartExecution", "states:ListStateMachines"))
    found, _ = setup["invoke"]({"start": setup["machine"]})
    assert found["key"].startswith("ASIA")
    assert found["caller"] == f"arn:aws:sts::{fresh['account']}:assumed-role/{setup['role']}/{setup['name']}"
    assert "error" not in found, found
    assert setup["machine"].rsplit(":", 1)[1] in found["machines"]
    execution = aws(fresh, "stepfunctions").describe_execution(executionArn=found["execution"])
    assert execution["stateMachineArn"] == setup["machine"]


@pytest.mark.parametrize("language", ["python"])
def test_start_sync_execution_works_inside_with_the_host_prefix_off(aws, fresh, setup):
    setup["policy"](allow("states:StartSyncExecution", "states:ListStateMachines"))
    role_arn = setup["iam"].get_role(RoleName=setup["role"])["Role"]["Arn"]
    express = aws(fresh, "stepfunctions").create_state_machine(
        name=unique("express"), definition=MACHINE, roleArn=role_arn, type="EXPRESS")["stateMachineArn"]
    found, _ = setup["invoke"]({"sync": express})
    assert "error" not in found, found
    assert json.loads(found["sync"]) == {"n": 1}


def test_an_explicit_deny_refuses_the_call_naming_action_and_resource(fresh, setup):
    setup["policy"](allow("states:*", deny=["states:StartExecution"]))
    found, _ = setup["invoke"]({"start": setup["machine"]})
    assert found["error"]["code"] == "AccessDeniedException"
    message = found["error"]["message"]
    assert f"assumed-role/{setup['role']}/{setup['name']} is not authorized to perform: states:StartExecution" in message
    assert f"on resource: {setup['machine']}" in message and "explicit deny" in message


def test_without_an_allow_the_call_is_refused_and_a_new_policy_applies_at_once(setup):
    setup["policy"](allow("states:StartExecution"))
    found, _ = setup["invoke"]({})
    assert found["error"]["code"] == "AccessDeniedException"
    assert "states:ListStateMachines" in found["error"]["message"]
    assert "because no identity-based policy allows the states:ListStateMachines action" in found["error"]["message"]
    setup["policy"](allow("states:ListStateMachines"))
    found, _ = setup["invoke"]({})
    assert "error" not in found


def test_another_persons_machine_is_not_found_from_a_function_allowed_everything(aws, bob, setup):
    setup["policy"](allow("states:*"))
    theirs = aws(bob, "stepfunctions").create_state_machine(
        name=unique("theirs"), definition=MACHINE,
        roleArn=aws(bob, "iam").create_role(RoleName=unique("r"), AssumeRolePolicyDocument=TRUST)["Role"]["Arn"],
    )["stateMachineArn"]
    found, _ = setup["invoke"]({"start": theirs})
    assert found["error"]["code"] == "StateMachineDoesNotExist", found
    assert aws(bob, "stepfunctions").list_executions(stateMachineArn=theirs)["executions"] == []


@pytest.mark.parametrize("language", ["python"])
def test_a_function_without_a_role_runs_with_the_sample_role(server, fresh, setup):
    # Functions made in the studio name no role; they run with the person's sample role, whose
    # policy allows invoking their functions and nothing of Step Functions.
    manage(server["env"], code=("from editor.models import Function\n"
                                f"Function.objects.filter(name={setup['name']!r}).update(role=None)\n"))
    found, _ = setup["invoke"]({})
    assert found["caller"] == (f"arn:aws:sts::{fresh['account']}:assumed-role/flowbench-sample-role/"
                               f"{setup['name']}")
    assert found["error"]["code"] == "AccessDeniedException"


@pytest.mark.parametrize("language", ["python"])
def test_a_function_called_by_a_state_machine_task_gets_its_credentials_too(aws, fresh, setup):
    setup["policy"](allow("states:ListStateMachines", "lambda:InvokeFunction"))
    lam, sfn = aws(fresh, "lambda"), aws(fresh, "stepfunctions")
    function_arn = lam.get_function(FunctionName=setup["name"])["Configuration"]["FunctionArn"]
    role_arn = setup["iam"].get_role(RoleName=setup["role"])["Role"]["Arn"]
    machine = sfn.create_state_machine(name=unique("calls"), roleArn=role_arn, definition=json.dumps(
        {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": function_arn, "End": True}}}))
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")["executionArn"]
    deadline = time.monotonic() + 60
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["caller"].endswith(f":assumed-role/{setup['role']}/{setup['name']}") and "error" not in output


def test_a_function_with_its_network_off_reaches_the_api_and_nothing_else(server, setup):
    setup["policy"](allow("states:ListStateMachines"))
    # Functions made through the API run with their network switch off (the studio's default).
    found, _ = setup["invoke"]({"elsewhere": server["base"] + "/"})
    assert "error" not in found and setup["machine"].rsplit(":", 1)[1] in found["machines"]
    assert found["elsewhere"].startswith("unreachable")


def test_with_its_network_on_a_function_reaches_the_api_at_its_own_address(server, setup):
    setup["policy"](allow("states:ListStateMachines"))
    manage(server["env"], code=("from editor.models import Function, FunctionVersion\n"
                                f"Function.objects.filter(name={setup['name']!r}).update(network=True)\n"
                                f"FunctionVersion.objects.filter(function__name={setup['name']!r}).update(network=True)\n"))
    found, _ = setup["invoke"]({"elsewhere": server["base"] + "/"})
    assert "error" not in found and setup["machine"].rsplit(":", 1)[1] in found["machines"]
    assert found["elsewhere"] == "reached"


@pytest.mark.parametrize("language", ["python"])
def test_the_credentials_never_reach_the_logs(server, aws, fresh, setup):
    setup["policy"](allow("states:ListStateMachines"))
    found, answer = setup["invoke"]({"leak": True, "credentials": True})
    import base64
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "secret ****" in tail and "token ****" in tail
    for value in found["credentials"].values():
        if value != found["key"]:
            assert value not in tail
    # The studio's record of the invocation (its Monitor and Test pages) holds the same lines.
    counts = manage(server["env"], code=(
        "from editor.models import Invocation\n"
        f"mine = Invocation.objects.filter(function__name={setup['name']!r})\n"
        f"print(mine.count(), mine.filter(logs__contains={found['credentials']['AWS_SESSION_TOKEN']!r}).count(), "
        f"mine.filter(logs__contains={found['credentials']['AWS_SECRET_ACCESS_KEY']!r}).count(), "
        "mine.filter(logs__contains='token ****').count())\n"))
    assert counts.split()[-4:] == ["1", "0", "0", "1"]


@pytest.mark.parametrize("language", ["python"])
def test_the_credentials_work_from_outside_and_are_refused_once_expired(server, aws, fresh, setup):
    setup["policy"](allow("states:ListStateMachines"))
    found, _ = setup["invoke"]({"credentials": True})
    given = found["credentials"]
    session = boto3.session.Session(aws_access_key_id=given["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=given["AWS_SECRET_ACCESS_KEY"],
                                    aws_session_token=given["AWS_SESSION_TOKEN"], region_name="us-east-1")
    config = Config(retries={"max_attempts": 1})
    sfn = session.client("stepfunctions", endpoint_url=server["base"], config=config)
    iam = session.client("iam", endpoint_url=server["base"], config=config)
    assert setup["machine"] in [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    with pytest.raises(ClientError) as refused:
        iam.list_roles()
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # The AWS CLI signs with them too (AWS_SESSION_TOKEN).
    env = {**os.environ, **given, "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.pop("AWS_PROFILE", None)
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "aws"), "--endpoint-url", server["base"],
                           "--output", "json", "sts", "get-caller-identity"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Arn"].endswith(f":assumed-role/{setup['role']}/{setup['name']}")
    # A wrong token is an unknown key, as STS answers it.
    wrong = boto3.session.Session(aws_access_key_id=given["AWS_ACCESS_KEY_ID"],
                                  aws_secret_access_key=given["AWS_SECRET_ACCESS_KEY"],
                                  aws_session_token=given["AWS_SESSION_TOKEN"][:-4] + "AAAA", region_name="us-east-1")
    with pytest.raises(ClientError) as unknown:
        wrong.client("stepfunctions", endpoint_url=server["base"], config=config).list_state_machines()
    assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"
    manage(server["env"], code=(
        "from datetime import timedelta\nfrom django.utils import timezone\nfrom editor.models import RoleSession\n"
        f"RoleSession.objects.filter(access_key_id={given['AWS_ACCESS_KEY_ID']!r})"
        ".update(expires_at=timezone.now() - timedelta(seconds=1))\n"))
    with pytest.raises(ClientError) as expired:
        sfn.list_state_machines()
    assert expired.value.response["Error"]["Code"] == "ExpiredTokenException"
    with pytest.raises(ClientError) as expired_query:
        iam.list_roles()
    assert expired_query.value.response["Error"]["Code"] == "ExpiredToken"
