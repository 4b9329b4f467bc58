"""Function URLs against a running server: the Lambda API's URL and permission operations through
boto3, and plain HTTP requests to the URLs (httpx): the payload format 2.0 event, each response
form, function errors, AWS_IAM signed (an access key, a role session by its policy) and unsigned,
NONE needing its public statement, CORS, another person refused, a deleted URL gone, and bodies up
to 6 MB."""

from __future__ import annotations

import base64
import json

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.aws.conftest import signed
from tests.aws.lambda_kit import TRUST_LAMBDA, create, unique, zipped
from tests.aws.test_iam_sts_live import studio
from tests.aws.test_lambda_functions import cli, error_of
from tests.live_server import manage

WEB = '''import base64, json


def handler(event, context):
    path = event["rawPath"]
    if path == "/fail":
        raise RuntimeError("asked to fail")
    if path == "/custom":
        return {"statusCode": 201, "headers": {"Content-Type": "text/plain", "X-Mine": "yes", "X-Count": 3},
                "cookies": ["first=1; Max-Age=60", "second=2; Path=/"], "body": "made it"}
    if path == "/binary":
        return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    if path == "/string":
        return "Hello, world!"
    if path == "/malformed":
        return {"statusCode": "many"}
    if path == "/cors":
        return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "https://evil.example"}, "body": "x"}
    return {"event": event}
'''


def make_function(aws, person, **extra) -> str:
    return create(aws, person, Code={"ZipFile": zipped({"app.py": WEB})}, **extra)["FunctionName"]


def public_url(aws, person, name, **extra) -> str:
    """Makes a NONE URL of `name` with the statement that opens it to everyone; returns the URL."""
    lam = aws(person, "lambda")
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE", **extra)["FunctionUrl"]
    lam.add_permission(FunctionName=name, StatementId="public-url", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE", **({"Qualifier": extra["Qualifier"]}
                                                                      if "Qualifier" in extra else {}))
    return url


def test_url_configs_are_created_read_updated_listed_and_deleted_through_boto3(server, aws, alice):
    lam = aws(alice, "lambda")
    name = make_function(aws, alice, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    arn = f"arn:aws:lambda:us-east-1:{alice['account']}:function:{name}"
    cors = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-token"],
            "ExposeHeaders": ["x-mine"], "MaxAge": 300, "AllowCredentials": True}

    made = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM", Cors=cors)
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert made["FunctionArn"] == arn and made["AuthType"] == "AWS_IAM" and made["Cors"] == cors
    assert made["InvokeMode"] == "BUFFERED" and made["CreationTime"].endswith("Z")
    assert made["FunctionUrl"].startswith(server["base"] + "/lambda-url/") and made["FunctionUrl"].endswith("/")
    url_id = made["FunctionUrl"].rstrip("/").rsplit("/", 1)[1]
    assert len(url_id) == 32 and url_id.isalnum()

    got = lam.get_function_url_config(FunctionName=name)
    assert got["FunctionUrl"] == made["FunctionUrl"] and got["Cors"] == cors and "LastModifiedTime" in got
    assert error_of(lambda: lam.create_function_url_config(FunctionName=name, AuthType="NONE"))[:2] == (
        "ResourceConflictException", 409)

    aliased = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    assert aliased["FunctionArn"] == f"{arn}:live" and aliased["FunctionUrl"] != made["FunctionUrl"]
    assert error_of(lambda: lam.create_function_url_config(FunctionName=name, Qualifier="nope", AuthType="NONE"))[
        :2] == ("ResourceNotFoundException", 404)
    assert error_of(lambda: lam.create_function_url_config(FunctionName=name, Qualifier="1", AuthType="NONE"))[
        :2] == ("ValidationException", 400)   # a version number fails the Qualifier's pattern
    assert error_of(lambda: lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE"))[
        :2] == ("ResourceConflictException", 409)

    updated = lam.update_function_url_config(FunctionName=name, AuthType="NONE", Cors={"AllowOrigins": ["*"]})
    assert updated["AuthType"] == "NONE" and updated["Cors"] == {"AllowOrigins": ["*"]}
    assert updated["FunctionUrl"] == made["FunctionUrl"]
    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [c["FunctionArn"] for c in listed] == [arn, f"{arn}:live"]
    first = lam.list_function_url_configs(FunctionName=name, MaxItems=1)
    assert len(first["FunctionUrlConfigs"]) == 1 and first["NextMarker"]
    rest = lam.list_function_url_configs(FunctionName=name, Marker=first["NextMarker"])
    assert [c["FunctionArn"] for c in rest["FunctionUrlConfigs"]] == [f"{arn}:live"]

    bad = error_of(lambda: lam.update_function_url_config(FunctionName=name, Cors={"AllowMethods": ["FETCH"]}))
    assert bad[:2] == ("InvalidParameterValueException", 400) and "AllowMethods" in bad[2]
    assert error_of(lambda: lam.update_function_url_config(FunctionName=name, Cors={"MaxAge": 100000}))[:2] == (
        "ValidationException", 400)
    assert error_of(lambda: lam.create_function_url_config(FunctionName=make_function(aws, alice), AuthType="NONE",
                                                           InvokeMode="RESPONSE_STREAM"))[:2] == (
        "InvalidParameterValueException", 400)

    lam.delete_function_url_config(FunctionName=name)
    assert error_of(lambda: lam.get_function_url_config(FunctionName=name))[:2] == ("ResourceNotFoundException", 404)
    assert [c["FunctionArn"] for c in lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]] == [
        f"{arn}:live"]
    lam.delete_alias(FunctionName=name, Name="live")   # the alias's URL goes with it
    assert lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []


