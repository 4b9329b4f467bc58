"""Layers through the Lambda API with boto3 and the AWS CLI: versions published from zips, listed,
downloaded, listed by functions (at most five, extracted under /opt in order) and deleted; bad zips
and other people's layers refused."""

import json
import stat
import zipfile
import io

import pytest
import httpx
from botocore.exceptions import ClientError

from tests.aws.lambda_kit import role_of, unique, zipped
from tests.aws.test_lambda_functions import cli

USES_LAYER = ("import shared\n\n\ndef handler(event, context):\n"
              "    import os\n"
              "    return [shared.WHO, shared.__file__, open('/opt/data.txt').read()]\n")


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def publish(lam, name, files, **extra):
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": zipped(files)}, **extra)


def test_layer_versions_are_published_listed_downloaded_and_deleted(aws, alice, bob):
    lam, name = aws(alice, "lambda"), unique("layer")
    content = zipped({"python/shared.py": "WHO = 'one'\n"})
    one = lam.publish_layer_version(LayerName=name, Content={"ZipFile": content}, Description="first",
                                    CompatibleRuntimes=["python3.11"], LicenseInfo="MIT")
    two = publish(lam, name, {"python/shared.py": "WHO = 'two'\n"}, CompatibleRuntimes=["nodejs20.x"])
    assert (one["Version"], two["Version"]) == (1, 2)
    assert one["LayerVersionArn"] == one["LayerArn"] + ":1"
    assert one["Description"] == "first" and one["LicenseInfo"] == "MIT"
    assert one["Content"]["CodeSize"] == len(content)

    listed = {layer["LayerName"]: layer for layer in lam.list_layers()["Layers"]}
    assert listed[name]["LatestMatchingVersion"]["Version"] == 2
    python_only = {layer["LayerName"]: layer for layer in lam.list_layers(CompatibleRuntime="python3.11")["Layers"]}
    assert python_only[name]["LatestMatchingVersion"]["Version"] == 1
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]] == [2, 1]

    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert httpx.get(got["Content"]["Location"], timeout=30).content == content
    assert lam.get_layer_version_by_arn(Arn=one["LayerVersionArn"])["Version"] == 1

    # Another person sees none of it, whatever ARN they give.
    other = aws(bob, "lambda")
    assert error_of(lambda: other.get_layer_version_by_arn(Arn=one["LayerVersionArn"]))[:2] == \
        ("ResourceNotFoundException", 404)
    assert name not in {layer["LayerName"] for layer in other.list_layers()["Layers"]}
    assert error_of(lambda: other.get_layer_version(LayerName=one["LayerArn"], VersionNumber=1))[:2] == \
        ("ResourceNotFoundException", 404)

    lam.delete_layer_version(LayerName=name, VersionNumber=2)
    assert error_of(lambda: lam.get_layer_version(LayerName=name, VersionNumber=2))[:2] == \
        ("ResourceNotFoundException", 404)
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]] == [1]
    # A deleted number is never given again.
    assert publish(lam, name, {"python/shared.py": "WHO = 'three'\n"})["Version"] == 3


def test_a_function_runs_with_its_layers_in_order_and_keeps_a_deleted_one(aws, alice):
    lam = aws(alice, "lambda")
    base = publish(lam, unique("base"), {"python/shared.py": "WHO = 'base'\n", "data.txt": "base"})
    top = publish(lam, unique("top"), {"python/shared.py": "WHO = 'top'\n"})
    name = unique("with-layers")
    made = lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                               Role=role_of(aws, alice), Code={"ZipFile": zipped({"app.py": USES_LAYER})},
                               Layers=[base["LayerVersionArn"], top["LayerVersionArn"]])
    assert [layer["Arn"] for layer in made["Layers"]] == [base["LayerVersionArn"], top["LayerVersionArn"]]
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in answer, answer["Payload"].read()
    assert json.loads(answer["Payload"].read()) == ["top", "/opt/python/shared.py", "base"]

    lam.update_function_configuration(FunctionName=name, Layers=[top["LayerVersionArn"], base["LayerVersionArn"]])
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert json.loads(answer["Payload"].read())[0] == "base"   # the later layer wins

    lam.delete_layer_version(LayerName=base["LayerArn"], VersionNumber=base["Version"])
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert json.loads(answer["Payload"].read())[0] == "base"
    assert [layer["Arn"] for layer in lam.get_function_configuration(FunctionName=name)["Layers"]] == \
        [top["LayerVersionArn"], base["LayerVersionArn"]]


def test_bad_layers_are_refused_naming_what_is_wrong(aws, alice, bob):
    lam = aws(alice, "lambda")
    code, status, message = error_of(lambda: publish(lam, unique("bad"), {"../escape.py": "x"}))
    assert (code, status) == ("InvalidParameterValueException", 400) and "../escape.py" in message
    link = io.BytesIO()
    with zipfile.ZipFile(link, "w") as archive:
        info = zipfile.ZipInfo("python/out")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "../../../etc")
    code, status, message = error_of(lambda: lam.publish_layer_version(LayerName=unique("bad"),
                                                                       Content={"ZipFile": link.getvalue()}))
    assert (code, status) == ("InvalidParameterValueException", 400) and "python/out" in message
    code, status, _ = error_of(lambda: lam.publish_layer_version(LayerName=unique("bad"),
                                                                 Content={"ZipFile": b"not a zip"}))
    assert (code, status) == ("InvalidParameterValueException", 400)

    six = [publish(lam, unique(f"l{i}"), {f"f{i}.txt": "x"})["LayerVersionArn"] for i in range(6)]
    name = unique("too-many")
    code, status, message = error_of(lambda: lam.create_function(
        FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role_of(aws, alice),
        Code={"ZipFile": zipped({"app.py": USES_LAYER})}, Layers=six))
    assert (code, status) == ("InvalidParameterValueException", 400) and "Layers" in message
    assert error_of(lambda: lam.get_function(FunctionName=name))[0] == "ResourceNotFoundException"
    # Bob cannot list Alice's layer in his function.
    code, status, _ = error_of(lambda: aws(bob, "lambda").create_function(
        FunctionName=unique("theirs"), Runtime="python3.11", Handler="app.handler", Role=role_of(aws, bob),
        Code={"ZipFile": zipped({"app.py": USES_LAYER})}, Layers=[six[0]]))
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_the_aws_cli_publishes_and_lists_layers(server, alice, tmp_path):
    (tmp_path / "layer.zip").write_bytes(zipped({"python/tool.py": "X = 1\n"}))
    name = unique("cli-layer")
    made = cli(server, alice, "lambda", "publish-layer-version", "--layer-name", name, "--zip-file",
               "fileb://layer.zip", "--compatible-runtimes", "python3.11", cwd=tmp_path)
    assert made["Version"] == 1
    listed = cli(server, alice, "lambda", "list-layer-versions", "--layer-name", name)
    assert [v["LayerVersionArn"] for v in listed["LayerVersions"]] == [made["LayerVersionArn"]]
