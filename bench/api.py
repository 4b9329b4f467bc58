"""The AWS API's overhead: `python -m bench.api [--round-trips N]`.

Prints, in one run against one server, how many StartExecution + DescribeExecution round trips a
second one client makes through boto3 (signed with SigV4, checked by botocore's signer, parsed and
written from the service model), beside the same two calls through the studio's own JSON API
(POST /api/state-machines/<name>/executions, GET /api/executions/<id>, a signed-in session):

    path                                 round trips   seconds   round trips/s   ms each
    boto3: StartExecution + DescribeExecution    300     15.39            19.5     51.30
    studio JSON: POST start + GET execution      300     17.54            17.1     58.46

The server is the default install, as `tests.live_server` runs it (daphne, a fresh SQLite data
folder, the in-memory channel layer, the thread executor); the machine is one Pass state, so the
executions themselves cost little beside the calls. The paths alternate in batches of 50, so
that both see the same warm server and the same load from the executions they started; one
untimed batch of each warms the server first. Client and server share the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

BATCH = 50
PASS = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}


def _clients(server: dict):
    import boto3
    import httpx
    from botocore.config import Config

    from tests.live_server import new_person

    person = new_person(server["env"], f"bench-{uuid.uuid4().hex[:6]}")
    sfn = boto3.session.Session(aws_access_key_id=person["key"], aws_secret_access_key=person["secret"],
                                region_name="us-east-1").client(
        "stepfunctions", endpoint_url=server["base"], config=Config(retries={"max_attempts": 1}))
    studio = httpx.Client(base_url=server["base"], follow_redirects=True, timeout=60)
    studio.get(person["link"]).raise_for_status()
    studio.get("/")
    studio.headers.update({"X-CSRFToken": studio.cookies.get("csrftoken", ""), "Referer": server["base"] + "/"})
    return person, sfn, studio


def _aws_batch(sfn, machine_arn: str, count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        arn = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps({"i": index}))["executionArn"]
        sfn.describe_execution(executionArn=arn)
    return time.perf_counter() - started


def _studio_batch(studio, name: str, count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        made = studio.post(f"/api/state-machines/{name}/executions", json={"input": json.dumps({"i": index})})
        made.raise_for_status()
        studio.get(f"/api/executions/{made.json()['id']}").raise_for_status()
    return time.perf_counter() - started


def run(round_trips: int) -> list[tuple[str, int, float]]:
    """Returns [(path, round trips, seconds)] measured on a fresh server."""
    from tests.live_server import running_server

    with tempfile.TemporaryDirectory(prefix="flowbench-bench-api-") as data, running_server(Path(data)) as server:
        person, sfn, studio = _clients(server)
        name = f"bench-{uuid.uuid4().hex[:6]}"
        machine_arn = sfn.create_state_machine(
            name=name, definition=json.dumps(PASS),
            roleArn=f"arn:aws:iam::{person['account']}:role/flowbench-sample-role")["stateMachineArn"]
        _aws_batch(sfn, machine_arn, BATCH // 5)          # warm-up, untimed
        _studio_batch(studio, name, BATCH // 5)
        totals = {"aws": 0.0, "studio": 0.0}
        done = 0
        while done < round_trips:
            count = min(BATCH, round_trips - done)
            totals["aws"] += _aws_batch(sfn, machine_arn, count)
            totals["studio"] += _studio_batch(studio, name, count)
            done += count
        studio.close()
    return [("boto3: StartExecution + DescribeExecution", round_trips, totals["aws"]),
            ("studio JSON: POST start + GET execution", round_trips, totals["studio"])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=300, help="round trips per path (300)")
    args, _unknown = parser.parse_known_args(argv)
    rows = run(max(1, args.round_trips))
    print(f"{'path':42} {'round trips':>11} {'seconds':>9} {'round trips/s':>15} {'ms each':>9}")
    for path, count, seconds in rows:
        print(f"{path:42} {count:>11} {seconds:>9.2f} {count / seconds:>15.1f} {1000 * seconds / count:>9.2f}")
    aws, studio = rows[0][2], rows[1][2]
    print(f"the AWS API: {1000 * (aws - studio) / rows[0][1]:+.2f} ms a round trip beside the studio's JSON API, "
          f"{studio / aws:.2f}x its rate")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