def test_another_person_neither_sees_nor_changes_a_url(aws, alice, bob):
    name = make_function(aws, alice)
    aws(alice, "lambda").create_function_url_config(FunctionName=name, AuthType="NONE")
    theirs = aws(bob, "lambda")
    arn = f"arn:aws:lambda:us-east-1:{alice['account']}:function:{name}"
    for call in (lambda: theirs.get_function_url_config(FunctionName=name),
                 lambda: theirs.get_function_url_config(FunctionName=arn),
                 lambda: theirs.delete_function_url_config(FunctionName=arn),
                 lambda: theirs.add_permission(FunctionName=arn, StatementId="x", Action="lambda:InvokeFunctionUrl",
                                               Principal="*")):
        assert error_of(call)[:2] == ("ResourceNotFoundException", 404)


def test_permissions_are_added_listed_by_get_policy_and_removed(aws, alice):
    lam = aws(alice, "lambda")
    name = make_function(aws, alice)
    arn = f"arn:aws:lambda:us-east-1:{alice['account']}:function:{name}"
    assert error_of(lambda: lam.get_policy(FunctionName=name))[:2] == ("ResourceNotFoundException", 404)
    added = lam.add_permission(FunctionName=name, StatementId="FunctionURLAllowPublicAccess", Principal="*",
                               Action="lambda:InvokeFunctionUrl", FunctionUrlAuthType="NONE")
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert json.loads(added["Statement"]) == {
        "Sid": "FunctionURLAllowPublicAccess", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
        "Resource": arn, "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}}
    lam.add_permission(FunctionName=name, StatementId="from-bucket", Principal="s3.amazonaws.com",
                       Action="lambda:InvokeFunction", SourceArn="arn:aws:s3:::photos")
    policy = lam.get_policy(FunctionName=name)
    document = json.loads(policy["Policy"])
    assert [s["Sid"] for s in document["Statement"]] == ["FunctionURLAllowPublicAccess", "from-bucket"]
    assert document["Statement"][1]["Principal"] == {"Service": "s3.amazonaws.com"}
    assert document["Statement"][1]["Condition"] == {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::photos"}}
    assert error_of(lambda: lam.add_permission(FunctionName=name, StatementId="from-bucket", Principal="*",
                                               Action="lambda:InvokeFunction"))[:2] == ("ResourceConflictException", 409)
    assert error_of(lambda: lam.add_permission(FunctionName=name, StatementId="x", Principal="*",
                                               Action="s3:GetObject"))[:2] == ("ValidationException", 400)
    assert error_of(lambda: lam.remove_permission(FunctionName=name, StatementId="x", RevisionId="stale"))[:2] == (
        "PreconditionFailedException", 412)
    lam.remove_permission(FunctionName=name, StatementId="from-bucket", RevisionId=policy["RevisionId"])
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]] == [
        "FunctionURLAllowPublicAccess"]
    assert error_of(lambda: lam.remove_permission(FunctionName=name, StatementId="from-bucket"))[:2] == (
        "ResourceNotFoundException", 404)


