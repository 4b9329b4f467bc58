"""HTTP APIs against a running server, beyond Lambda proxies with payload 2.0: Step Functions
service integrations (StartExecution, StartSyncExecution, StopExecution) with RequestParameters
mapped from the request and done as a role; deployments (a stage serves what was deployed to it,
an AutoDeploy stage every change); and payload format 1.0 for functions."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.aws.lambda_kit import create, zipped
from tests.aws.test_lambda_functions import error_of
from tests.integration.cluster import wait_until
from tests.live_server import new_person

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
ALLOW_STATES = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["states:StartExecution", "states:StartSyncExecution", "states:StopExecution"],
     "Resource": "*"}]}
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"got.$": "$"}, "End": True}}}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Sold.Out", "Cause": "no more left"}}}
SLOW = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "End": True}}}


def _role(aws, person, name: str, trust: dict, policy: dict | None) -> str:
    iam = aws(person, "iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def _machine(aws, person, name: str, definition: dict, kind: str = "STANDARD") -> str:
    return aws(person, "stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), type=kind,
        roleArn=f"arn:aws:iam::{person['account']}:role/flowbench-sample-role")["stateMachineArn"]


@pytest.fixture(scope="module")
def shop(aws, server):
    """A person with a role API Gateway may assume to start executions, and three machines."""
    person = new_person(server["env"], f"shop-{uuid.uuid4().hex[:6]}")
    return {**person, "role": _role(aws, person, "apigw-states", TRUST, ALLOW_STATES),
            "standard": _machine(aws, person, "orders", PASS),
            "waiting": _machine(aws, person, "waiting", WAIT),
            "express": _machine(aws, person, "quote", PASS, "EXPRESS"),
            "failing": _machine(aws, person, "sold-out", FAIL, "EXPRESS"),
            "slow": _machine(aws, person, "slow", SLOW, "EXPRESS")}


def _integration(gw, api_id, subtype, parameters, role, **extra) -> str:
    return gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationSubtype=subtype,
                                 PayloadFormatVersion="1.0", CredentialsArn=role, RequestParameters=parameters,
                                 **extra)["IntegrationId"]


def _api_with(gw, routes: dict) -> dict:
    """Creates an API with `routes` (route key -> integration id maker) on an AutoDeploy $default stage."""
    api = gw.create_api(Name=f"sfn-{uuid.uuid4().hex[:6]}", ProtocolType="HTTP")
    for key, make in routes.items():
        gw.create_route(ApiId=api["ApiId"], RouteKey=key, Target=f"integrations/{make(api['ApiId'])}")
    gw.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    return api


def test_a_route_starts_an_execution_with_the_mapped_input_and_name(aws, shop):
    gw, sfn = aws(shop, "apigatewayv2"), aws(shop, "stepfunctions")
    parameters = {"StateMachineArn": shop["standard"], "Input": "$request.body",
                  "Name": "order-${request.path.id}"}
    api = _api_with(gw, {"POST /orders/{id}": lambda a: _integration(
        gw, a, "StepFunctions-StartExecution", parameters, shop["role"])})
    integration = gw.get_integrations(ApiId=api["ApiId"])["Items"][0]
    assert (integration["IntegrationSubtype"], integration["CredentialsArn"], integration["RequestParameters"],
            integration["PayloadFormatVersion"]) == ("StepFunctions-StartExecution", shop["role"], parameters, "1.0")
    assert "IntegrationUri" not in integration

    answer = httpx.post(api["ApiEndpoint"] + "/orders/17", json={"item": "ball", "count": 2})
    assert answer.status_code == 200, answer.text
    started = answer.json()
    assert set(started) == {"executionArn", "startDate"} and isinstance(started["startDate"], float)
    assert started["executionArn"].endswith(":execution:orders:order-17")
    described = wait_until(lambda: (d := sfn.describe_execution(executionArn=started["executionArn"]))["status"]
                           == "SUCCEEDED" and d, 30, "the execution the route started to succeed")
    assert json.loads(described["input"]) == {"item": "ball", "count": 2}
    assert json.loads(described["output"]) == {"got": {"item": "ball", "count": 2}}

    # The service's refusals come back as the service gives them.
    again = httpx.post(api["ApiEndpoint"] + "/orders/17", json={"item": "other"})
    assert again.status_code == 400 and again.json()["__type"] == "ExecutionAlreadyExists"
    bad = httpx.post(api["ApiEndpoint"] + "/orders/18", content=b"{not json", headers={"Content-Type": "text/plain"})
    assert bad.status_code == 400 and bad.json()["__type"] == "InvalidExecutionInput"
    assert sfn.list_executions(stateMachineArn=shop["standard"])["executions"][0]["name"] == "order-17"


def test_a_sync_route_answers_the_express_result_and_a_stop_route_stops(aws, shop):
    gw, sfn = aws(shop, "apigatewayv2"), aws(shop, "stepfunctions")
    sync = "StepFunctions-StartSyncExecution"
    api = _api_with(gw, {
        "POST /quote": lambda a: _integration(gw, a, sync, {"StateMachineArn": shop["express"],
                                                            "Input": "$request.body.payload"}, shop["role"]),
        "GET /sold-out": lambda a: _integration(gw, a, sync, {"StateMachineArn": shop["failing"]}, shop["role"]),
        "GET /slow": lambda a: _integration(gw, a, sync, {"StateMachineArn": shop["slow"]}, shop["role"],
                                            TimeoutInMillis=300),
        "DELETE /runs": lambda a: _integration(gw, a, "StepFunctions-StopExecution",
                                               {"ExecutionArn": "$request.querystring.arn",
                                                "Cause": "stopped by ${request.header.x-who}"}, shop["role"]),
    })
    done = httpx.post(api["ApiEndpoint"] + "/quote", json={"payload": {"size": "L"}, "ignored": True})
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == {"got": {"size": "L"}}
    assert json.loads(result["input"]) == {"size": "L"} and result["billingDetails"]["billedDurationInMilliseconds"]
    failed = httpx.get(api["ApiEndpoint"] + "/sold-out").json()
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Sold.Out", "no more left")
    # An execution that outlasts the integration's TimeoutInMillis: API Gateway gives up, it goes on.
    slow = httpx.get(api["ApiEndpoint"] + "/slow", timeout=60)
    assert slow.status_code == 503 and slow.json() == {"message": "Service Unavailable"}

    running = sfn.start_execution(stateMachineArn=shop["waiting"])["executionArn"]
    stopped = httpx.delete(api["ApiEndpoint"] + "/runs", params={"arn": running}, headers={"X-Who": "desk"})
    assert stopped.status_code == 200 and "stopDate" in stopped.json()
    described = sfn.describe_execution(executionArn=running)
    assert (described["status"], described["cause"]) == ("ABORTED", "stopped by desk")


def test_service_integrations_refuse_bad_request_parameters_naming_the_member(aws, shop):
    gw = aws(shop, "apigatewayv2")
    api_id = gw.create_api(Name="bad-params", ProtocolType="HTTP")["ApiId"]
    start = "StepFunctions-StartExecution"

    def refused(**changes) -> str:
        arguments = {"ApiId": api_id, "IntegrationType": "AWS_PROXY", "IntegrationSubtype": start,
                     "PayloadFormatVersion": "1.0", "CredentialsArn": shop["role"],
                     "RequestParameters": {"StateMachineArn": shop["standard"]}, **changes}
        code, status, message = error_of(lambda: gw.create_integration(**arguments))
        assert (code, status) == ("BadRequestException", 400)
        return message

    assert "RequestParameters.StateMachineArn is required" in refused(RequestParameters={"Input": "$request.body"})
    assert "RequestParameters.Colour" in refused(RequestParameters={"StateMachineArn": shop["standard"],
                                                                    "Colour": "red"})
    message = refused(RequestParameters={"StateMachineArn": shop["standard"], "Input": "$request.nothing"})
    assert message.startswith("RequestParameters.Input:") and "$request.nothing" in message
    assert "RequestParameters.Input" in refused(RequestParameters={"StateMachineArn": shop["standard"],
                                                                   "Input": "$request.body.a[x"})
    assert "PayloadFormatVersion" in refused(PayloadFormatVersion="2.0")
    assert "CredentialsArn" in refused(CredentialsArn="")
    assert "CredentialsArn" in refused(CredentialsArn="arn:aws:iam::000000000000:role/theirs")
    assert "IntegrationSubtype" in refused(IntegrationSubtype="SQS-SendMessage")
    assert "IntegrationUri" in refused(IntegrationUri=shop["standard"])
    assert gw.get_integrations(ApiId=api_id)["Items"] == []   # nothing half-made


def test_a_role_that_may_not_start_the_machine_is_refused_when_called(aws, shop):
    gw = aws(shop, "apigatewayv2")
    untrusting = _role(aws, shop, "not-for-apigw", {**TRUST, "Statement": [
        {**TRUST["Statement"][0], "Principal": {"Service": "states.amazonaws.com"}}]}, ALLOW_STATES)
    unallowed = _role(aws, shop, "apigw-nothing", TRUST, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "states:DescribeExecution", "Resource": "*"}]})
    parameters = {"StateMachineArn": shop["standard"]}
    api = _api_with(gw, {
        "POST /untrusted": lambda a: _integration(gw, a, "StepFunctions-StartExecution", parameters, untrusting),
        "POST /unallowed": lambda a: _integration(gw, a, "StepFunctions-StartExecution", parameters, unallowed),
    })
    untrusted = httpx.post(api["ApiEndpoint"] + "/untrusted")
    assert untrusted.status_code == 500 and untrusted.json() == {"message": "Internal Server Error"}
    denied = httpx.post(api["ApiEndpoint"] + "/unallowed")
    assert denied.status_code == 403 and denied.json()["__type"] == "AccessDeniedException"
    assert "states:StartExecution" in denied.json()["message"] and "apigw-nothing" in denied.json()["message"]


ECHO_V1 = '''import json
def handler(event, context):
    if event.get("path", "").endswith("/bare"):
        return {"no": "statusCode"}
    return {"statusCode": 201, "headers": {"X-One": "1", "Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": json.dumps(event)}
'''


def test_payload_format_1_0_events_and_responses(aws, shop):
    gw = aws(shop, "apigatewayv2")
    arn = create(aws, shop, Code={"ZipFile": zipped({"app.py": ECHO_V1})})["FunctionArn"]
    api = gw.create_api(Name="v1", ProtocolType="HTTP")
    integration = gw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                        PayloadFormatVersion="1.0")
    assert integration["PayloadFormatVersion"] == "1.0"
    gw.create_route(ApiId=api["ApiId"], RouteKey="ANY /items/{id}", Target=f"integrations/{integration['IntegrationId']}")
    gw.create_stage(ApiId=api["ApiId"], StageName="live", AutoDeploy=True, StageVariables={"tier": "1"})

    answer = httpx.put(api["ApiEndpoint"] + "/live/items/9?tag=a&tag=b&one=x", content=b'{"n": 1}',
                       headers=[("Content-Type", "application/json"), ("X-Many", "p"), ("X-Many", "q")])
    assert answer.status_code == 201 and answer.headers["x-one"] == "1"
    assert answer.headers.get_list("set-cookie") == ["a=1", "b=2"]
    event = answer.json()
    assert event["version"] == "1.0" and event["httpMethod"] == "PUT"
    assert event["resource"] == "/items/{id}" and event["path"] == "/live/items/9"
    assert event["pathParameters"] == {"id": "9"} and event["stageVariables"] == {"tier": "1"}
    assert event["multiValueHeaders"]["x-many"] == ["p", "q"] and event["headers"]["x-many"] == "q"
    assert event["queryStringParameters"] == {"tag": "b", "one": "x"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "one": ["x"]}
    assert event["body"] == '{"n": 1}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert (context["httpMethod"], context["stage"], context["apiId"], context["resourcePath"]) == (
        "PUT", "live", api["ApiId"], "/items/{id}")
    assert context["identity"]["sourceIp"] and context["requestId"] == answer.headers["apigw-requestid"]

    # API Gateway infers nothing from a 1.0 result without statusCode.
    bare = httpx.get(api["ApiEndpoint"] + "/live/items/bare")
    assert bare.status_code == 500 and bare.json() == {"message": "Internal Server Error"}
    assert error_of(lambda: gw.update_integration(ApiId=api["ApiId"], IntegrationId=integration["IntegrationId"],
                                                  PayloadFormatVersion="1.1"))[:2] == ("BadRequestException", 400)


def test_a_stage_serves_its_deployment_until_the_next_and_auto_deploy_serves_every_change(aws, shop):
    gw = aws(shop, "apigatewayv2")
    api = gw.create_api(Name="deployed", ProtocolType="HTTP")
    api_id, base = api["ApiId"], api["ApiEndpoint"]
    target = create(aws, shop, Code={"ZipFile": zipped({"app.py": ECHO_V1})})["FunctionArn"]
    integration = gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=target,
                                        PayloadFormatVersion="2.0")["IntegrationId"]
    gw.create_route(ApiId=api_id, RouteKey="GET /one", Target=f"integrations/{integration}")
    assert gw.create_stage(ApiId=api_id, StageName="prod").get("DeploymentId") is None
    gw.create_stage(ApiId=api_id, StageName="dev", AutoDeploy=True)
    assert httpx.get(base + "/prod/one").status_code == 404          # never deployed
    assert httpx.get(base + "/dev/one").status_code == 201

    first = gw.create_deployment(ApiId=api_id, StageName="prod", Description="first")
    assert (first["DeploymentStatus"], first["AutoDeployed"], first["Description"]) == ("DEPLOYED", False, "first")
    assert gw.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == first["DeploymentId"]
    assert httpx.get(base + "/prod/one").status_code == 201

    gw.create_route(ApiId=api_id, RouteKey="GET /two", Target=f"integrations/{integration}")
    assert httpx.get(base + "/dev/two").status_code == 201           # AutoDeploy: at once
    assert httpx.get(base + "/prod/two").status_code == 404          # not until deployed
    one = next(r for r in gw.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "GET /one")
    gw.delete_route(ApiId=api_id, RouteId=one["RouteId"])
    assert httpx.get(base + "/prod/one").status_code == 201          # the deployment still has it
    assert httpx.get(base + "/dev/one").status_code == 404

    second = gw.create_deployment(ApiId=api_id, StageName="prod")
    assert httpx.get(base + "/prod/two").status_code == 201 and httpx.get(base + "/prod/one").status_code == 404
    ids = {d["DeploymentId"]: d for d in gw.get_deployments(ApiId=api_id)["Items"]}
    assert {first["DeploymentId"], second["DeploymentId"]} <= set(ids)
    assert any(d["AutoDeployed"] for d in ids.values())
    assert gw.get_deployment(ApiId=api_id, DeploymentId=first["DeploymentId"])["Description"] == "first"

    # Back to the first deployment by UpdateStage; one a stage serves cannot be deleted.
    gw.update_stage(ApiId=api_id, StageName="prod", DeploymentId=first["DeploymentId"])
    assert httpx.get(base + "/prod/one").status_code == 201
    assert error_of(lambda: gw.delete_deployment(ApiId=api_id, DeploymentId=first["DeploymentId"]))[:2] == (
        "BadRequestException", 400)
    gw.delete_deployment(ApiId=api_id, DeploymentId=second["DeploymentId"])
    assert error_of(lambda: gw.get_deployment(ApiId=api_id, DeploymentId=second["DeploymentId"]))[:2] == (
        "NotFoundException", 404)
    assert error_of(lambda: gw.create_deployment(ApiId=api_id, StageName="dev"))[:2] == ("BadRequestException", 400)
    assert error_of(lambda: gw.create_deployment(ApiId=api_id, StageName="nope"))[:2] == ("NotFoundException", 404)
    assert error_of(lambda: gw.update_stage(ApiId=api_id, StageName="prod", DeploymentId="zzzzzz"))[:2] == (
        "NotFoundException", 404)


def test_the_readme_aws_cli_example_starts_an_execution(server, shop):
    from tests.aws.test_lambda_functions import cli

    api = cli(server, shop, "apigatewayv2", "create-api", "--name", "cli-orders", "--protocol-type", "HTTP")
    made = cli(server, shop, "apigatewayv2", "create-integration", "--api-id", api["ApiId"],
               "--integration-type", "AWS_PROXY", "--integration-subtype", "StepFunctions-StartExecution",
               "--payload-format-version", "1.0", "--credentials-arn", shop["role"], "--request-parameters",
               json.dumps({"StateMachineArn": shop["standard"], "Input": "$request.body",
                           "Name": "cli-${request.path.id}"}))
    cli(server, shop, "apigatewayv2", "create-route", "--api-id", api["ApiId"], "--route-key", "POST /orders/{id}",
        "--target", f"integrations/{made['IntegrationId']}")
    cli(server, shop, "apigatewayv2", "create-stage", "--api-id", api["ApiId"], "--stage-name", "$default",
        "--auto-deploy")
    started = httpx.post(api["ApiEndpoint"] + "/orders/17", content=b'{"item": "ball"}')
    assert started.status_code == 200 and started.json()["executionArn"].endswith(":execution:orders:cli-17")
