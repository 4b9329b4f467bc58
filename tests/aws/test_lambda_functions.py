"""Lambda's functions, versions, aliases and concurrency through the real boto3 and the AWS CLI
against a running server: what each operation stores (and the studio shows), the waiters, every
FunctionName form, Marker/MaxItems, Lambda's error codes for bad input (nothing half-made), and
Bob never reaching Alice's functions."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zipfile

import httpx
import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.aws.lambda_kit import ECHO, create, echo_zip, role_of, unique, zipped, zipped_with_modes
from tests.aws.test_iam_sts_live import code_of, studio


def error_of(call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]


def test_a_function_made_from_a_zip_is_stored_as_given_and_downloads_as_a_zip(server, aws, alice):
    lam = aws(alice, "lambda")
    name = unique()
    made = lam.create_function(
        FunctionName=name, Runtime="python3.12", Handler="pkg/app.handler", Role=role_of(aws, alice),
        Code={"ZipFile": zipped({"pkg/app.py": ECHO, "pkg/": b"", "README.txt": "héllo"})},
        Description="from boto3", Timeout=7, MemorySize=256, Environment={"Variables": {"GREETING": "hi"}},
        Tags={"team": "data"})
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (made["FunctionName"], made["Runtime"], made["Handler"], made["Version"]) == (
        name, "python3.12", "pkg/app.handler", "$LATEST")
    assert made["FunctionArn"] == f"arn:aws:lambda:us-east-1:{alice['account']}:function:{name}"
    assert made["Role"] == role_of(aws, alice)
    assert (made["Timeout"], made["MemorySize"], made["Description"]) == (7, 256, "from boto3")
    assert made["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert (made["State"], made["LastUpdateStatus"], made["PackageType"]) == ("Active", "Successful", "Zip")
    assert len(base64.b64decode(made["CodeSha256"])) == 32 and made["CodeSize"] > 0
    assert made["LastModified"][10] == "T" and made["LastModified"].endswith("+0000")

    got = lam.get_function(FunctionName=name)
    assert got["Configuration"] == {k: v for k, v in made.items() if k != "ResponseMetadata"}
    assert got["Tags"] == {"team": "data"} and "Concurrency" not in got
    assert got["Code"]["RepositoryType"] == "S3"
    download = httpx.get(got["Code"]["Location"])   # no credentials, no sign-in: the link is the credential
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert {n: archive.read(n).decode() for n in archive.namelist()} == {"pkg/app.py": ECHO, "README.txt": "héllo"}
    forged = got["Code"]["Location"][:-3] + ("aaa" if not got["Code"]["Location"].endswith("aaa") else "bbb")
    assert httpx.get(forged).status_code == 404

    # The studio holds it as its files and shows its role on the Configuration tab.
    page = studio(server, alice)
    detail = page.get(f"/api/functions/{name}").json()
    assert detail["files"] == {"pkg/app.py": ECHO, "README.txt": "héllo"}
    assert (detail["configuration"]["timeout"], detail["deployed"], detail["undeployed_changes"]) == (7, True, False)
    html = page.get(f"/functions/{name}/").text
    assert role_of(aws, alice) in html
    assert lam.get_function_configuration(FunctionName=name)["Runtime"] == "python3.12"


def test_the_waiters_end_at_once_on_a_function_that_exists(aws, alice):
    lam = aws(alice, "lambda")
    name = create(aws, alice)["FunctionName"]
    lam.get_waiter("function_exists").wait(FunctionName=name)
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Timeout=9)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert lam.get_function(FunctionName=name)["Configuration"]["Timeout"] == 9
    with pytest.raises(WaiterError) as caught:
        lam.get_waiter("function_exists").wait(FunctionName=unique("missing"), WaiterConfig={"MaxAttempts": 1})
    assert caught.value.last_response["Error"]["Code"] == "ResourceNotFoundException"


def test_every_function_name_form_finds_the_function_in_the_callers_account_only(aws, alice, bob):
    lam = aws(alice, "lambda")
    name = create(aws, alice, Publish=True)["FunctionName"]
    arn = f"arn:aws:lambda:us-east-1:{alice['account']}:function:{name}"
    for form in (name, f"{alice['account']}:function:{name}", arn, f"{arn}:1", f"{name}:1", f"{name}:$LATEST"):
        assert lam.get_function_configuration(FunctionName=form)["FunctionName"] == name
    assert lam.get_function_configuration(FunctionName=f"{arn}:1")["Version"] == "1"
    assert lam.get_function_configuration(FunctionName=arn, Qualifier="1")["FunctionArn"] == f"{arn}:1"
    code, status, message = error_of(lambda: lam.get_function(FunctionName=f"{name}:7"))
    assert (code, status, message) == ("ResourceNotFoundException", 404, f"Function not found: {arn}:7")

    # Bob: Alice's function is not found, whatever name or ARN he gives; nothing of his changes hers.
    theirs = aws(bob, "lambda")
    for form in (name, arn, f"{arn}:1", f"{alice['account']}:function:{name}"):
        assert code_of(lambda: theirs.get_function(FunctionName=form)) == ("ResourceNotFoundException", 404)
        assert code_of(lambda: theirs.invoke(FunctionName=form)) == ("ResourceNotFoundException", 404)
    assert code_of(lambda: theirs.delete_function(FunctionName=arn)) == ("ResourceNotFoundException", 404)
    assert code_of(lambda: theirs.update_function_configuration(FunctionName=arn, Timeout=5)) == \
        ("ResourceNotFoundException", 404)
    assert code_of(lambda: theirs.create_alias(FunctionName=arn, Name="x", FunctionVersion="1")) == \
        ("ResourceNotFoundException", 404)
    assert code_of(lambda: theirs.put_function_concurrency(FunctionName=arn, ReservedConcurrentExecutions=0)) == \
        ("ResourceNotFoundException", 404)
    assert name not in [f["FunctionName"] for f in theirs.list_functions(MaxItems=1000)["Functions"]]
    # Bob may have a function of the same name: it is his own.
    create(aws, bob, name)
    assert theirs.get_function(FunctionName=name)["Configuration"]["FunctionArn"].split(":")[4] == bob["account"]
    assert lam.get_function(FunctionName=name)["Configuration"]["Timeout"] == 3
    assert lam.get_function_configuration(FunctionName=arn)["Timeout"] == 3


def test_list_functions_pages_with_marker_and_max_items_and_lists_versions_with_all(aws, fresh):
    lam = aws(fresh, "lambda")
    before = {f["FunctionName"] for f in lam.list_functions()["Functions"]}   # the samples
    names = sorted(create(aws, fresh, unique("list"))["FunctionName"] for _ in range(3))
    lam.publish_version(FunctionName=names[0])
    seen, marker, pages = [], None, 0
    while True:
        page = lam.list_functions(MaxItems=2, **({"Marker": marker} if marker else {}))
        assert len(page["Functions"]) <= 2
        seen += [f["FunctionName"] for f in page["Functions"]]
        pages += 1
        marker = page.get("NextMarker")
        if not marker:
            break
    assert sorted(seen) == sorted(before | set(names)) and len(seen) == len(set(seen))
    assert pages == (len(seen) + 1) // 2
    everything = [(f["FunctionName"], f["Version"]) for f in
                  lam.get_paginator("list_functions").paginate(FunctionVersion="ALL",
                                                               PaginationConfig={"PageSize": 2}).search("Functions")]
    assert (names[0], "$LATEST") in everything and (names[0], "1") in everything
    assert (names[1], "1") not in everything
    assert code_of(lambda: lam.list_functions(Marker="not-a-marker")) == ("InvalidParameterValueException", 400)


def test_code_and_configuration_updates_deploy_at_once_and_versions_keep_theirs(server, aws, alice):
    lam = aws(alice, "lambda")
    name = create(aws, alice)["FunctionName"]
    first = lam.get_function(FunctionName=name)["Configuration"]
    updated = lam.update_function_code(FunctionName=name, ZipFile=echo_zip("two"), Publish=True)
    assert updated["Version"] == "1" and updated["CodeSha256"] != first["CodeSha256"]
    other = aws(alice, "iam").create_role(RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    revision = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    changed = lam.update_function_configuration(
        FunctionName=name, Timeout=30, MemorySize=512, Description="second", Handler="app.handler",
        Environment={"Variables": {"AA": "1", "BB": "2"}}, Role=other, Runtime="python3.11", RevisionId=revision)
    assert (changed["Timeout"], changed["MemorySize"], changed["Description"], changed["Role"], changed["Runtime"]) \
        == (30, 512, "second", other, "python3.11")
    assert changed["Environment"]["Variables"] == {"AA": "1", "BB": "2"}
    assert changed["RevisionId"] != revision
    # A stale RevisionId is refused and changes nothing.
    assert code_of(lambda: lam.update_function_configuration(FunctionName=name, Timeout=60, RevisionId=revision)) \
        == ("PreconditionFailedException", 412)
    assert code_of(lambda: lam.update_function_code(FunctionName=name, ZipFile=echo_zip(), RevisionId=revision)) \
        == ("PreconditionFailedException", 412)
    assert lam.get_function_configuration(FunctionName=name)["Timeout"] == 30
    # Version 1 kept its configuration.
    one = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert (one["Timeout"], one["MemorySize"], one["CodeSha256"]) == (3, 128, updated["CodeSha256"])
    # The studio shows what the API set.
    config = studio(server, alice).get(f"/api/functions/{name}").json()["configuration"]
    assert (config["timeout"], config["memory"], config["env"]) == (30, 512, [{"key": "AA", "value": "1"},
                                                                             {"key": "BB", "value": "2"}])
    assert code_of(lambda: lam.update_function_configuration(FunctionName=name, Role="arn:aws:iam::000000000000:role/x")) \
        == ("InvalidParameterValueException", 400)


def test_publish_version_lists_versions_and_checks_its_preconditions(aws, alice):
    lam = aws(alice, "lambda")
    name = create(aws, alice)["FunctionName"]
    head = lam.get_function_configuration(FunctionName=name)
    code, status, message = error_of(lambda: lam.publish_version(FunctionName=name, CodeSha256="AAAA"))
    assert (code, status) == ("PreconditionFailedException", 412) and "CodeSHA256" in message
    assert code_of(lambda: lam.publish_version(FunctionName=name, RevisionId="0" * 36)) == \
        ("PreconditionFailedException", 412)
    one = lam.publish_version(FunctionName=name, Description="first", CodeSha256=head["CodeSha256"],
                              RevisionId=head["RevisionId"])
    assert (one["Version"], one["Description"]) == ("1", "first")
    assert one["FunctionArn"].endswith(f":function:{name}:1")
    assert lam.publish_version(FunctionName=name)["Version"] == "1"   # nothing changed: the same version
    lam.update_function_configuration(FunctionName=name, Timeout=4)
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert versions[0]["FunctionArn"].endswith(":$LATEST")
    first = lam.list_versions_by_function(FunctionName=name, MaxItems=2)
    rest = lam.list_versions_by_function(FunctionName=name, Marker=first["NextMarker"])
    assert [v["Version"] for v in first["Versions"] + rest["Versions"]] == ["$LATEST", "1", "2"]
    assert "NextMarker" not in rest


def test_aliases_name_versions_and_the_versions_tab_lists_them(server, aws, alice):
    lam = aws(alice, "lambda")
    name = create(aws, alice, Publish=True)["FunctionName"]
    lam.update_function_code(FunctionName=name, ZipFile=echo_zip("v2"), Publish=True)
    made = lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="1", Description="live")
    assert made["AliasArn"] == f"arn:aws:lambda:us-east-1:{alice['account']}:function:{name}:prod"
    assert (made["FunctionVersion"], made["Description"]) == ("1", "live")
    lam.create_alias(FunctionName=name, Name="beta", FunctionVersion="$LATEST")
    assert code_of(lambda: lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="2")) == \
        ("ResourceConflictException", 409)
    assert code_of(lambda: lam.create_alias(FunctionName=name, Name="nine", FunctionVersion="9")) == \
        ("ResourceNotFoundException", 404)
    assert code_of(lambda: lam.create_alias(FunctionName=name, Name="split", FunctionVersion="1", RoutingConfig={
        "AdditionalVersionWeights": {"2": 0.5}})) == ("InvalidParameterValueException", 400)
    assert lam.get_alias(FunctionName=name, Name="prod")["RevisionId"] == made["RevisionId"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["beta", "prod"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"]] == ["prod"]
    page = lam.list_aliases(FunctionName=name, MaxItems=1)
    assert [a["Name"] for a in page["Aliases"]] == ["beta"] and page["NextMarker"]
    assert code_of(lambda: lam.update_alias(FunctionName=name, Name="prod", FunctionVersion="2",
                                            RevisionId="stale")) == ("PreconditionFailedException", 412)
    moved = lam.update_alias(FunctionName=name, Name="prod", FunctionVersion="2", RevisionId=made["RevisionId"])
    assert moved["FunctionVersion"] == "2" and moved["RevisionId"] != made["RevisionId"]
    assert lam.get_function_configuration(FunctionName=f"{name}:prod")["Version"] == "2"
    # A version an alias points to cannot be deleted; once the alias moves, it can.
    assert code_of(lambda: lam.delete_function(FunctionName=name, Qualifier="2")) == ("ResourceConflictException", 409)
    html = studio(server, alice).get(f"/functions/{name}/").text
    assert "prod" in html and f"{name}:beta" in html
    lam.delete_alias(FunctionName=name, Name="prod")
    assert code_of(lambda: lam.get_alias(FunctionName=name, Name="prod")) == ("ResourceNotFoundException", 404)
    lam.delete_function(FunctionName=name, Qualifier="2")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "1"]
    assert code_of(lambda: lam.delete_function(FunctionName=name, Qualifier="$LATEST")) == \
        ("InvalidParameterValueException", 400)
    # A function goes with its versions and aliases.
    lam.delete_function(FunctionName=name)
    assert code_of(lambda: lam.get_alias(FunctionName=name, Name="beta")) == ("ResourceNotFoundException", 404)


def test_reserved_concurrency_is_put_read_and_removed(server, aws, alice):
    lam = aws(alice, "lambda")
    name = create(aws, alice)["FunctionName"]
    assert lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)[
        "ReservedConcurrentExecutions"] == 5
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5
    assert studio(server, alice).get(f"/api/functions/{name}").json()["configuration"]["reserved_concurrency"] == 5
    lam.delete_function_concurrency(FunctionName=name)
    assert "Concurrency" not in lam.get_function(FunctionName=name)


def test_deleting_a_function_removes_it_everywhere(server, aws, alice):
    lam = aws(alice, "lambda")
    name = create(aws, alice, Publish=True)["FunctionName"]
    lam.delete_function(FunctionName=name)
    code, status, message = error_of(lambda: lam.get_function(FunctionName=name))
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message == f"Function not found: arn:aws:lambda:us-east-1:{alice['account']}:function:{name}"
    assert studio(server, alice).get(f"/api/functions/{name}").status_code == 404
    assert code_of(lambda: lam.delete_function(FunctionName=name)) == ("ResourceNotFoundException", 404)


def _names(lam) -> set[str]:
    return {f["FunctionName"] for f in lam.get_paginator("list_functions").paginate().search("Functions")}


def test_bad_creations_get_lambdas_errors_and_leave_nothing_behind(aws, alice, bob):
    lam = aws(alice, "lambda")
    unchecked = aws(alice, "lambda", validate=False)   # the server's checks, not boto3's
    role = role_of(aws, alice)
    name = unique("bad")

    def refused(**changes):
        arguments = {"FunctionName": name, "Runtime": "python3.12", "Handler": "app.handler", "Role": role,
                     "Code": {"ZipFile": echo_zip()}, **changes}
        return error_of(lambda: unchecked.create_function(**{k: v for k, v in arguments.items() if v is not None}))

    code, status, message = refused(Runtime="java21")
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("The runtime parameter of java21 is not supported")
    assert refused(Runtime="cobol")[:2] == ("ValidationException", 400)   # not one of Lambda's runtime ids
    assert refused(Role=f"arn:aws:iam::{alice['account']}:role/nobody")[2] == \
        "The role defined for the function cannot be assumed by Lambda."
    assert refused(Role=role_of(aws, bob))[:2] == ("InvalidParameterValueException", 400)
    assert refused(Code={"S3Bucket": "bucket", "S3Key": "code.zip"})[:2] == ("InvalidParameterValueException", 400)
    assert "ZipFile" in refused(PackageType="Image", Code={"ImageUri": "x"})[2]
    assert refused(Code={"ZipFile": b"not a zip"})[:2] == ("InvalidParameterValueException", 400)
    code, status, message = refused(Code={"ZipFile": zipped_with_modes([
        ("app.py", ECHO, 0o100644), ("lib/passwd", "../../../etc/passwd", 0o120777)])})
    assert (code, status) == ("InvalidParameterValueException", 400) and "lib/passwd" in message
    code, status, message = refused(Code={"ZipFile": zipped({"app.py": ECHO, "../escape.py": "x = 1"})})
    assert (code, status) == ("InvalidParameterValueException", 400) and "../escape.py" in message
    # 300 MB of zeros zip to a few hundred KB: refused by its unzipped size, without inflating it.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.txt", "w", force_zip64=True) as stream:
            chunk = b"0" * (1024 * 1024)
            for _ in range(300):
                stream.write(chunk)
    code, status, message = refused(Code={"ZipFile": bomb.getvalue()})
    assert (code, status) == ("InvalidParameterValueException", 400) and "Unzipped size" in message
    code, status, message = refused(Handler="no-dot")
    assert (code, status) == ("InvalidParameterValueException", 400) and "Handler" in message
    assert refused(Environment={"Variables": {"AWS_REGION": "x"}})[:2] == ("InvalidParameterValueException", 400)
    code, status, message = refused(Timeout=0)
    assert (code, status) == ("ValidationException", 400) and "timeout" in message
    code, status, message = refused(Role=None)
    assert (code, status) == ("ValidationException", 400) and "role" in message
    assert refused(MemorySize="lots")[:2] == ("ValidationException", 400)
    assert name not in _names(lam)

    create(aws, alice, name)
    code, status, message = refused()
    assert (code, status) == ("ResourceConflictException", 409) and name in message


def test_a_zip_over_50_mb_is_refused_as_too_large(aws, alice):
    noise = os.urandom(51 * 1024 * 1024)
    big = io.BytesIO()
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app.py", ECHO)
        archive.writestr("noise.txt", noise)
    name = unique("big")
    code, status = code_of(lambda: aws(alice, "lambda").create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=role_of(aws, alice),
        Code={"ZipFile": big.getvalue()}))
    assert (code, status) == ("RequestEntityTooLargeException", 413)
    assert name not in _names(aws(alice, "lambda"))


def cli(server, person, *args: str, cwd=None) -> dict:
    """Runs the AWS CLI (awscli v1 from the virtualenv) as `person`; returns its JSON output."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": person["key"], "AWS_SECRET_ACCESS_KEY": person["secret"],
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.pop("AWS_PROFILE", None)
    aws_cli = os.path.join(os.path.dirname(sys.executable), "aws")
    done = subprocess.run([aws_cli, "--endpoint-url", server["base"], "--output", "json", *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_the_aws_cli_creates_publishes_aliases_and_lists_functions(server, aws, alice, tmp_path):
    (tmp_path / "code.zip").write_bytes(echo_zip())
    name = unique("cli")
    made = cli(server, alice, "lambda", "create-function", "--function-name", name, "--runtime", "python3.12",
               "--handler", "app.handler", "--role", role_of(aws, alice), "--zip-file", "fileb://code.zip",
               "--environment", "Variables={STAGE=cli}", cwd=tmp_path)
    assert (made["FunctionName"], made["Environment"]["Variables"]) == (name, {"STAGE": "cli"})
    assert made["CodeSha256"] == aws(alice, "lambda").get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    got = cli(server, alice, "lambda", "get-function", "--function-name", name)
    assert got["Configuration"]["Handler"] == "app.handler" and got["Code"]["Location"].startswith(server["base"])
    listed = cli(server, alice, "lambda", "list-functions")
    assert name in [f["FunctionName"] for f in listed["Functions"]]
    assert cli(server, alice, "lambda", "publish-version", "--function-name", name)["Version"] == "1"
    alias = cli(server, alice, "lambda", "create-alias", "--function-name", name, "--name", "live",
                "--function-version", "1")
    assert alias["AliasArn"].endswith(f"{name}:live")
    assert [a["Name"] for a in cli(server, alice, "lambda", "list-aliases", "--function-name", name)["Aliases"]] \
        == ["live"]
