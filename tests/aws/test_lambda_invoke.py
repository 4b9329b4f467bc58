"""Lambda's Invoke through the real boto3 and the AWS CLI against a running server: the three
invocation types, versions and aliases, handler errors, the log tail, the payload limits, the
throttle of reserved concurrency 0, Event invocations in the studio's list, and Bob never
invoking Alice's functions."""

from __future__ import annotations

import base64
import json
import os
import time

from tests.aws.lambda_kit import create, echo_zip, zipped
from tests.aws.test_iam_sts_live import code_of, studio
from tests.aws.test_lambda_functions import cli, error_of


def payload_of(response) -> object:
    return json.loads(response["Payload"].read())


def test_request_response_returns_the_payload_and_the_version_that_ran(aws, alice):
    lam = aws(alice, "lambda")
    name = create(aws, alice, Publish=True)["FunctionName"]
    lam.update_function_code(FunctionName=name, ZipFile=echo_zip("second"))
    lam.create_alias(FunctionName=name, Name="stable", FunctionVersion="1")
    arn = f"arn:aws:lambda:us-east-1:{alice['account']}:function:{name}"

    answer = lam.invoke(FunctionName=name, Payload=json.dumps({"n": 1, "text": "ünï"}).encode())
    assert (answer["StatusCode"], answer["ExecutedVersion"]) == (200, "$LATEST")
    assert "FunctionError" not in answer and "LogResult" not in answer
    assert payload_of(answer) == {"echo": {"n": 1, "text": "ünï"}, "version": "$LATEST", "arn": arn}

    one = lam.invoke(FunctionName=name, Qualifier="1", Payload=b"[1, 2]")
    assert one["ExecutedVersion"] == "1" and payload_of(one) == {"echo": [1, 2], "version": "1", "arn": f"{arn}:1"}
    aliased = lam.invoke(FunctionName=f"{name}:stable", Payload=b"{}")
    assert aliased["ExecutedVersion"] == "1"
    assert payload_of(aliased) == {"echo": {}, "version": "1", "arn": f"{arn}:stable"}
    assert payload_of(lam.invoke(FunctionName=arn, Qualifier="stable"))["echo"] == {}   # no payload: {}
    assert code_of(lambda: lam.invoke(FunctionName=name, Qualifier="nope")) == ("ResourceNotFoundException", 404)


def test_a_handler_error_is_an_unhandled_function_error_with_its_payload(aws, alice):
    lam = aws(alice, "lambda")
    name = create(aws, alice)["FunctionName"]
    answer = lam.invoke(FunctionName=name, Payload=json.dumps({"fail": "on purpose"}).encode())
    assert (answer["StatusCode"], answer["FunctionError"]) == (200, "Unhandled")
    error = payload_of(answer)
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "asked to fail: on purpose")
    assert isinstance(error["stackTrace"], list)


def test_log_type_tail_returns_the_last_4_kb_of_the_log(aws, alice):
    lam = aws(alice, "lambda")
    noisy = ("def handler(event, context):\n"
             "    for i in range(event['lines']):\n"
             "        print(f'line {i:05d} ' + 'x' * 60)\n"
             "    return 'done'\n")
    name = create(aws, alice, Code={"ZipFile": zipped({"app.py": noisy})})["FunctionName"]
    short = lam.invoke(FunctionName=name, Payload=b'{"lines": 2}', LogType="Tail")
    log = base64.b64decode(short["LogResult"]).decode()
    assert "line 00000" in log and "line 00001" in log and "REPORT RequestId" in log
    long = lam.invoke(FunctionName=name, Payload=b'{"lines": 500}', LogType="Tail")
    tail = base64.b64decode(long["LogResult"])
    assert len(tail) == 4096
    assert b"line 00499" in tail and b"line 00000" not in tail and b"REPORT RequestId" in tail
    assert payload_of(long) == "done"


def test_dry_run_runs_nothing_and_event_runs_in_the_background_visible_in_the_studio(server, aws, alice):
    lam = aws(alice, "lambda")
    name = create(aws, alice)["FunctionName"]
    page = studio(server, alice)

    dry = lam.invoke(FunctionName=name, InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204
    assert page.get(f"/api/functions/{name}/invocations").json()["invocations"] == []

    queued = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"job": 7}).encode())
    assert queued["StatusCode"] == 202 and payload_of_raw(queued) == b""
    # It runs on its own: poll the studio's JSON API (a live server) until it has finished.
    deadline = time.monotonic() + 60
    while True:
        found = page.get(f"/api/functions/{name}/invocations").json()["invocations"]
        if found and found[0]["status"] != "running" or time.monotonic() > deadline:
            break
    assert len(found) == 1
    assert (found[0]["status"], found[0]["source"]) == ("succeeded", "api")
    detail = page.get(f"/api/functions/{name}/invocations/{found[0]['id']}").json()
    assert detail["response"]["echo"] == {"job": 7}


