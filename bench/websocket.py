"""WebSocket API messages through a route: `python -m bench.websocket [--messages N]`.

Prints, in one run against one server, how many messages a second one client gets answered
through a two-way route of a WebSocket API (the route picked from the JSON body, the WebSocket
event built, the function's body sent back as a frame), and how many a second a function's
PostToConnection delivers to another client (boto3 in the test process, SigV4 signed and checked,
through the channel layer), beside the same function invoked directly with Lambda's Invoke:

    path                                 messages   seconds   messages/s   ms each
    WebSocket route: echo (two-way)           ...
    PostToConnection (boto3)                  ...
    boto3: Invoke (RequestResponse)           ...

The function is a warm Python handler; the server is the default install (daphne, a fresh SQLite
data folder), as tests.live_server runs it. The paths alternate in batches of 50 after one untimed
batch each; client and server share the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.endpoints import invoke_batch, measure, new_function

HANDLER = ("import json\n\n\ndef handler(event, context):\n"
           "    if json.loads(event['body']).get('whoami'):\n"
           "        return {'statusCode': 200, 'body': event['requestContext']['connectionId']}\n"
           "    return {'statusCode': 200, 'body': event['body']}\n")


def _setup(server: dict):
    """Returns (the stage's WebSocket address, a boto3 Lambda client, a management client, the function's name)."""
    session, config, lam, name, arn = new_function(server, HANDLER)
    gw = session.client("apigatewayv2", endpoint_url=server["base"], config=config)
    api = gw.create_api(Name=name, ProtocolType="WEBSOCKET")
    integration = gw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn)
    route = gw.create_route(ApiId=api["ApiId"], RouteKey="echo", Target=f"integrations/{integration['IntegrationId']}")
    gw.create_route_response(ApiId=api["ApiId"], RouteId=route["RouteId"], RouteResponseKey="$default")
    gw.create_stage(ApiId=api["ApiId"], StageName="bench")
    manager = session.client("apigatewaymanagementapi", endpoint_url=server["base"], config=config)
    return f"{api['ApiEndpoint']}/bench", lam, manager, name


def _route_batch(socket, count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        socket.send(json.dumps({"action": "echo", "n": index}))
        if json.loads(socket.recv(timeout=60))["n"] != index:
            raise RuntimeError("an answer came out of order")
    return time.perf_counter() - started


def _post_batch(manager, socket, connection_id: str, count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        manager.post_to_connection(ConnectionId=connection_id, Data=str(index).encode())
        if socket.recv(timeout=60) != str(index):
            raise RuntimeError("a posted message came out of order")
    return time.perf_counter() - started


def run(messages: int) -> list[tuple[str, int, float]]:
    """Returns [(path, messages, seconds)] measured on a fresh server."""
    from websockets.sync.client import connect

    from tests.live_server import running_server

    with tempfile.TemporaryDirectory(prefix="flowbench-bench-ws-") as data, running_server(Path(data)) as server:
        url, lam, manager, name = _setup(server)
        with connect(url, open_timeout=60) as talker, connect(url, open_timeout=60) as listener:
            # The listener learns its id from the event its own message carries.
            listener.send(json.dumps({"action": "echo", "whoami": True}))
            connection_id = listener.recv(timeout=60)
            totals = measure({"route": lambda n: _route_batch(talker, n),
                              "post": lambda n: _post_batch(manager, listener, connection_id, n),
                              "invoke": lambda n: invoke_batch(lam, name, n,
                                                               lambda i: {"body": json.dumps({"n": i})})},
                             messages)
    return [("WebSocket route: echo (two-way)", messages, totals["route"]),
            ("PostToConnection (boto3)", messages, totals["post"]),
            ("boto3: Invoke (RequestResponse)", messages, totals["invoke"])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.websocket", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300, help="messages per path (300)")
    args, _unknown = parser.parse_known_args(argv)
    rows = run(max(1, args.messages))
    print(f"{'path':36} {'messages':>8} {'seconds':>9} {'messages/s':>12} {'ms each':>9}")
    for path, count, seconds in rows:
        print(f"{path:36} {count:>8} {seconds:>9.2f} {count / seconds:>12.1f} {1000 * seconds / count:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
