"""Dependencies through the Lambda API: CreateFunction and UpdateFunctionCode install the zip's
requirements.txt in the background (Pending / InProgress meanwhile); a failed install fails the
update with pip's message and the deployed code keeps running."""

import json
import uuid

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.aws.lambda_kit import role_of, unique, zipped

USES_SIX = ("import six\n\n\ndef handler(event, context):\n"
            "    return {'six': six.__version__, 'from_package': not six.__file__.startswith('/var/task')}\n")


def invoke(lam, name):
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    return answer.get("FunctionError"), json.loads(answer["Payload"].read())


def test_a_function_with_requirements_is_pending_then_active_and_a_failed_update_changes_nothing(aws, alice):
    lam, name = aws(alice, "lambda"), unique("pkg")
    # A requirements file of this run's own, so that it is not in the cache yet.
    requirements = f"six==1.16.0  # {uuid.uuid4().hex}\n"
    created = lam.create_function(
        FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role_of(aws, alice),
        Code={"ZipFile": zipped({"app.py": USES_SIX, "requirements.txt": requirements})})
    assert (created["State"], created["LastUpdateStatus"]) == ("Pending", "InProgress")
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    assert lam.get_function_configuration(FunctionName=name)["LastUpdateStatus"] == "Successful"
    assert invoke(lam, name) == (None, {"six": "1.16.0", "from_package": True})

    # A failed install fails the update (LastUpdateStatus Failed, pip's message), as on Lambda.
    lam.update_function_code(FunctionName=name, ZipFile=zipped({
        "app.py": "def handler(event, context):\n    return 'new'\n",
        "requirements.txt": f"flowbench-no-such-package-xyz==1.0  # {uuid.uuid4().hex}\n"}))
    with pytest.raises(WaiterError):
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    config = lam.get_function_configuration(FunctionName=name)
    assert config["LastUpdateStatus"] == "Failed"
    assert "requirements.txt" in config["LastUpdateStatusReason"]
    assert "flowbench-no-such-package-xyz" in config["LastUpdateStatusReason"]
    # The previous deployment still runs.
    assert invoke(lam, name) == (None, {"six": "1.16.0", "from_package": True})


def test_a_creation_whose_install_fails_is_failed_with_pips_message_and_runs_nothing(aws, alice):
    lam, name = aws(alice, "lambda"), unique("pkg")
    created = lam.create_function(
        FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role_of(aws, alice),
        Code={"ZipFile": zipped({"app.py": USES_SIX, "requirements.txt": "flowbench-no-such-package-xyz==1.0\n"})})
    assert created["State"] == "Pending"
    with pytest.raises(WaiterError):
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["State"], config["StateReasonCode"], config["LastUpdateStatus"]) == \
        ("Failed", "DependencyError", "Failed")
    assert "flowbench-no-such-package-xyz" in config["StateReason"]
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert refused.value.response["Error"]["Code"] == "ResourceConflictException"
    # Fixed code deploys and runs.
    lam.update_function_code(FunctionName=name, ZipFile=zipped({"app.py": USES_SIX, "requirements.txt": "six==1.16.0\n"}))
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    assert invoke(lam, name) == (None, {"six": "1.16.0", "from_package": True})


def test_a_node_function_with_a_package_json_dependency_runs_with_it(aws, alice):
    lam, name = aws(alice, "lambda"), unique("npm")
    package = json.dumps({"name": "fn", "version": "1.0.0", "dependencies": {"is-odd": "3.0.1"}})
    lam.create_function(
        FunctionName=name, Runtime="nodejs20.x", Handler="index.handler", Role=role_of(aws, alice),
        Code={"ZipFile": zipped({"package.json": package, "index.mjs":
                                 "import isOdd from 'is-odd';\nexport const handler = async (e) => [isOdd(3), isOdd(4)];\n"})})
    lam.get_waiter("function_active_v2").wait(FunctionName=name)   # Pending while npm installs
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert answer.get("FunctionError") is None
    assert json.loads(answer["Payload"].read()) == [True, False]