def payload_of_raw(response) -> bytes:
    return response["Payload"].read()


def test_bad_payloads_are_refused_as_lambda_refuses_them(aws, alice):
    lam = aws(alice, "lambda")
    name = create(aws, alice)["FunctionName"]
    code, status, message = error_of(lambda: lam.invoke(FunctionName=name, Payload=b"{not json"))
    assert (code, status) == ("InvalidRequestContentException", 400) and "Could not parse request body" in message
    big = json.dumps({"blob": "x" * (6 * 1024 * 1024)}).encode()
    assert code_of(lambda: lam.invoke(FunctionName=name, Payload=big)) == ("RequestTooLargeException", 413)
    assert code_of(lambda: lam.invoke(FunctionName=name, InvocationType="Event", Payload=big)) == \
        ("RequestTooLargeException", 413)
    assert code_of(lambda: lam.invoke(FunctionName=name, ClientContext="not base64!")) == \
        ("InvalidRequestContentException", 400)
    assert code_of(lambda: aws(alice, "lambda", validate=False).invoke(FunctionName=name, InvocationType="Later")) \
        == ("ValidationException", 400)


def test_the_client_context_reaches_the_handlers_context_in_python_and_node(aws, alice):
    lam = aws(alice, "lambda")
    given = {"client": {"app_title": "Orders", "installation_id": "i-1"}, "custom": {"tier": "gold"},
             "env": {"locale": "fr"}}
    context = base64.b64encode(json.dumps(given).encode()).decode()
    python = ("def handler(event, context):\n"
              "    c = context.client_context\n"
              "    if c is None:\n"
              "        return None\n"
              "    return {'app': c.client.app_title, 'custom': c.custom, 'env': c.env}\n")
    name = create(aws, alice, Code={"ZipFile": zipped({"app.py": python})})["FunctionName"]
    assert payload_of(lam.invoke(FunctionName=name, ClientContext=context)) == {
        "app": "Orders", "custom": {"tier": "gold"}, "env": {"locale": "fr"}}
    assert payload_of(lam.invoke(FunctionName=name)) is None
    node = "exports.handler = async (event, context) => context.clientContext ?? null;\n"
    name = create(aws, alice, Runtime="nodejs20.x", Handler="index.handler",
                  Code={"ZipFile": zipped({"index.js": node})})["FunctionName"]
    assert payload_of(lam.invoke(FunctionName=name, ClientContext=context)) == given
    assert payload_of(lam.invoke(FunctionName=name)) is None


def test_reserved_concurrency_zero_throttles_every_invocation(aws, alice):
    lam = aws(alice, "lambda")
    name = create(aws, alice)["FunctionName"]
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    code, status, message = error_of(lambda: lam.invoke(FunctionName=name, Payload=b"{}"))
    assert (code, status, message) == ("TooManyRequestsException", 429, "Rate Exceeded.")
    lam.delete_function_concurrency(FunctionName=name)
    assert lam.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200


def test_bob_cannot_invoke_alices_function_by_any_name(aws, alice, bob):
    name = create(aws, alice)["FunctionName"]
    arn = f"arn:aws:lambda:us-east-1:{alice['account']}:function:{name}"
    theirs = aws(bob, "lambda")
    for form in (name, arn, f"{alice['account']}:function:{name}", f"{arn}:$LATEST"):
        for kind in ("RequestResponse", "Event", "DryRun"):
            assert code_of(lambda: theirs.invoke(FunctionName=form, InvocationType=kind)) == \
                ("ResourceNotFoundException", 404)


def test_the_aws_cli_invokes_with_a_raw_payload(server, aws, alice, tmp_path):
    # awscli v1 reads --payload as raw text, as v2 does with --cli-binary-format raw-in-base64-out
    # (an option v1 does not have).
    name = create(aws, alice)["FunctionName"]
    answer = cli(server, alice, "lambda", "invoke", "--function-name", name, "--payload", '{"from": "cli"}',
                 "--log-type", "Tail", "out.json", cwd=tmp_path)
    assert (answer["StatusCode"], answer["ExecutedVersion"]) == (200, "$LATEST")
    assert "got" in base64.b64decode(answer["LogResult"]).decode()
    assert json.loads((tmp_path / "out.json").read_text())["echo"] == {"from": "cli"}
    event = cli(server, alice, "lambda", "invoke", "--function-name", name, "--invocation-type", "Event",
                "--payload", "{}", os.devnull)
    assert event["StatusCode"] == 202
