"""Ruby and custom runtimes through the Lambda API (boto3, the AWS CLI) and the studio's JSON API,
and code that is binary or executable: accepted in zips, run, and given back by the download."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import httpx
import pytest

from tests.aws.lambda_kit import role_of, unique, zipped, zipped_with_modes
from tests.aws.test_iam_sts_live import studio
from tests.aws.test_lambda_functions import cli, error_of
from tests.unit.functions.test_ruby_and_custom_runtimes import SHELL_BOOTSTRAP, build_go_bootstrap

RUBY = ("require 'json'\n\n"
        "def handler(event:, context:)\n"
        "  raise ArgumentError, 'no name' unless event['name']\n"
        "  { 'hello' => event['name'], 'function' => context.function_name,\n"
        "    'request_id' => context.aws_request_id }\n"
        "end\n")


def payload_of(response) -> object:
    return json.loads(response["Payload"].read())


def csrf(client: httpx.Client) -> dict:
    if "csrftoken" not in client.cookies:
        client.get("/")
    return {"X-CSRFToken": client.cookies["csrftoken"]}


@pytest.fixture(scope="module")
def go_bootstrap(tmp_path_factory) -> bytes:
    return build_go_bootstrap(tmp_path_factory.mktemp("go"))


def test_a_ruby_function_from_boto3_runs_with_its_context_and_errors(aws, alice):
    lam = aws(alice, "lambda")
    name = unique("rb")
    made = lam.create_function(FunctionName=name, Runtime="ruby3.3", Handler="function.handler",
                               Role=role_of(aws, alice), Code={"ZipFile": zipped({"function.rb": RUBY})})
    assert made["Runtime"] == "ruby3.3" and made["Handler"] == "function.handler"
    answer = lam.invoke(FunctionName=name, Payload=json.dumps({"name": "Matz"}))
    body = payload_of(answer)
    assert "FunctionError" not in answer
    assert body["hello"] == "Matz" and body["function"] == name
    assert len(body["request_id"]) == 36 and body["request_id"].count("-") == 4
    failed = lam.invoke(FunctionName=name, Payload=b"{}")
    assert failed["FunctionError"] == "Unhandled"
    error = payload_of(failed)
    assert (error["errorType"], error["errorMessage"]) == ("Function<ArgumentError>", "no name")
    assert any("function.rb:4" in line for line in error["stackTrace"])


def test_a_ruby_syntax_error_is_an_init_error_the_invoke_reports(aws, alice):
    lam = aws(alice, "lambda")
    name = unique("rb-bad")
    lam.create_function(FunctionName=name, Runtime="ruby3.2", Handler="function.handler", Role=role_of(aws, alice),
                        Code={"ZipFile": zipped({"function.rb": "def handler(event:, context:)\n  {\nend\n"})})
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    error = payload_of(answer)
    assert error["errorType"] == "Runtime.UserCodeSyntaxError" and "function.rb" in error["errorMessage"]


def test_a_go_custom_runtime_uploaded_as_a_zip_runs_and_downloads_unchanged(aws, alice, go_bootstrap):
    lam = aws(alice, "lambda")
    name = unique("go")
    code = zipped_with_modes([("bootstrap", go_bootstrap, 0o100755), ("README.txt", "a Go runtime", 0o100644)])
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Handler="function.handler",
                        Role=role_of(aws, alice), Code={"ZipFile": code}, Timeout=30)
    answer = lam.invoke(FunctionName=name, Payload=json.dumps({"name": "Gopher"}))
    assert "FunctionError" not in answer, payload_of(answer)
    assert payload_of(answer) == {"greeting": "Hello, Gopher!", "deadline": True}
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["Runtime"] == "provided.al2023"
    assert got["Configuration"]["CodeSize"] == len(go_bootstrap) + len("a Go runtime")
    with zipfile.ZipFile(io.BytesIO(httpx.get(got["Code"]["Location"]).content)) as archive:
        entry = archive.getinfo("bootstrap")
        assert archive.read(entry) == go_bootstrap
        assert (entry.external_attr >> 16) & 0o777 == 0o755
        assert (archive.getinfo("README.txt").external_attr >> 16) & 0o777 == 0o644


def test_update_function_code_takes_a_shell_bootstrap_and_bad_ones_fail_as_aws_says(aws, alice):
    lam = aws(alice, "lambda")
    name = unique("sh")
    lam.create_function(FunctionName=name, Runtime="provided.al2", Handler="function.handler",
                        Role=role_of(aws, alice), Timeout=30,
                        Code={"ZipFile": zipped_with_modes([("bootstrap", SHELL_BOOTSTRAP, 0o100755)])})
    answer = lam.invoke(FunctionName=name, Payload=b'{"n": 1}')
    assert payload_of(answer)["event"] == {"n": 1}
    # Not executable (a zip made without modes): the runtime cannot start.
    lam.update_function_code(FunctionName=name, ZipFile=zipped({"bootstrap": SHELL_BOOTSTRAP}))
    error = payload_of(lam.invoke(FunctionName=name, Payload=b"{}"))
    assert error["errorType"] == "Runtime.ExitError" and "permission denied" in error["errorMessage"]
    lam.update_function_code(FunctionName=name, ZipFile=zipped_with_modes([
        ("bootstrap", "#!/bin/sh\nexit 4\n", 0o100755)]))
    error = payload_of(lam.invoke(FunctionName=name, Payload=b"{}"))
    assert error["errorType"] == "Runtime.ExitError" and "exit status 4" in error["errorMessage"]
    lam.update_function_code(FunctionName=name, ZipFile=zipped({"function.sh": "echo\n"}))
    error = payload_of(lam.invoke(FunctionName=name, Payload=b"{}"))
    assert error["errorType"] == "Runtime.InvalidEntrypoint"


def test_a_symlink_inside_the_root_is_a_copy_and_one_out_is_refused(aws, alice):
    unchecked = aws(alice, "lambda", validate=False)
    name = unique("links")
    code, status, message = error_of(lambda: unchecked.create_function(
        FunctionName=name, Runtime="ruby3.3", Handler="function.handler", Role=role_of(aws, alice),
        Code={"ZipFile": zipped_with_modes([("function.rb", RUBY, 0o100644), ("etc", "/etc", 0o120777)])}))
    assert (code, status) == ("InvalidParameterValueException", 400) and "etc" in message
    lam = aws(alice, "lambda")
    lam.create_function(FunctionName=name, Runtime="ruby3.3", Handler="entry.handler", Role=role_of(aws, alice),
                        Code={"ZipFile": zipped_with_modes([("lib/function.rb", RUBY, 0o100644),
                                                            ("entry.rb", "lib/function.rb", 0o120777)])})
    assert payload_of(lam.invoke(FunctionName=name, Payload=b'{"name": "link"}'))["hello"] == "link"


def test_the_aws_cli_creates_and_invokes_a_ruby_function(server, aws, alice, tmp_path):
    (tmp_path / "code.zip").write_bytes(zipped({"function.rb": RUBY}))
    name = unique("rb-cli")
    made = cli(server, alice, "lambda", "create-function", "--function-name", name, "--runtime", "ruby3.3",
               "--handler", "function.handler", "--role", role_of(aws, alice), "--zip-file", "fileb://code.zip",
               cwd=tmp_path)
    assert made["Runtime"] == "ruby3.3"
    cli(server, alice, "lambda", "invoke", "--function-name", name, "--payload", '{"name": "cli"}',
        str(tmp_path / "out.json"))
    assert json.loads((tmp_path / "out.json").read_text())["hello"] == "cli"


def test_the_studio_creates_ruby_and_custom_runtime_functions_that_pass_the_test_button(server, alice):
    client = studio(server, alice)
    runtimes = {r["id"]: r for r in client.get("/api/runtimes").json()["runtimes"]}
    assert {"ruby", "provided.al2023", "provided.al2"} <= set(runtimes)
    assert runtimes["ruby"]["version"].startswith("ruby3.")
    for runtime in ("ruby", "provided.al2023", "provided.al2"):
        name = unique(runtime.replace(".", "-"))
        made = client.post("/api/functions", json={"name": name, "runtime": runtime}, headers=csrf(client))
        assert made.status_code == 201, made.text
        tested = client.post(f"/api/functions/{name}/test", json={"event": {"key": "value"}}, headers=csrf(client))
        result = tested.json()
        assert result["status"] == "succeeded", result["logs"]
        assert result["response"]["statusCode"] == 200
        assert "event: " in result["logs"]


def test_the_studio_uploads_a_zip_as_the_draft_and_downloads_the_deployed_zip(server, alice, bob, go_bootstrap):
    client = studio(server, alice)
    name = unique("upload")
    client.post("/api/functions", json={"name": name, "runtime": "provided.al2023"}, headers=csrf(client))
    code = zipped_with_modes([("bootstrap", go_bootstrap, 0o100755)])
    put = client.put(f"/api/functions/{name}/code.zip", content=code,
                     headers={**csrf(client), "Content-Type": "application/zip"})
    assert put.status_code == 200, put.text
    # A 7 MB binary: past the editor's 3 MB, so the page is told not to show the files.
    assert put.json()["files"] is None and put.json()["code_editable"] is False
    assert put.json()["undeployed_changes"] is True
    assert client.post(f"/api/functions/{name}/deploy", headers=csrf(client)).status_code == 200
    result = client.post(f"/api/functions/{name}/test", json={"event": {"name": "studio"}}, headers=csrf(client)).json()
    assert result["status"] == "succeeded" and result["response"]["greeting"] == "Hello, studio!", result["logs"]
    download = client.get(f"/api/functions/{name}/code.zip")
    assert download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert archive.read("bootstrap") == go_bootstrap
    # Another person's function does not exist for them.
    other = studio(server, bob)
    assert other.get(f"/api/functions/{name}/code.zip").status_code == 404
    assert other.put(f"/api/functions/{name}/code.zip", content=code,
                     headers={**csrf(other), "Content-Type": "application/zip"}).status_code == 404


@pytest.mark.parametrize("entries, words", [
    ([("../escape.rb", "x", 0o100644)], "../escape.rb"),
    ([("/abs/function.rb", "x", 0o100644)], "/abs/function.rb"),
    ([("function.rb", "x", 0o100644), ("out", "../../secret", 0o120777)], "out"),
    ([("function.rb", "x", 0o100644), ("root", "/", 0o120777)], "root"),
], ids=["dotdot", "absolute", "symlink-up", "symlink-absolute"])
def test_the_studio_refuses_a_zip_escaping_its_root_and_keeps_the_draft(server, alice, entries, words):
    client = studio(server, alice)
    name = unique("badzip")
    client.post("/api/functions", json={"name": name, "runtime": "ruby"}, headers=csrf(client))
    before = client.get(f"/api/functions/{name}").json()["files"]
    put = client.put(f"/api/functions/{name}/code.zip", content=zipped_with_modes(entries),
                     headers={**csrf(client), "Content-Type": "application/zip"})
    assert put.status_code == 400
    assert words in put.json()["error"]["message"]
    assert client.get(f"/api/functions/{name}").json()["files"] == before


def test_the_studio_refuses_a_zip_over_50_mb_and_a_broken_one(server, alice):
    client = studio(server, alice)
    name = unique("bigzip")
    client.post("/api/functions", json={"name": name, "runtime": "ruby"}, headers=csrf(client))
    big = client.put(f"/api/functions/{name}/code.zip", content=b"0" * (50 * 1024 * 1024 + 1),
                     headers={**csrf(client), "Content-Type": "application/zip"})
    assert big.status_code == 413 and "50 MB" in big.json()["error"]["message"]
    broken = client.put(f"/api/functions/{name}/code.zip", content=b"not a zip",
                        headers={**csrf(client), "Content-Type": "application/zip"})
    assert broken.status_code == 400 and "unzip" in broken.json()["error"]["message"]


def test_binary_files_in_the_studio_s_json_are_checked(server, alice):
    client = studio(server, alice)
    name = unique("b64")
    client.post("/api/functions", json={"name": name, "runtime": "ruby"}, headers=csrf(client))
    files = {"function.rb": RUBY, "data.bin": {"base64": base64.b64encode(b"\x00\xff").decode()}}
    assert client.put(f"/api/functions/{name}/code", json={"files": files}, headers=csrf(client)).status_code == 200
    bad = client.put(f"/api/functions/{name}/code", json={"files": {**files, "x.bin": {"base64": "!!"}}},
                     headers=csrf(client))
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "files/x.bin"
    assert client.get(f"/api/functions/{name}").json()["files"] == files
