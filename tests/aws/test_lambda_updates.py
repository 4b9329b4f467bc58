"""CreateFunction and UpdateFunctionCode as Lambda answers them when dependencies must install:
at once, Pending / InProgress, then Active / Successful (or Failed with pip's message), which
boto3's waiters follow. Meanwhile Invoke of a Pending function and a second update are refused
with ResourceConflictException. The install waits on a wheel server the test holds back
(tests/wheel_server.py), so each step is seen while the install really runs."""

import json

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.aws.lambda_kit import role_of, unique, zipped
from tests.wheel_server import WheelServer

USES_PROBE = ("import flowbench_probe\n\n\ndef handler(event, context):\n"
              "    return {'probe': flowbench_probe.VALUE, 'code': CODE}\n")


def code(label: str, requirements: str) -> bytes:
    return zipped({"app.py": USES_PROBE + f"\nCODE = {label!r}\n", "requirements.txt": requirements})


def invoke(lam, name):
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert answer.get("FunctionError") is None, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def conflict(call, **params) -> str:
    with pytest.raises(ClientError) as refused:
        call(**params)
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("ResourceConflictException", 409)
    return error["Error"]["Message"]


def test_create_is_pending_while_it_installs_and_refuses_invoke_and_updates_until_active(aws, alice):
    lam, name = aws(alice, "lambda"), unique("pending")
    with WheelServer() as wheels:
        created = lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                                      Role=role_of(aws, alice), Code={"ZipFile": code("one", wheels.requirements())})
        assert (created["State"], created["LastUpdateStatus"], created["StateReasonCode"]) == \
            ("Pending", "InProgress", "Creating")
        wheels.wait_for_download()   # pip is installing right now
        config = lam.get_function(FunctionName=name)["Configuration"]
        assert (config["State"], config["LastUpdateStatus"]) == ("Pending", "InProgress")
        listed = [f for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]
                  if f["FunctionName"] == name]   # (the run's other tests made many functions)
        assert [f["State"] for f in listed] == ["Pending"]
        assert "state: Pending" in conflict(lam.invoke, FunctionName=name, Payload=b"{}")
        assert "update is in progress" in conflict(lam.update_function_code, FunctionName=name,
                                                   ZipFile=code("two", "six==1.16.0\n"))
        conflict(lam.update_function_configuration, FunctionName=name, Timeout=9)
        wheels.open()
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["State"], config["LastUpdateStatus"], config["Timeout"]) == ("Active", "Successful", 3)
    assert invoke(lam, name) == {"probe": "probe", "code": "one"}


def test_an_update_is_in_progress_while_it_installs_the_old_code_runs_and_a_second_update_is_refused(aws, alice):
    lam, name = aws(alice, "lambda"), unique("updating")
    lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role_of(aws, alice),
                        Code={"ZipFile": zipped({"app.py": "def handler(e, c):\n    return {'code': 'zero'}\n"})})
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    with WheelServer() as wheels:
        answer = lam.update_function_code(FunctionName=name, ZipFile=code("one", wheels.requirements()))
        assert (answer["State"], answer["LastUpdateStatus"]) == ("Active", "InProgress")
        wheels.wait_for_download()
        assert lam.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"] == "InProgress"
        assert invoke(lam, name) == {"code": "zero"}   # the deployed code runs meanwhile
        message = conflict(lam.update_function_code, FunctionName=name, ZipFile=code("two", "six==1.16.0\n"))
        assert f"function:{name}" in message
        conflict(lam.publish_version, FunctionName=name)
        wheels.open()
        lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    assert lam.get_function_configuration(FunctionName=name)["LastUpdateStatus"] == "Successful"
    assert invoke(lam, name) == {"probe": "probe", "code": "one"}
    # Cached now: the same dependencies again deploy at once.
    again = lam.update_function_code(FunctionName=name, ZipFile=code("three", _same_requirements(lam, name)))
    assert again["LastUpdateStatus"] == "Successful"
    assert invoke(lam, name) == {"probe": "probe", "code": "three"}


def _same_requirements(lam, name) -> str:
    """The requirements.txt the function runs with now (from its code's download)."""
    import io
    import urllib.request
    import zipfile

    location = lam.get_function(FunctionName=name)["Code"]["Location"]
    with urllib.request.urlopen(location) as response:
        return zipfile.ZipFile(io.BytesIO(response.read())).read("requirements.txt").decode()


def test_a_failed_update_is_failed_with_pips_message_and_the_deployed_code_keeps_running(aws, alice):
    lam, name = aws(alice, "lambda"), unique("failing")
    lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role_of(aws, alice),
                        Code={"ZipFile": zipped({"app.py": "def handler(e, c):\n    return {'code': 'zero'}\n"})})
    answer = lam.update_function_code(FunctionName=name, ZipFile=code(
        "one", f"flowbench-no-such-package-xyz==1.0\n# {unique()}\n"))
    assert answer["LastUpdateStatus"] == "InProgress"
    with pytest.raises(WaiterError):
        lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["State"], config["LastUpdateStatus"], config["LastUpdateStatusReasonCode"]) == \
        ("Active", "Failed", "DependencyError")
    assert "flowbench-no-such-package-xyz" in config["LastUpdateStatusReason"]
    assert invoke(lam, name) == {"code": "zero"}
