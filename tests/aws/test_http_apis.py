"""API Gateway HTTP APIs against a running server: apigatewayv2's operations through boto3
(quick create with Target, routes, Lambda proxy integrations, stages), and plain HTTP requests
routed to functions with the payload format 2.0 event (routeKey, pathParameters, stage), a
string result as its body, a function error as 500, 404 for what no route takes, and another
person's APIs out of reach."""

from __future__ import annotations

import httpx

from tests.aws.lambda_kit import create, zipped
from tests.aws.test_iam_sts_live import studio
from tests.aws.test_lambda_functions import error_of

ROUTER = '''def handler(event, context):
    if event["rawPath"].endswith("/fail"):
        raise ValueError("no")
    if event["rawPath"].endswith("/text"):
        return "plain words"
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": __import__("json").dumps({"event": event})}
'''


def function_arn(aws, person, **extra) -> str:
    return create(aws, person, Code={"ZipFile": zipped({"app.py": ROUTER})}, **extra)["FunctionArn"]


def test_quick_create_serves_every_request_on_the_default_stage(aws, alice):
    gw = aws(alice, "apigatewayv2")
    target = function_arn(aws, alice)
    api = gw.create_api(Name="quick", ProtocolType="HTTP", Target=target)
    assert api["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert api["ProtocolType"] == "HTTP" and api["RouteSelectionExpression"] == "$request.method $request.path"
    endpoint = api["ApiEndpoint"]
    assert endpoint.endswith(f"/http-api/{api['ApiId']}") and len(api["ApiId"]) == 10

    routes = gw.get_routes(ApiId=api["ApiId"])["Items"]
    assert [(r["RouteKey"], r["ApiGatewayManaged"]) for r in routes] == [("$default", True)]
    integrations = gw.get_integrations(ApiId=api["ApiId"])["Items"]
    assert [(i["IntegrationType"], i["IntegrationUri"], i["PayloadFormatVersion"]) for i in integrations] == [
        ("AWS_PROXY", target, "2.0")]
    assert routes[0]["Target"] == f"integrations/{integrations[0]['IntegrationId']}"
    stages = gw.get_stages(ApiId=api["ApiId"])["Items"]
    assert [(s["StageName"], s["AutoDeploy"]) for s in stages] == [("$default", True)]
    assert gw.get_api(ApiId=api["ApiId"])["Name"] == "quick"
    assert api["ApiId"] in [a["ApiId"] for a in gw.get_apis()["Items"]]

    answer = httpx.post(endpoint + "/anything/here?x=1&x=2", content=b"hi", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 200 and answer.headers["apigw-requestid"]
    event = answer.json()["event"]
    assert event["routeKey"] == "$default" and event["rawPath"] == "/anything/here"
    assert event["queryStringParameters"] == {"x": "1,2"} and event["body"] == "hi"
    assert event["requestContext"]["apiId"] == api["ApiId"] and event["requestContext"]["stage"] == "$default"
    assert "pathParameters" not in event

    text = httpx.get(endpoint + "/text")
    assert text.status_code == 200 and text.text == "plain words"
    failed = httpx.get(endpoint + "/fail")
    assert failed.status_code == 500 and failed.json() == {"message": "Internal Server Error"}

    by_host = httpx.get(f"{endpoint.split('/http-api/')[0]}/x", headers={"Host": f"{api['ApiId']}.execute-api.localhost"})
    assert by_host.status_code == 200 and by_host.json()["event"]["rawPath"] == "/x"

    gw.delete_api(ApiId=api["ApiId"])
    assert httpx.get(endpoint + "/x").status_code == 404
    assert error_of(lambda: gw.get_api(ApiId=api["ApiId"]))[:2] == ("NotFoundException", 404)


def test_routes_with_path_parameters_pick_the_most_specific_on_a_named_stage(aws, alice):
    gw = aws(alice, "apigatewayv2")
    api = gw.create_api(Name="routed", ProtocolType="HTTP")
    api_id = api["ApiId"]
    integration = gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY",
                                        IntegrationUri=function_arn(aws, alice), PayloadFormatVersion="2.0")
    target = f"integrations/{integration['IntegrationId']}"
    item = gw.create_route(ApiId=api_id, RouteKey="GET /items/{id}", Target=target)
    gw.create_route(ApiId=api_id, RouteKey="GET /items/special", Target=target)
    gw.create_route(ApiId=api_id, RouteKey="ANY /{proxy+}", Target=target)
    assert gw.get_route(ApiId=api_id, RouteId=item["RouteId"])["RouteKey"] == "GET /items/{id}"
    assert error_of(lambda: gw.create_route(ApiId=api_id, RouteKey="GET /items/{id}", Target=target))[:2] == (
        "ConflictException", 409)
    assert error_of(lambda: gw.create_route(ApiId=api_id, RouteKey="FETCH /x", Target=target))[:2] == (
        "BadRequestException", 400)
    assert error_of(lambda: gw.create_route(ApiId=api_id, RouteKey="GET /{a+}/b", Target=target))[:2] == (
        "BadRequestException", 400)
    assert error_of(lambda: gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY",
                                                  IntegrationUri="arn:aws:lambda:us-east-1:123456789012:function:x",
                                                  PayloadFormatVersion="3.0"))[:2] == ("BadRequestException", 400)
    stage = gw.create_stage(ApiId=api_id, StageName="dev", AutoDeploy=True, StageVariables={"tier": "test"})
    assert stage["StageName"] == "dev" and stage["AutoDeploy"] is True
    base = api["ApiEndpoint"]

    assert httpx.get(base + "/items/1").status_code == 404        # no $default stage: /items is no stage
    item_event = httpx.get(base + "/dev/items/42").json()["event"]
    assert item_event["routeKey"] == "GET /items/{id}" and item_event["pathParameters"] == {"id": "42"}
    assert item_event["rawPath"] == "/dev/items/42" and item_event["requestContext"]["stage"] == "dev"
    assert item_event["stageVariables"] == {"tier": "test"}
    assert httpx.get(base + "/dev/items/special").json()["event"]["routeKey"] == "GET /items/special"
    proxy = httpx.delete(base + "/dev/a/b/c").json()["event"]
    assert proxy["routeKey"] == "ANY /{proxy+}" and proxy["pathParameters"] == {"proxy": "a/b/c"}
    posted = httpx.post(base + "/dev/items/42").json()["event"]
    assert posted["routeKey"] == "ANY /{proxy+}"

    proxy_route = next(r for r in gw.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "ANY /{proxy+}")
    gw.delete_route(ApiId=api_id, RouteId=proxy_route["RouteId"])
    assert httpx.post(base + "/dev/items/42").status_code == 404
    assert error_of(lambda: gw.delete_integration(ApiId=api_id, IntegrationId=integration["IntegrationId"]))[:2] == (
        "ConflictException", 409)
    gw.delete_stage(ApiId=api_id, StageName="dev")
    assert httpx.get(base + "/dev/items/42").status_code == 404


