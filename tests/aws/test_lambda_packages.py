"""Dependencies through the Lambda API: CreateFunction and UpdateFunctionCode install the zip's
requirements.txt before anything is stored; a failed install is refused and the deployed code keeps
running."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.aws.lambda_kit import role_of, unique, zipped

USES_SIX = ("import six\n\n\ndef handler(event, context):\n"
            "    return {'six': six.__version__, 'from_package': not six.__file__.startswith('/var/task')}\n")


def invoke(lam, name):
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    return answer.get("FunctionError"), json.loads(answer["Payload"].read())


def test_a_function_with_requirements_runs_with_them_and_a_failed_install_changes_nothing(aws, alice):
    lam, name = aws(alice, "lambda"), unique("pkg")
    created = lam.create_function(
        FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role_of(aws, alice),
        Code={"ZipFile": zipped({"app.py": USES_SIX, "requirements.txt": "six==1.16.0\n"})})
    assert created["State"] == "Active"
    assert invoke(lam, name) == (None, {"six": "1.16.0", "from_package": True})

    with pytest.raises(ClientError) as caught:
        lam.update_function_code(FunctionName=name, ZipFile=zipped({
            "app.py": "def handler(event, context):\n    return 'new'\n",
            "requirements.txt": "flowbench-no-such-package-xyz==1.0\n"}))
    error = caught.value.response
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "requirements.txt" in error["Error"]["Message"]
    assert "flowbench-no-such-package-xyz" in error["Error"]["Message"]
    # The previous deployment still runs, and its code is what GetFunction reports.
    assert invoke(lam, name) == (None, {"six": "1.16.0", "from_package": True})


def test_a_creation_whose_install_fails_stores_no_function(aws, alice):
    lam, name = aws(alice, "lambda"), unique("pkg")
    with pytest.raises(ClientError) as caught:
        lam.create_function(
            FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role_of(aws, alice),
            Code={"ZipFile": zipped({"app.py": USES_SIX,
                                     "requirements.txt": "flowbench-no-such-package-xyz==1.0\n"})})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as missing:
        lam.get_function(FunctionName=name)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_node_function_with_a_package_json_dependency_runs_with_it(aws, alice):
    lam, name = aws(alice, "lambda"), unique("npm")
    package = json.dumps({"name": "fn", "version": "1.0.0", "dependencies": {"is-odd": "3.0.1"}})
    lam.create_function(
        FunctionName=name, Runtime="nodejs20.x", Handler="index.handler", Role=role_of(aws, alice),
        Code={"ZipFile": zipped({"package.json": package, "index.mjs":
                                 "import isOdd from 'is-odd';\nexport const handler = async (e) => [isOdd(3), isOdd(4)];\n"})})
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert answer.get("FunctionError") is None
    assert json.loads(answer["Payload"].read()) == [True, False]
