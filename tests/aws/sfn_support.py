"""What the Step Functions API's live tests share: definitions, the person's sample role, the AWS
CLI run as a person, and waiting for an execution to end through DescribeExecution."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from botocore.exceptions import ClientError

SAMPLE_ROLE = "flowbench-sample-role"

PASS = {"StartAt": "Greet", "States": {"Greet": {"Type": "Pass", "Parameters": {"hello.$": "$.who"},
                                                 "End": True}}}
FAIL = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Custom.Boom", "Cause": "on purpose"}}}
# Runs long enough for a test to see it RUNNING (the engine parks it; nothing sleeps in the test).
WAIT = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 600, "Next": "Done"},
                                     "Done": {"Type": "Succeed"}}}


def text(definition: dict) -> str:
    return json.dumps(definition)


def unique(prefix: str = "m") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def role_arn(person) -> str:
    return f"arn:aws:iam::{person['account']}:role/{SAMPLE_ROLE}"


def code_of(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return caught.value.response["Error"]["Code"]


def create(sfn, person, definition=PASS, **more) -> str:
    return sfn.create_state_machine(name=more.pop("name", unique()), definition=text(definition),
                                    roleArn=role_arn(person), **more)["stateMachineArn"]


def finished(sfn, execution_arn: str, within: float = 60) -> dict:
    """Returns DescribeExecution once the execution has ended (a deadline loop against the live
    server: the only way a client learns an asynchronous execution's end)."""
    deadline = time.monotonic() + within
    while True:
        found = sfn.describe_execution(executionArn=execution_arn)
        if found["status"] != "RUNNING":
            return found
        assert time.monotonic() < deadline, f"{execution_arn} still RUNNING after {within}s"


def cli(server, person, *args) -> tuple[int, object, str]:
    """Runs the AWS CLI (awscli v1) as `person`; returns (exit code, parsed JSON output, stderr)."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": person["key"], "AWS_SECRET_ACCESS_KEY": person["secret"],
           "AWS_ENDPOINT_URL": server["base"], "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}
    done = subprocess.run([sys.executable, "-m", "awscli", *args, "--output", "json"], env=env,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done.stderr
