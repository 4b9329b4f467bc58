"""StartSyncExecution in the distributed mode: the web process answers once a Celery worker has
run the Express execution to its end (the web hears it through the Redis channel layer)."""

from __future__ import annotations

import json

from botocore.config import Config

SLOW = {"StartAt": "Nap", "States": {
    "Nap": {"Type": "Wait", "Seconds": 1, "Next": "Answer"},
    "Answer": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)", "id.$": "$$.Execution.Id"},
               "End": True}}}


def _client(cluster, session):
    config = Config(retries={"max_attempts": 1}, inject_host_prefix=False, read_timeout=120)
    return (session.client("stepfunctions", endpoint_url=cluster.base_url, config=config),
            session.client("sts", endpoint_url=cluster.base_url, config=config))


def test_a_sync_express_execution_run_by_a_worker_answers_the_call(cluster, admin_session):
    sfn, sts = _client(cluster, admin_session)
    account = sts.get_caller_identity()["Account"]
    machine = sfn.create_state_machine(
        name="sync-sum", type="EXPRESS", definition=json.dumps(SLOW),
        roleArn=f"arn:aws:iam::{account}:role/flowbench-sample-role")["stateMachineArn"]
    result = sfn.start_sync_execution(stateMachineArn=machine, input='{"a": 2, "b": 40}')
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"sum": 42, "id": result["executionArn"]}
    assert result["stopDate"] > result["startDate"]
    described = sfn.describe_execution(executionArn=result["executionArn"])
    assert (described["status"], described["output"]) == ("SUCCEEDED", result["output"])
