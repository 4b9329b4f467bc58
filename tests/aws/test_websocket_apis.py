"""API Gateway WebSocket APIs against a running server: apigatewayv2's operations through boto3
(ProtocolType WEBSOCKET, routes, route responses, integrations, stages), a `websockets` client
through the API (connect accepted or refused by $connect, routing by the body's action, $default,
two-way replies, API Gateway's error frames, the 128 KB limit, $disconnect), and the @connections
management API: PostToConnection from a function's boto3 (with and without endpoint_url) to
another client, GetConnection, DeleteConnection, GoneException, another person refused."""

from __future__ import annotations

import json
import time
import uuid
from socket import create_connection

import boto3
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.aws.lambda_kit import TRUST_LAMBDA, unique, zipped
from tests.aws.test_lambda_functions import error_of
from tests.live_server import manage

CHATTER = '''import json
import os

import boto3


def _client(ctx, via):
    if via == "domain":   # as AWS's samples build it (plain HTTP here)
        return boto3.client("apigatewaymanagementapi", endpoint_url=f"http://{ctx['domainName']}/{ctx['stage']}")
    return boto3.client("apigatewaymanagementapi")


def handler(event, context):
    ctx = event["requestContext"]
    route = ctx["routeKey"]
    if route == "$connect":
        query = event.get("queryStringParameters") or {}
        ok = (ctx["eventType"] == "CONNECT" and query.get("token") == "ok" and event["headers"].get("x-team") == "blue"
              and ctx["connectionId"] and ctx["identity"]["sourceIp"] == "127.0.0.1" and ctx["stage"] == "dev")
        return {"statusCode": 200 if ok else 403}
    if route == "$disconnect":
        if os.environ.get("WATCHER"):
            _client(ctx, "").post_to_connection(ConnectionId=os.environ["WATCHER"], Data=json.dumps(
                {"left": ctx["connectionId"], "eventType": ctx["eventType"], "code": ctx["disconnectStatusCode"]}))
        return {"statusCode": 200}
    if route == "whoami":
        return {"statusCode": 200, "body": json.dumps({"context": ctx, "body": event["body"],
                                                        "isBase64Encoded": event["isBase64Encoded"]})}
    if route == "tell":
        body = json.loads(event["body"])
        client = _client(ctx, body.get("via"))
        try:
            client.post_to_connection(ConnectionId=body["to"], Data=body["text"].encode())
            return {"statusCode": 200, "body": "sent"}
        except Exception as error:
            return {"statusCode": 200, "body": "refused " + error.response["Error"]["Code"]}
    if route == "fail":
        raise ValueError("asked to fail")
    if route == "quiet":
        return {"statusCode": 200, "body": "never sent: the route is one-way"}
    return {"statusCode": 200, "body": "default:" + event["body"]}
'''

MANAGE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": "arn:aws:execute-api:*:*:*"}]})


def _function(aws, person, *, allowed: bool) -> str:
    iam = aws(person, "iam")
    role = iam.create_role(RoleName=unique("ws-role"), AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]
    if allowed:
        iam.put_role_policy(RoleName=role["RoleName"], PolicyName="manage", PolicyDocument=MANAGE)
    return aws(person, "lambda").create_function(
        FunctionName=unique("chatter"), Runtime="python3.12", Handler="app.handler", Role=role["Arn"],
        Code={"ZipFile": zipped({"app.py": CHATTER})}, Timeout=30)["FunctionArn"]


def _api(aws, person, arn: str, keys: list[str], two_way: list[str], name: str = "chat") -> dict:
    gw = aws(person, "apigatewayv2")
    api = gw.create_api(Name=name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    integration = gw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn)
    for key in keys:
        extra = {"RouteResponseSelectionExpression": "$default"} if key in two_way else {}
        route = gw.create_route(ApiId=api["ApiId"], RouteKey=key, Target=f"integrations/{integration['IntegrationId']}",
                                **extra)
        if key in two_way:
            gw.create_route_response(ApiId=api["ApiId"], RouteId=route["RouteId"], RouteResponseKey="$default")
    gw.create_stage(ApiId=api["ApiId"], StageName="dev", AutoDeploy=True)
    return api


@pytest.fixture(scope="module")
def chat(aws, alice):
    arn = _function(aws, alice, allowed=True)
    api = _api(aws, alice, arn, ["$connect", "$disconnect", "$default", "whoami", "tell", "fail", "quiet"],
               ["$default", "whoami", "tell", "fail"])
    return {"arn": arn, "api": api, "url": f"{api['ApiEndpoint']}/dev"}


def _join(url: str, **headers):
    return connect(url + "?token=ok", additional_headers={"x-team": "blue", **headers}, open_timeout=60)


def _ask(socket, body: dict) -> str:
    socket.send(json.dumps(body))
    return socket.recv(timeout=60)


