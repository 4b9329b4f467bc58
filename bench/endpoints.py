"""What the endpoint benchmarks (bench.http, bench.websocket) share: a person with access keys
on a live server, a warm Python function made through Lambda's API, paths measured in alternating
batches so that each sees the same warm worker, and Invoke's own figure beside them."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from typing import Callable

BATCH = 50


def handler_zip(source: str) -> bytes:
    """Returns a zip with `source` as app.py."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def new_function(server: dict, source: str):
    """Makes a new person and a Python function (handler app.handler) of theirs; returns
    (boto3 session, client config, Lambda client, function name, function ARN)."""
    import boto3
    from botocore.config import Config

    from tests.live_server import new_person

    person = new_person(server["env"], f"bench-{uuid.uuid4().hex[:6]}")
    session = boto3.session.Session(aws_access_key_id=person["key"], aws_secret_access_key=person["secret"],
                                    region_name="us-east-1")
    config = Config(retries={"max_attempts": 1})
    lam = session.client("lambda", endpoint_url=server["base"], config=config)
    name = f"bench-{uuid.uuid4().hex[:6]}"
    arn = lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                              Code={"ZipFile": handler_zip(source)},
                              Role=f"arn:aws:iam::{person['account']}:role/flowbench-sample-role")["FunctionArn"]
    return session, config, lam, name, arn


def invoke_batch(lam, name: str, count: int, event: Callable[[int], dict]) -> float:
    """Invokes the function `count` times (RequestResponse) with event(index); returns the seconds."""
    started = time.perf_counter()
    for index in range(count):
        answer = lam.invoke(FunctionName=name, Payload=json.dumps(event(index)).encode())
        answer["Payload"].read()
        if answer.get("FunctionError"):
            raise RuntimeError("the function failed")
    return time.perf_counter() - started


def measure(paths: dict[str, Callable[[int], float]], total: int) -> dict[str, float]:
    """Runs each path `total` times in alternating batches after an untimed warm-up batch each
    (the worker starts there); returns the seconds each took."""
    for run in paths.values():
        run(BATCH // 5)
    totals = dict.fromkeys(paths, 0.0)
    done = 0
    while done < total:
        count = min(BATCH, total - done)
        for key, run in paths.items():
            totals[key] += run(count)
        done += count
    return totals
