"""The AWS API's door on a running server: signatures of each kind refused as AWS refuses them, in
each protocol's error shape; bad input answered with AWS's codes (never a 500); JSON 1.0 and
REST-JSON services routed; the studio's pages and JSON API unchanged beside it; the AWS CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

import httpx
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.aws.conftest import TRUST_STATES, signed
from tests.aws.test_iam_sts_live import code_of
from tests.live_server import manage

IDENTITY = b"Action=GetCallerIdentity&Version=2011-06-15"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"


def query_error(response: httpx.Response) -> tuple[int, str, str]:
    """Returns (status, Code, Message) of a Query protocol error (whatever its namespace)."""
    found = {element.tag.split("}")[-1]: element.text for element in ElementTree.fromstring(response.content).iter()}
    assert found["RequestId"] == response.headers["x-amzn-RequestId"]
    return response.status_code, found["Code"], found["Message"]


def json_error(response: httpx.Response) -> tuple[int, str, str]:
    """Returns (status, code, message) of a JSON protocol error, checking header and body agree."""
    body = response.json()
    assert response.headers["x-amzn-ErrorType"] == body.get("__type", response.headers["x-amzn-ErrorType"])
    assert response.headers["x-amzn-RequestId"]
    return response.status_code, response.headers["x-amzn-ErrorType"], body["message"]


def test_an_unsigned_request_is_refused_in_each_protocols_shape(server):
    base = server["base"]
    status, code, message = query_error(httpx.post(f"{base}/", content=IDENTITY, headers=FORM))
    assert (status, code) == (403, "MissingAuthenticationToken")
    assert query_error(httpx.get(f"{base}/?{IDENTITY.decode()}"))[:2] == (403, "MissingAuthenticationToken")
    sfn = httpx.post(f"{base}/", content=b"{}", headers={"X-Amz-Target": "AWSStepFunctions.ListStateMachines",
                                                         "Content-Type": "application/x-amz-json-1.0"})
    assert json_error(sfn)[:2] == (403, "MissingAuthenticationTokenException")
    assert json_error(httpx.get(f"{base}/2015-03-31/functions/"))[:2] == (403, "MissingAuthenticationTokenException")


def test_unknown_keys_wrong_secrets_and_deactivated_keys_are_refused(server, aws, alice, fresh):
    unknown = {**alice, "key": "AKIA" + "Z" * 16}
    assert code_of(lambda: aws(unknown, "sts").get_caller_identity()) == ("InvalidClientTokenId", 403)
    assert code_of(lambda: aws(unknown, "lambda").list_functions()) == ("UnrecognizedClientException", 403)
    assert code_of(lambda: aws(alice, "sts", secret="x" * 40).get_caller_identity()) == ("SignatureDoesNotMatch", 403)
    assert code_of(lambda: aws(alice, "stepfunctions", secret="x" * 40).list_state_machines()) == \
        ("InvalidSignatureException", 403)
    # Deactivated on the Security credentials page: refused as unknown; active again: accepted.
    page = httpx.Client(base_url=server["base"], follow_redirects=True)
    page.get(fresh["link"]).raise_for_status()
    csrf = {"X-CSRFToken": page.cookies["csrftoken"]} if "csrftoken" in page.cookies else {}
    if not csrf:
        page.get("/security-credentials/")
        csrf = {"X-CSRFToken": page.cookies["csrftoken"]}
    assert page.put(f"/api/access-keys/{fresh['key']}", json={"status": "Inactive"}, headers=csrf).status_code == 200
    assert code_of(lambda: aws(fresh, "sts").get_caller_identity()) == ("InvalidClientTokenId", 403)
    page.put(f"/api/access-keys/{fresh['key']}", json={"status": "Active"}, headers=csrf)
    assert aws(fresh, "sts").get_caller_identity()["Account"] == fresh["account"]
    used = page.get("/api/access-keys").json()["access_keys"][0]
    assert (used["last_used_service"], used["last_used_region"]) == ("sts", "us-east-1")


def test_a_request_signed_more_than_15_minutes_away_is_refused(server, alice):
    url = f"{server['base']}/"
    late = datetime.now(timezone.utc) - timedelta(minutes=16)
    status, code, message = query_error(signed(alice, "POST", url, service="sts", body=IDENTITY, headers=FORM,
                                               when=late))
    assert (status, code) == (403, "SignatureDoesNotMatch")
    assert message.startswith(f"Signature expired: {late.strftime('%Y%m%dT%H%M%SZ')} is now earlier than")
    early = datetime.now(timezone.utc) + timedelta(minutes=16)
    sfn = signed(alice, "POST", url, service="states", body=b"{}", when=early,
                 headers={"X-Amz-Target": "AWSStepFunctions.ListStateMachines",
                          "Content-Type": "application/x-amz-json-1.0"})
    status, code, message = json_error(sfn)
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("Signature not yet current:")
    fine = signed(alice, "POST", url, service="sts", body=IDENTITY, headers=FORM,
                  when=datetime.now(timezone.utc) - timedelta(minutes=14))
    assert fine.status_code == 200, fine.text


def test_a_changed_body_or_header_after_signing_breaks_the_signature(server, alice):
    request = AWSRequest(method="POST", url=f"{server['base']}/", data=IDENTITY, headers=FORM)
    from botocore.auth import SigV4Auth

    SigV4Auth(Credentials(alice["key"], alice["secret"]), "sts", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    assert httpx.post(f"{server['base']}/", content=IDENTITY, headers=headers).status_code == 200
    tampered = httpx.post(f"{server['base']}/", content=IDENTITY + b"&x=1", headers=headers)
    assert query_error(tampered)[:2] == (403, "SignatureDoesNotMatch")
    incomplete = {**headers, "Authorization": headers["Authorization"].split(", Signature=")[0]}
    assert query_error(httpx.post(f"{server['base']}/", content=IDENTITY, headers=incomplete))[:2] == \
        (400, "IncompleteSignature")


def test_a_presigned_url_works_until_it_expires_and_not_once_changed(server, alice):
    def presign(expires, when=None):
        request = AWSRequest(method="GET", url=f"{server['base']}/?{IDENTITY.decode()}")
        from unittest import mock

        with mock.patch("botocore.auth.get_current_datetime", return_value=when or datetime.now(timezone.utc)):
            SigV4QueryAuth(Credentials(alice["key"], alice["secret"]), "sts", "us-east-1", expires=expires).add_auth(
                request)
        return request.url

    url = presign(60)
    answer = httpx.get(url)
    assert answer.status_code == 200, answer.text
    assert ElementTree.fromstring(answer.content).find(f".//{NS}Account").text == alice["account"]
    assert query_error(httpx.get(url.replace("GetCallerIdentity", "GetSessionToken")))[:2] == \
        (403, "SignatureDoesNotMatch")
    stale = presign(60, datetime.now(timezone.utc) - timedelta(minutes=2))
    status, code, message = query_error(httpx.get(stale))
    assert (status, code) == (403, "SignatureDoesNotMatch") and message.startswith("Signature expired")


def test_bad_input_gets_awss_codes_never_a_500_and_creates_nothing(server, aws, alice):
    iam = aws(alice, "iam", validate=False)
    before = aws(alice, "iam").list_roles()["Roles"]
    with pytest.raises(ClientError) as missing:
        iam.create_role(RoleName="no-trust-policy")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert missing.value.response["Error"]["Message"] == ("1 validation error detected: Value null at "
                                                          "'assumeRolePolicyDocument' failed to satisfy constraint: "
                                                          "Member must not be null")
    with pytest.raises(ClientError) as wrong:
        iam.list_roles(MaxItems="many")
    assert wrong.value.response["Error"]["Code"] == "ValidationError"
    assert "'maxItems'" in wrong.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as long_name:
        iam.create_role(RoleName="x" * 65, AssumeRolePolicyDocument=TRUST_STATES, MaxSessionDuration=60)
    message = long_name.value.response["Error"]["Message"]
    assert message.startswith("2 validation errors detected:")
    assert "Member must have length less than or equal to 64" in message
    assert "Member must have value greater than or equal to 3600" in message
    base = server["base"]
    unknown = signed(alice, "POST", f"{base}/", service="iam", headers=FORM,
                     body=b"Action=LaunchRockets&Version=2010-05-08")
    assert query_error(unknown)[:2] == (400, "InvalidAction")
    sfn_headers = {"X-Amz-Target": "AWSStepFunctions.ListStateMachines", "Content-Type": "application/x-amz-json-1.0"}
    malformed = signed(alice, "POST", f"{base}/", service="states", body=b"{not json", headers=sfn_headers)
    assert json_error(malformed)[:2] == (400, "SerializationException")
    not_an_object = signed(alice, "POST", f"{base}/", service="states", body=b"[1]", headers=sfn_headers)
    assert json_error(not_an_object)[:2] == (400, "SerializationException")
    no_target = signed(alice, "POST", f"{base}/", service="states", body=b"{}",
                       headers={**sfn_headers, "X-Amz-Target": "AWSStepFunctions.Dance"})
    assert json_error(no_target)[:2] == (400, "UnknownOperationException")
    other = signed(alice, "POST", f"{base}/", service="dynamodb", body=b"{}",
                   headers={"X-Amz-Target": "DynamoDB_20120810.ListTables",
                            "Content-Type": "application/x-amz-json-1.0"})
    assert json_error(other)[:2] == (400, "UnknownServiceException")
    too_big = signed(alice, "POST", f"{base}/2015-03-31/functions/f/invocations", service="lambda",
                     body=b"x" * (8 * 1024 * 1024))
    assert json_error(too_big)[:2] == (413, "RequestTooLargeException")   # Invoke's own 6 MB limit
    too_big = signed(alice, "POST", f"{base}/", service="states", body=b"x" * (3 * 1024 * 1024), headers=sfn_headers)
    assert json_error(too_big)[:2] == (413, "RequestEntityTooLargeException")
    assert aws(alice, "iam").list_roles()["Roles"] == before


def test_json_10_and_rest_json_services_are_routed_to_their_not_yet_implemented_operations(aws, alice):
    """Step Functions (JSON 1.0) and Lambda (REST-JSON) are signed, routed and answered in their
    shapes; their operations come with the next issues."""
    with pytest.raises(ClientError) as sfn:
        aws(alice, "stepfunctions").list_activities()   # (activities are not served)
    assert sfn.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "ListActivities" in sfn.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as function:
        aws(alice, "lambda").list_code_signing_configs()   # (code signing is not served)
    assert function.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "ListCodeSigningConfigs" in function.value.response["Error"]["Message"]


def test_the_studio_keeps_its_pages_sign_in_and_json_api_beside_the_aws_api(server, fresh):
    base = server["base"]
    page = httpx.get(f"{base}/roles/")
    assert page.status_code == 302 and page.headers["location"].startswith("/login/")
    assert httpx.get(f"{base}/api/roles").json()["error"]["code"] == "NotSignedIn"
    signed_in = httpx.Client(base_url=base, follow_redirects=True)
    signed_in.get(fresh["link"])   # (the administrator's one-time link is the page tests')
    assert signed_in.get("/").status_code == 200
    assert signed_in.post("/api/roles", json={"name": "x"}).json()["error"]["code"] == "CsrfFailed"


def test_the_aws_cli_works_with_a_key_from_create_access_key(server):
    lines = manage(server["env"], "create_access_key", "admin").splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("AWS_ACCESS_KEY_ID=AKIA") and lines[1].startswith("AWS_SECRET_ACCESS_KEY=")
    env = {**os.environ, **dict(line.split("=", 1) for line in lines), "AWS_ENDPOINT_URL": server["base"],
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}

    def aws_cli(*args):
        done = subprocess.run([sys.executable, "-m", "awscli", *args, "--output", "json"], env=env,
                              capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr

    code, out, err = aws_cli("sts", "get-caller-identity")
    assert code == 0, err
    assert json.loads(out)["Account"] == "123456789012"   # the first administrator's: FLOWBENCH_ACCOUNT_ID
    code, out, err = aws_cli("iam", "list-roles")
    assert code == 0, err
    assert "flowbench-sample-role" in [r["RoleName"] for r in json.loads(out)["Roles"]]
    code, out, err = aws_cli("iam", "create-role", "--role-name", "cli-role", "--assume-role-policy-document",
                             TRUST_STATES)
    assert code == 0, err
    code, out, err = aws_cli("iam", "get-role", "--role-name", "no-such-role")
    assert code != 0 and "NoSuchEntity" in err
    code, out, err = aws_cli("stepfunctions", "list-activities")   # activities: not served (yet)
    assert code != 0 and "UnknownOperationException" in err
    # An administrator holds two keys at most: give this one's place back to the other tests.
    key_id = lines[0].split("=", 1)[1]
    manage(server["env"], code=f"from editor.models import AccessKey; AccessKey.objects.filter(access_key_id={key_id!r}).delete()")