def _whoami(socket) -> dict:
    return json.loads(_ask(socket, {"action": "whoami"}))["context"]


def test_websocket_apis_are_made_read_and_deleted_with_apigatewayv2(aws, alice):
    gw = aws(alice, "apigatewayv2")
    api = gw.create_api(Name="sockets", ProtocolType="WEBSOCKET")
    assert api["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert api["ProtocolType"] == "WEBSOCKET" and api["RouteSelectionExpression"] == "$request.body.action"
    assert api["ApiEndpoint"].startswith("ws://") and api["ApiEndpoint"].endswith(f"/ws-api/{api['ApiId']}")
    arn = aws(alice, "lambda").create_function(
        FunctionName=unique(), Runtime="python3.12", Handler="app.handler", Role=_role(aws, alice),
        Code={"ZipFile": zipped({"app.py": CHATTER})})["FunctionArn"]
    integration = gw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn)
    assert integration["PayloadFormatVersion"] == "1.0"
    target = f"integrations/{integration['IntegrationId']}"
    made = {key: gw.create_route(ApiId=api["ApiId"], RouteKey=key, Target=target)
            for key in ("$connect", "$disconnect", "$default", "sendmessage")}
    assert sorted(r["RouteKey"] for r in gw.get_routes(ApiId=api["ApiId"])["Items"]) == [
        "$connect", "$default", "$disconnect", "sendmessage"]
    response = gw.create_route_response(ApiId=api["ApiId"], RouteId=made["sendmessage"]["RouteId"],
                                        RouteResponseKey="$default")
    assert response["RouteResponseKey"] == "$default"
    listed = gw.get_route_responses(ApiId=api["ApiId"], RouteId=made["sendmessage"]["RouteId"])["Items"]
    assert [r["RouteResponseId"] for r in listed] == [response["RouteResponseId"]]
    assert gw.get_route_responses(ApiId=api["ApiId"], RouteId=made["$connect"]["RouteId"])["Items"] == []
    gw.delete_route_response(ApiId=api["ApiId"], RouteId=made["sendmessage"]["RouteId"],
                             RouteResponseId=response["RouteResponseId"])
    assert gw.get_route_responses(ApiId=api["ApiId"], RouteId=made["sendmessage"]["RouteId"])["Items"] == []
    stage = gw.create_stage(ApiId=api["ApiId"], StageName="production", AutoDeploy=True)
    assert stage["AutoDeploy"] is True
    assert gw.get_api(ApiId=api["ApiId"])["ProtocolType"] == "WEBSOCKET"
    gw.delete_api(ApiId=api["ApiId"])
    assert error_of(lambda: gw.get_api(ApiId=api["ApiId"]))[:2] == ("NotFoundException", 404)


def _role(aws, person) -> str:
    return aws(person, "iam").create_role(RoleName=unique("ws-role"), AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]["Arn"]


def test_what_websocket_apis_do_not_take_is_refused_as_api_gateway_refuses_it(aws, alice, chat):
    gw = aws(alice, "apigatewayv2")
    assert error_of(lambda: gw.create_api(Name="x", ProtocolType="WEBSOCKET", Target=chat["arn"]))[:2] == (
        "BadRequestException", 400)
    code, status, message = error_of(lambda: gw.create_api(Name="x", ProtocolType="WEBSOCKET",
                                                           RouteSelectionExpression="$request.header.x"))
    assert (code, status) == ("BadRequestException", 400) and "RouteSelectionExpression" in message
    api_id = chat["api"]["ApiId"]
    assert error_of(lambda: gw.create_route(ApiId=api_id, RouteKey="$weird"))[:2] == ("BadRequestException", 400)
    assert error_of(lambda: gw.create_route(ApiId=api_id, RouteKey="whoami"))[:2] == ("ConflictException", 409)
    code, _, message = error_of(lambda: gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY",
                                                              IntegrationUri=chat["arn"], PayloadFormatVersion="2.0"))
    assert code == "BadRequestException" and "1.0" in message


def test_connect_is_accepted_or_refused_by_the_connect_function(chat):
    with pytest.raises(InvalidStatus) as refused:
        connect(chat["url"] + "?token=bad", additional_headers={"x-team": "blue"}, open_timeout=60)
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        connect(chat["url"].replace("/dev", "/nostage") + "?token=ok", additional_headers={"x-team": "blue"},
                open_timeout=60)
    with _join(chat["url"]) as socket:
        context = _whoami(socket)
        assert context["eventType"] == "MESSAGE" and context["routeKey"] == "whoami"
        assert context["apiId"] == chat["api"]["ApiId"] and context["stage"] == "dev"
        assert context["connectionId"] and context["messageId"] and context["requestId"]
        assert context["identity"]["sourceIp"] == "127.0.0.1" and context["connectedAt"] <= context["requestTimeEpoch"]
        assert context["domainName"].startswith("127.0.0.1:")
    # The host form: <api-id>.execute-api.<host>/<stage> (connected to 127.0.0.1, named as a client resolving it would).
    port = int(chat["url"].split(":")[2].split("/")[0])
    host_form = f"ws://{chat['api']['ApiId']}.execute-api.localhost:{port}/dev?token=ok"
    with connect(host_form, sock=create_connection(("127.0.0.1", port)), additional_headers={"x-team": "blue"},
                 open_timeout=60) as by_host:
        assert _whoami(by_host)["domainName"] == f"{chat['api']['ApiId']}.execute-api.localhost:{port}"


