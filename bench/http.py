"""HTTP endpoints' overhead: `python -m bench.http [--requests N]`.

Prints, in one run against one server, how many requests a second one client gets answered
through a function URL and through an HTTP API route (plain HTTP, the payload format 2.0 event
built and the response mapped), beside the same function invoked directly with Lambda's Invoke
through boto3 (SigV4 signed and checked):

    path                                       requests   seconds   requests/s   ms each
    function URL: GET /lambda-url/<id>/items/N      ...
    HTTP API: GET /http-api/<id>/items/{id}         ...
    boto3: Invoke (RequestResponse)                 ...

The function is a warm Python handler that answers a small JSON response; the server is the
default install (daphne, a fresh SQLite data folder, the thread executor), as tests.live_server
runs it. The paths alternate in batches of 50 after one untimed batch each, so all three see the
same warm worker; client and server share the machine's cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench.endpoints import invoke_batch, measure, new_function

HANDLER = ("import json\n\n\ndef handler(event, context):\n"
           "    return {'statusCode': 200, 'headers': {'Content-Type': 'application/json'},\n"
           "            'body': json.dumps({'path': event.get('rawPath'), 'ok': True})}\n")


def _setup(server: dict):
    """Returns (function URL, HTTP API endpoint, a boto3 Lambda client, the function's name)."""
    session, config, lam, name, arn = new_function(server, HANDLER)
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    lam.add_permission(FunctionName=name, StatementId="public", Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")
    api = session.client("apigatewayv2", endpoint_url=server["base"], config=config).create_api(
        Name=name, ProtocolType="HTTP", Target=arn, RouteKey="GET /items/{id}")
    return url, api["ApiEndpoint"], lam, name


def _http_batch(client, url: str, count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        client.get(f"{url}items/{index}").raise_for_status()
    return time.perf_counter() - started


def run(requests: int) -> list[tuple[str, int, float]]:
    """Returns [(path, requests, seconds)] measured on a fresh server."""
    import httpx

    from tests.live_server import running_server

    with tempfile.TemporaryDirectory(prefix="flowbench-bench-http-") as data, running_server(Path(data)) as server:
        url, api, lam, name = _setup(server)
        client = httpx.Client(timeout=60)
        totals = measure({"url": lambda n: _http_batch(client, url, n),
                          "api": lambda n: _http_batch(client, api + "/", n),
                          "invoke": lambda n: invoke_batch(lam, name, n, lambda i: {"rawPath": f"/items/{i}"})},
                         requests)
        client.close()
    return [("function URL: GET /lambda-url/<id>/items/N", requests, totals["url"]),
            ("HTTP API: GET /http-api/<id>/items/{id}", requests, totals["api"]),
            ("boto3: Invoke (RequestResponse)", requests, totals["invoke"])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per path (300)")
    args, _unknown = parser.parse_known_args(argv)
    rows = run(max(1, args.requests))
    print(f"{'path':44} {'requests':>8} {'seconds':>9} {'requests/s':>12} {'ms each':>9}")
    for path, count, seconds in rows:
        print(f"{path:44} {count:>8} {seconds:>9.2f} {count / seconds:>12.1f} {1000 * seconds / count:>9.2f}")
    invoke = rows[2][2]
    for path, count, seconds in rows[:2]:
        print(f"{path.split(':')[0]}: {1000 * (seconds - invoke) / count:+.2f} ms a request beside Invoke, "
              f"{invoke / seconds:.2f}x its rate")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