def test_another_person_neither_reaches_nor_targets_an_api(aws, alice, bob):
    mine = aws(alice, "apigatewayv2").create_api(Name="private", ProtocolType="HTTP",
                                                 Target=function_arn(aws, alice))
    theirs = aws(bob, "apigatewayv2")
    assert error_of(lambda: theirs.get_api(ApiId=mine["ApiId"]))[:2] == ("NotFoundException", 404)
    assert error_of(lambda: theirs.delete_api(ApiId=mine["ApiId"]))[:2] == ("NotFoundException", 404)
    assert mine["ApiId"] not in [a["ApiId"] for a in theirs.get_apis()["Items"]]
    # Bob's API cannot send requests to Alice's function.
    assert error_of(lambda: theirs.create_api(Name="steal", ProtocolType="HTTP",
                                              Target=function_arn(aws, alice)))[:2] == ("BadRequestException", 400)
    # Nor can a WebSocket API of theirs integrate it.
    socket_api = theirs.create_api(Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    assert error_of(lambda: theirs.create_integration(ApiId=socket_api["ApiId"], IntegrationType="AWS_PROXY",
                                                      IntegrationUri=function_arn(aws, alice)))[:2] == (
        "BadRequestException", 400)


def test_an_apis_cors_configuration_answers_preflights_and_marks_responses(aws, alice):
    api = aws(alice, "apigatewayv2").create_api(
        Name="cors", ProtocolType="HTTP", Target=function_arn(aws, alice),
        CorsConfiguration={"AllowOrigins": ["https://shop.example"], "AllowMethods": ["GET"], "MaxAge": 60})
    assert api["CorsConfiguration"] == {"AllowOrigins": ["https://shop.example"], "AllowMethods": ["GET"],
                                        "MaxAge": 60}
    preflight = httpx.options(api["ApiEndpoint"] + "/x", headers={"Origin": "https://shop.example",
                                                                  "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-methods"] == "GET"
    assert preflight.headers["access-control-max-age"] == "60"
    real = httpx.get(api["ApiEndpoint"] + "/x", headers={"Origin": "https://shop.example"})
    assert real.status_code == 200 and real.headers["access-control-allow-origin"] == "https://shop.example"


def test_apis_routes_integrations_and_stages_are_updated(server, aws, alice):
    gw = aws(alice, "apigatewayv2")
    api = gw.create_api(Name="before", ProtocolType="HTTP", Target=function_arn(aws, alice), RouteKey="GET /old")
    api_id = api["ApiId"]
    assert gw.update_api(ApiId=api_id, Name="after", Description="renamed")["Name"] == "after"
    assert gw.get_api(ApiId=api_id)["Description"] == "renamed"
    route = gw.get_routes(ApiId=api_id)["Items"][0]
    assert gw.update_route(ApiId=api_id, RouteId=route["RouteId"], RouteKey="GET /new/{n}")["RouteKey"] == "GET /new/{n}"
    assert httpx.get(api["ApiEndpoint"] + "/old").status_code == 404
    assert httpx.get(api["ApiEndpoint"] + "/new/5").json()["event"]["pathParameters"] == {"n": "5"}

    other = function_arn(aws, alice)
    integration = gw.get_integrations(ApiId=api_id)["Items"][0]
    assert gw.update_integration(ApiId=api_id, IntegrationId=integration["IntegrationId"], IntegrationUri=other,
                                 TimeoutInMillis=5000)["IntegrationUri"] == other
    stage = gw.update_stage(ApiId=api_id, StageName="$default", StageVariables={"color": "blue"})
    assert stage["StageVariables"] == {"color": "blue"}
    event = httpx.get(api["ApiEndpoint"] + "/new/6").json()["event"]
    assert event["stageVariables"] == {"color": "blue"}
    ran = studio(server, alice).get(f"/api/functions/{other.rsplit(':', 1)[1]}/invocations").json()["invocations"]
    assert [i["source"] for i in ran] == ["http_api"]   # the updated integration's function ran it
    assert error_of(lambda: gw.update_route(ApiId=api_id, RouteId=route["RouteId"], Target="integrations/nope"))[
        :2] == ("BadRequestException", 400)
