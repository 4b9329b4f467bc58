"""WebSocket APIs in the distributed mode: two web processes hold one client each; a function a
Celery worker runs posts with its boto3 (no endpoint_url: the first web process's address) to the
client on the second, through the Redis channel layer; a second web process killed (SIGKILL) and
started again forgets the connections it held, so they are gone."""

from __future__ import annotations

import json
import signal

from botocore.config import Config
from websockets.sync.client import connect

from tests.aws.lambda_kit import TRUST_LAMBDA, unique, zipped
from tests.aws.test_websocket_apis import CHATTER, MANAGE
from tests.integration.cluster import wait_until


def _gone(manager, connection_id) -> bool:
    try:
        manager.get_connection(ConnectionId=connection_id)
    except manager.exceptions.GoneException:
        return True
    return False


def test_a_worker_run_function_posts_to_a_client_of_another_web_process(cluster, admin, admin_session):
    session = admin_session
    config = Config(retries={"max_attempts": 1}, read_timeout=120)
    iam = session.client("iam", endpoint_url=cluster.base_url, config=config)
    role = iam.create_role(RoleName=unique("it-ws-role"), AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="manage", PolicyDocument=MANAGE)
    arn = session.client("lambda", endpoint_url=cluster.base_url, config=config).create_function(
        FunctionName=unique("it-ws"), Runtime="python3.11", Handler="app.handler", Role=role["Arn"],
        Code={"ZipFile": zipped({"app.py": CHATTER})}, Timeout=60)["FunctionArn"]
    gw = session.client("apigatewayv2", endpoint_url=cluster.base_url, config=config)
    api = gw.create_api(Name="it-chat", ProtocolType="WEBSOCKET")
    target = "integrations/" + gw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY",
                                                     IntegrationUri=arn)["IntegrationId"]
    for key in ("whoami", "tell"):
        route = gw.create_route(ApiId=api["ApiId"], RouteKey=key, Target=target)
        gw.create_route_response(ApiId=api["ApiId"], RouteId=route["RouteId"], RouteResponseKey="$default")
    gw.create_stage(ApiId=api["ApiId"], StageName="dev")
    manager = session.client("apigatewaymanagementapi", endpoint_url=cluster.base_url, config=config)

    second, second_base = cluster.spawn_web("web-2")
    try:
        first_url = f"{api['ApiEndpoint']}/dev"
        second_url = f"{second_base.replace('http', 'ws')}/ws-api/{api['ApiId']}/dev"
        with connect(first_url, open_timeout=120) as talker, connect(second_url, open_timeout=120) as listener:
            listener.send(json.dumps({"action": "whoami"}))
            answer = json.loads(listener.recv(timeout=120))
            assert "context" in answer, answer
            listener_id = answer["context"]["connectionId"]
            talker.send(json.dumps({"action": "tell", "to": listener_id, "text": "across processes"}))
            assert talker.recv(timeout=120) == "sent"
            assert listener.recv(timeout=120) == "across processes"
            invocations = admin.ok("GET", f"/api/functions/{arn.rsplit(':', 1)[1]}/invocations")["invocations"]
            assert {i["source"] for i in invocations} == {"websocket_api"}

            cluster._end(second, signal.SIGKILL)
            assert not _gone(manager, listener_id)   # the killed process could not say it was gone
            second, second_base = cluster.spawn_web("web-2-again")
            wait_until(lambda: _gone(manager, listener_id), 60, "the killed process's connection to be forgotten")
            talker.send(json.dumps({"action": "tell", "to": listener_id, "text": "anyone?"}))
            assert talker.recv(timeout=120) == "refused GoneException"
    finally:
        cluster._end(second, signal.SIGTERM)
