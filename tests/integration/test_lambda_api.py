"""The Lambda API in the distributed mode: boto3 against the cluster's web process, every
invocation run by a Celery worker (the web process runs no function): RequestResponse waits for
the worker's answer, Event answers 202 at once and a worker runs it, reserved concurrency 0
throttles across the cluster."""

from __future__ import annotations

import json

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws.lambda_kit import TRUST_LAMBDA, echo_zip, unique
from tests.integration.cluster import wait_until


@pytest.fixture(scope="module")
def lam_and_iam(cluster, admin_session):
    session = admin_session
    config = Config(retries={"max_attempts": 1}, read_timeout=120)
    return (session.client("lambda", endpoint_url=cluster.base_url, config=config),
            session.client("iam", endpoint_url=cluster.base_url, config=config))


def test_invocations_through_the_api_run_on_the_workers(cluster, admin, lam_and_iam):
    lam, iam = lam_and_iam
    role = iam.create_role(RoleName=unique("it-role"), AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]["Arn"]
    name = unique("it-api")
    lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role,
                        Code={"ZipFile": echo_zip()}, Publish=True)

    answer = lam.invoke(FunctionName=name, Qualifier="1", Payload=b'{"where": "worker"}')
    assert (answer["StatusCode"], answer["ExecutedVersion"]) == (200, "1")
    assert json.loads(answer["Payload"].read())["echo"] == {"where": "worker"}

    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"queued": true}')["StatusCode"] == 202

    def finished_event():
        found = admin.ok("GET", f"/api/functions/{name}/invocations")["invocations"]
        queued = [i for i in found if i["status"] != "running" and i["version"] == "$LATEST"]
        return queued[0] if queued else None

    event = wait_until(finished_event, 60, "the Event invocation to be run by a worker")
    assert (event["status"], event["source"]) == ("succeeded", "api")

    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as throttled:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert (throttled.value.response["Error"]["Code"],
            throttled.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("TooManyRequestsException", 429)


def test_create_and_update_installs_run_on_a_worker_and_the_waiters_follow_them(cluster, lam_and_iam):
    """CreateFunction and UpdateFunctionCode answer Pending / InProgress at once; pip runs on a
    Celery worker (the install's runner is a worker's process, never the web's), then Active."""
    from tests.aws.lambda_kit import zipped
    from tests.wheel_server import WheelServer

    lam, iam = lam_and_iam
    role = iam.create_role(RoleName=unique("it-role"), AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]["Arn"]
    name = unique("it-pkg")
    handler = "import flowbench_probe\n\n\ndef handler(e, c):\n    return [flowbench_probe.VALUE, CODE]\n"
    worker_pids = {p.pid for p in cluster.worker_processes.values()}

    def runner_pid() -> int:
        runner = wait_until(lambda: cluster.sql(
            "SELECT u.runner FROM editor_functionupdate u JOIN editor_function f ON f.id = u.function_id "
            "WHERE f.name = %s AND u.status = 'InProgress'", [name])[0][0], 30, "the install's runner")
        return int(runner.split(":")[1])

    with WheelServer() as wheels:
        created = lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role,
                                      Code={"ZipFile": zipped({"app.py": handler + "CODE = 1\n",
                                                               "requirements.txt": wheels.requirements()})})
        assert created["State"] == "Pending"
        wheels.wait_for_download()
        assert runner_pid() in worker_pids and cluster.web.pid not in worker_pids
        wheels.open()
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    assert json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()) == ["probe", 1]

    with WheelServer(value="second") as wheels:
        updated = lam.update_function_code(FunctionName=name, ZipFile=zipped({
            "app.py": handler + "CODE = 2\n", "requirements.txt": wheels.requirements()}))
        assert updated["LastUpdateStatus"] == "InProgress"
        wheels.wait_for_download()
        assert runner_pid() in worker_pids
        with pytest.raises(ClientError) as refused:
            lam.update_function_code(FunctionName=name, ZipFile=zipped({"app.py": handler + "CODE = 3\n"}))
        assert refused.value.response["Error"]["Code"] == "ResourceConflictException"
        wheels.open()
        lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    assert json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()) == ["second", 2]