def test_messages_are_routed_by_their_action_with_default_for_the_rest(chat):
    with _join(chat["url"]) as socket:
        echoed = json.loads(_ask(socket, {"action": "whoami", "n": 1}))
        assert json.loads(echoed["body"]) == {"action": "whoami", "n": 1} and echoed["isBase64Encoded"] is False
        assert _ask(socket, {"action": "unknown", "n": 2}) == 'default:{"action": "unknown", "n": 2}'
        socket.send("not json at all")
        assert socket.recv(timeout=60) == "default:not json at all"
        # A one-way route sends nothing back: the next answer is the next message's.
        socket.send(json.dumps({"action": "quiet"}))
        assert _ask(socket, {"action": "nothing"}).startswith("default:")
        failed = json.loads(_ask(socket, {"action": "fail"}))
        assert failed["message"] == "Internal server error" and failed["connectionId"] and failed["requestId"]


def test_a_message_no_route_takes_gets_api_gateways_forbidden_frame(aws, alice, chat):
    api = _api(aws, alice, chat["arn"], ["whoami"], ["whoami"], name="narrow")
    with connect(f"{api['ApiEndpoint']}/dev", open_timeout=60) as socket:
        answer = json.loads(_ask(socket, {"action": "elsewhere"}))
        assert answer["message"] == "Forbidden" and answer["connectionId"] and answer["requestId"]
        assert json.loads(_ask(socket, {"action": "whoami"}))["context"]["routeKey"] == "whoami"


def test_a_message_over_128_kb_closes_the_connection_with_1009(chat):
    with _join(chat["url"]) as socket:
        socket.send(json.dumps({"action": "whoami", "pad": "x" * (60 * 1024)}))   # under the limit: answered
        assert socket.recv(timeout=60)
        socket.send(json.dumps({"action": "whoami", "pad": "x" * (128 * 1024)}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=60)
        assert closed.value.rcvd.code == 1009


def test_a_function_posts_to_another_client_and_disconnect_calls_its_function(aws, alice, chat):
    lam = aws(alice, "lambda")
    with _join(chat["url"]) as watcher, _join(chat["url"]) as talker:
        watcher_id = _whoami(watcher)["connectionId"]
        talker_id = _whoami(talker)["connectionId"]
        # Without endpoint_url: the function's AWS_ENDPOINT_URL.
        assert _ask(talker, {"action": "tell", "to": watcher_id, "text": "hello watcher"}) == "sent"
        assert watcher.recv(timeout=60) == "hello watcher"
        assert _ask(talker, {"action": "tell", "to": "Nobody000000", "text": "x"}) == "refused GoneException"

        lam.update_function_configuration(FunctionName=chat["arn"], Environment={"Variables": {"WATCHER": watcher_id}})
        _wait_updated(lam, chat["arn"])
        talker.close()
        left = json.loads(watcher.recv(timeout=60))
        assert left == {"left": talker_id, "eventType": "DISCONNECT", "code": 1000}
        assert _ask(watcher, {"action": "tell", "to": talker_id, "text": "x"}) == "refused GoneException"
        # The server closing a connection (DeleteConnection) calls $disconnect as well.
        with _join(chat["url"]) as dropped:
            dropped_id = _whoami(dropped)["connectionId"]
            aws(alice, "apigatewaymanagementapi").delete_connection(ConnectionId=dropped_id)
            assert json.loads(watcher.recv(timeout=60))["left"] == dropped_id
    lam.update_function_configuration(FunctionName=chat["arn"], Environment={"Variables": {}})
    _wait_updated(lam, chat["arn"])


def _wait_updated(lam, arn) -> None:
    deadline = time.monotonic() + 60
    while lam.get_function_configuration(FunctionName=arn).get("LastUpdateStatus") not in (None, "Successful"):
        assert time.monotonic() < deadline, "the function's configuration did not update"


def test_the_management_api_reads_posts_to_and_closes_a_connection(server, aws, alice, bob, chat):
    manager = aws(alice, "apigatewaymanagementapi")
    with _join(chat["url"], **{"user-agent": "ws-test/1"}) as socket:
        connection_id = _whoami(socket)["connectionId"]
        found = manager.get_connection(ConnectionId=connection_id)
        assert found["Identity"]["SourceIp"] == "127.0.0.1" and found["Identity"]["UserAgent"] == "ws-test/1"
        assert found["ConnectedAt"] <= found["LastActiveAt"]
        manager.post_to_connection(ConnectionId=connection_id, Data=b"from the test")
        assert socket.recv(timeout=60) == "from the test"
        # With a stage before @connections, as a client whose endpoint is https://{domainName}/{stage} sends it.
        staged = boto3.session.Session(aws_access_key_id=alice["key"], aws_secret_access_key=alice["secret"],
                                       region_name="us-east-1").client("apigatewaymanagementapi",
                                                                       endpoint_url=f"{server['base']}/dev")
        staged.post_to_connection(ConnectionId=connection_id, Data=b"staged")
        assert socket.recv(timeout=60) == "staged"
        # Another person's connection is gone to them.
        other = aws(bob, "apigatewaymanagementapi")
        assert error_of(lambda: other.post_to_connection(ConnectionId=connection_id, Data=b"x"))[:2] == (
            "GoneException", 410)
        assert error_of(lambda: other.get_connection(ConnectionId=connection_id))[:2] == ("GoneException", 410)
        assert error_of(lambda: manager.post_to_connection(ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1))
                        )[:2] == ("PayloadTooLargeException", 413)
        manager.delete_connection(ConnectionId=connection_id)
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=60)
    deadline = time.monotonic() + 30
    while True:
        try:
            manager.get_connection(ConnectionId=connection_id)
        except manager.exceptions.GoneException:
            break
        assert time.monotonic() < deadline, "the closed connection is still listed"
    assert error_of(lambda: manager.post_to_connection(ConnectionId=connection_id, Data=b"x"))[:2] == (
        "GoneException", 410)
    assert error_of(lambda: manager.delete_connection(ConnectionId=f"gone{uuid.uuid4().hex[:8]}"))[:2] == (
        "GoneException", 410)