def test_a_none_url_answers_only_once_its_policy_lets_everyone_in(aws, alice):
    lam = aws(alice, "lambda")
    name = make_function(aws, alice)
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    refused = httpx.get(url)
    assert refused.status_code == 403 and refused.json() == {"Message": "Forbidden"}
    assert refused.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    lam.add_permission(FunctionName=name, StatementId="public", Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")
    assert httpx.get(url).status_code == 200
    lam.remove_permission(FunctionName=name, StatementId="public")
    assert httpx.get(url).status_code == 403


def test_the_function_gets_the_payload_2_event_of_the_request(aws, alice):
    name = make_function(aws, alice)
    url = public_url(aws, alice, name)
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    answer = httpx.post(url + "items/42?tag=a&tag=b&empty=&q=%C3%BC", content=b'{"n": 1}',
                        headers={"Content-Type": "application/json", "User-Agent": "tester/1.0",
                                 "Cookie": "session=abc; theme=dark", "X-Custom": "one"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.headers["x-amzn-RequestId"]
    event = answer.json()["event"]
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/items/42" and event["rawQueryString"] == "tag=a&tag=b&empty=&q=%C3%BC"
    assert event["queryStringParameters"] == {"tag": "a,b", "empty": "", "q": "ü"}
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["headers"]["x-custom"] == "one" and "cookie" not in event["headers"]
    assert event["headers"]["content-type"] == "application/json"
    assert event["body"] == '{"n": 1}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["accountId"] == alice["account"] and context["apiId"] == url_id
    assert context["domainPrefix"] == url_id and context["domainName"] == "127.0.0.1"
    assert context["http"] == {"method": "POST", "path": "/items/42", "protocol": "HTTP/1.1",
                               "sourceIp": "127.0.0.1", "userAgent": "tester/1.0"}
    assert context["routeKey"] == "$default" and context["stage"] == "$default"
    assert context["requestId"] == answer.headers["x-amzn-RequestId"]
    assert isinstance(context["timeEpoch"], int) and context["time"].endswith(" +0000")
    assert "authorizer" not in context

    plain = httpx.get(url).json()["event"]
    assert plain["rawPath"] == "/" and plain["rawQueryString"] == ""
    assert "queryStringParameters" not in plain and "cookies" not in plain and "body" not in plain

    repeated = httpx.get(url + "h", headers=[("X-Many", "1"), ("X-Many", "2")]).json()["event"]
    assert repeated["headers"]["x-many"] == "1,2"


def test_a_binary_body_arrives_base64_encoded(aws, alice):
    url = public_url(aws, alice, make_function(aws, alice))
    data = bytes(range(256)) * 4
    event = httpx.put(url + "upload", content=data, headers={"Content-Type": "image/png"}).json()["event"]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == data
    text = httpx.post(url, content="héllo".encode(), headers={"Content-Type": "text/plain"}).json()["event"]
    assert text["isBase64Encoded"] is False and text["body"] == "héllo"


def test_each_response_form_becomes_its_http_response(aws, alice):
    url = public_url(aws, alice, make_function(aws, alice))
    custom = httpx.get(url + "custom")
    assert custom.status_code == 201 and custom.text == "made it"
    assert custom.headers["content-type"] == "text/plain" and custom.headers["x-mine"] == "yes"
    assert custom.headers["x-count"] == "3"
    assert custom.headers.get_list("set-cookie") == ["first=1; Max-Age=60", "second=2; Path=/"]

    binary = httpx.get(url + "binary")
    assert binary.status_code == 200 and binary.content == bytes(range(256))
    assert binary.headers["content-type"] == "application/octet-stream"

    string = httpx.get(url + "string")
    assert string.status_code == 200 and string.headers["content-type"] == "application/json"
    assert string.text == '"Hello, world!"'

    failed = httpx.get(url + "fail")
    assert failed.status_code == 502 and failed.text == "Internal Server Error"
    malformed = httpx.get(url + "malformed")
    assert malformed.status_code == 502 and malformed.text == "Internal Server Error"


def test_an_aws_iam_url_takes_only_requests_signed_by_its_own_account(aws, alice, bob):
    lam = aws(alice, "lambda")
    name = make_function(aws, alice)
    url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]

    unsigned = httpx.get(url + "x")
    assert unsigned.status_code == 403 and unsigned.json() == {"Message": "Forbidden"}
    mine = signed(alice, "POST", url + "x?a=1", service="lambda", body=b'{"k": "v"}',
                  headers={"Content-Type": "application/json"})
    assert mine.status_code == 200, mine.text
    event = mine.json()["event"]
    assert event["body"] == '{"k": "v"}' and event["queryStringParameters"] == {"a": "1"}
    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == alice["key"] and iam["accountId"] == alice["account"]
    assert iam["userArn"] == f"arn:aws:iam::{alice['account']}:root"

    theirs = signed(bob, "GET", url + "x", service="lambda")
    assert theirs.status_code == 403
    forged = signed(alice, "GET", url + "x", service="lambda", secret="wrong" * 8)
    assert forged.status_code == 403

    # A NONE statement does not open an AWS_IAM URL to everyone.
    lam.add_permission(FunctionName=name, StatementId="public", Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")
    assert httpx.get(url + "x").status_code == 403


def test_cors_preflight_is_answered_from_the_config_and_responses_carry_its_headers(server, aws, alice):
    name = make_function(aws, alice)
    url = public_url(aws, alice, name, Cors={
        "AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-token"],
        "ExposeHeaders": ["x-mine"], "MaxAge": 600, "AllowCredentials": True})
    before = len(studio_invocations(server, alice, name))
    answer = httpx.options(url + "cors", headers={"Origin": "https://app.example",
                                                  "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "x-token"})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://app.example"
    assert answer.headers["access-control-allow-methods"] == "GET, POST"
    assert answer.headers["access-control-allow-headers"] == "x-token"
    assert answer.headers["access-control-max-age"] == "600"
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert len(studio_invocations(server, alice, name)) == before   # the function was not called

    stranger = httpx.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert stranger.status_code == 200 and "access-control-allow-origin" not in stranger.headers

    real = httpx.get(url + "cors", headers={"Origin": "https://app.example"})
    assert real.status_code == 200 and real.text == "x"
    assert real.headers["access-control-allow-origin"] == "https://app.example"   # not the function's own
    assert real.headers["access-control-expose-headers"] == "x-mine"
    evil = httpx.get(url + "cors", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers


def studio_invocations(server, person, name) -> list:
    return studio(server, person).get(f"/api/functions/{name}/invocations").json()["invocations"]


def test_a_url_runs_its_alias_and_counts_as_a_function_url_invocation(server, aws, alice):
    lam = aws(alice, "lambda")
    name = make_function(aws, alice, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    url = public_url(aws, alice, name, Qualifier="live")
    answer = httpx.get(url)
    assert answer.status_code == 200
    invocation = studio_invocations(server, alice, name)[0]
    assert invocation["source"] == "function_url" and invocation["version"] == "1"


def test_the_host_form_reaches_the_same_url_and_a_deleted_url_is_gone(server, aws, alice):
    lam = aws(alice, "lambda")
    name = make_function(aws, alice)
    url = public_url(aws, alice, name)
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    by_host = httpx.get(server["base"] + "/some/where?x=1", headers={"Host": f"{url_id}.lambda-url.localhost"})
    assert by_host.status_code == 200
    event = by_host.json()["event"]
    assert event["rawPath"] == "/some/where" and event["requestContext"]["domainName"] == f"{url_id}.lambda-url.localhost"

    lam.delete_function_url_config(FunctionName=name)
    for gone in (httpx.get(url), httpx.get(server["base"] + "/", headers={"Host": f"{url_id}.lambda-url.localhost"})):
        assert gone.status_code == 404 and gone.json() == {"Message": "Not Found"}


def test_bodies_up_to_6_mb_are_taken_and_larger_ones_refused(aws, alice):
    url = public_url(aws, alice, make_function(aws, alice))
    big = b"a" * (4 * 1024 * 1024)
    taken = httpx.post(url + "size", content=big, headers={"Content-Type": "text/plain"}, timeout=60)
    assert taken.status_code == 200 and len(taken.json()["event"]["body"]) == len(big)
    refused = httpx.post(url + "size", content=b"a" * (6 * 1024 * 1024 + 1), headers={"Content-Type": "text/plain"},
                         timeout=60)
    assert refused.status_code == 413 and "smaller than" in refused.json()["Message"]


SESSION = """
import json
from editor.models import Role
from editor.services.role_sessions import issue_session
role = Role.objects.get(owner__username={person!r}, name={role!r})
session, secret, token = issue_session(role, "caller", seconds=900)
print(json.dumps({{"key": session.access_key_id, "secret": secret, "token": token}}))
"""


def session_of(server, aws, person, policy: dict) -> dict:
    """Returns temporary credentials of a new role of `person`'s whose inline policy is `policy`."""
    iam = aws(person, "iam")
    role = unique("caller")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_LAMBDA)
    iam.put_role_policy(RoleName=role, PolicyName="urls", PolicyDocument=json.dumps(policy))
    return json.loads(manage(server["env"], code=SESSION.format(person=person["name"], role=role)).strip().splitlines()[-1])


def signed_by_session(session: dict, url: str) -> httpx.Response:
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(session["key"], session["secret"], session["token"]), "lambda", "us-east-1").add_auth(request)
    return httpx.get(url, headers=dict(request.headers.items()))


def test_a_role_session_calls_an_aws_iam_url_only_when_its_policy_allows_invoke_function_url(server, aws, alice):
    lam = aws(alice, "lambda")
    name = make_function(aws, alice)
    url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]
    arn = f"arn:aws:lambda:us-east-1:{alice['account']}:function:{name}"
    allowed = session_of(server, aws, alice, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunctionUrl", "Resource": arn}]})
    invoke_only = session_of(server, aws, alice, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arn}]})

    answer = signed_by_session(allowed, url + "who")
    assert answer.status_code == 200, answer.text
    iam = answer.json()["event"]["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == allowed["key"] and ":assumed-role/" in iam["userArn"]
    assert signed_by_session(invoke_only, url + "who").status_code == 403


def test_the_aws_cli_makes_a_public_url_and_an_http_api(server, aws, alice):
    name = make_function(aws, alice)
    made = cli(server, alice, "lambda", "create-function-url-config", "--function-name", name, "--auth-type", "NONE",
               "--cors", '{"AllowOrigins": ["*"]}')
    cli(server, alice, "lambda", "add-permission", "--function-name", name, "--statement-id", "public-url",
        "--action", "lambda:InvokeFunctionUrl", "--principal", "*", "--function-url-auth-type", "NONE")
    assert cli(server, alice, "lambda", "get-function-url-config", "--function-name", name)["Cors"] == {
        "AllowOrigins": ["*"]}
    assert httpx.get(made["FunctionUrl"] + "cli?from=cli").json()["event"]["queryStringParameters"] == {"from": "cli"}

    arn = f"arn:aws:lambda:us-east-1:{alice['account']}:function:{name}"
    api = cli(server, alice, "apigatewayv2", "create-api", "--name", "cli-api", "--protocol-type", "HTTP",
              "--target", arn, "--route-key", "GET /things/{id}")
    event = httpx.get(api["ApiEndpoint"] + "/things/9").json()["event"]
    assert event["routeKey"] == "GET /things/{id}" and event["pathParameters"] == {"id": "9"}
    cli(server, alice, "lambda", "delete-function-url-config", "--function-name", name)
    assert httpx.get(made["FunctionUrl"]).status_code == 404