def test_a_function_whose_role_may_not_manage_connections_is_forbidden(aws, alice, chat):
    arn = _function(aws, alice, allowed=False)
    api = _api(aws, alice, arn, ["tell", "whoami"], ["tell", "whoami"], name="unmanaged")
    with connect(f"{api['ApiEndpoint']}/dev", open_timeout=60) as socket, _join(chat["url"]) as other:
        other_id = _whoami(other)["connectionId"]
        assert _ask(socket, {"action": "tell", "to": other_id, "text": "x"}) == "refused ForbiddenException"


def test_a_function_with_network_reaches_connections_at_its_domain_name_and_stage(server, aws, alice):
    arn = _function(aws, alice, allowed=True)
    name = arn.rsplit(":", 1)[1]
    # The network switch is the studio's (Lambda's API has none): on before the function first runs.
    manage(server["env"], code=f"from editor.models import Function, FunctionVersion; "
                               f"Function.objects.filter(name={name!r}).update(network=True); "
                               f"FunctionVersion.objects.filter(function__name={name!r}).update(network=True)")
    api = _api(aws, alice, arn, ["tell", "whoami"], ["tell", "whoami"], name="networked")
    with connect(f"{api['ApiEndpoint']}/dev", open_timeout=60) as talker, \
            connect(f"{api['ApiEndpoint']}/dev", open_timeout=60) as listener:
        listener_id = _whoami(listener)["connectionId"]
        assert _ask(talker, {"action": "tell", "to": listener_id, "text": "via domain", "via": "domain"}) == "sent"
        assert listener.recv(timeout=60) == "via domain"


def test_the_selection_expression_changes_and_a_deleted_api_ends_its_connections(aws, alice, chat):
    gw = aws(alice, "apigatewayv2")
    api = _api(aws, alice, chat["arn"], ["whoami"], ["whoami"], name="changing")
    with connect(f"{api['ApiEndpoint']}/dev", open_timeout=60) as socket:
        assert json.loads(_ask(socket, {"action": "whoami"}))["context"]["routeKey"] == "whoami"
        changed = gw.update_api(ApiId=api["ApiId"], RouteSelectionExpression="$request.body.message.kind")
        assert changed["RouteSelectionExpression"] == "$request.body.message.kind"
        assert json.loads(_ask(socket, {"message": {"kind": "whoami"}}))["context"]["routeKey"] == "whoami"
        assert json.loads(_ask(socket, {"action": "whoami"}))["message"] == "Forbidden"   # no $default
        assert error_of(lambda: gw.update_api(ApiId=api["ApiId"], RouteSelectionExpression="$request.path")
                        )[:2] == ("BadRequestException", 400)
        gw.delete_api(ApiId=api["ApiId"])
        socket.send(json.dumps({"action": "whoami"}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=60)
        assert closed.value.rcvd.code == 1000

