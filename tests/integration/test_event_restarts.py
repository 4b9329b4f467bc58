"""An asynchronous (Event) invocation survives the process running it being stopped mid-run, in
both modes: the embedded install (the web process runs it on a thread; the restarted process
takes it up as it starts) and the distributed one (a Celery worker runs it; another worker's sweep
sends it again once the dead one's lease ran out).

SIGKILL cuts the function off: it runs exactly once more (Lambda's at-least-once delivery) and
the invocation ends succeeded after two attempts, never left RUNNING. SIGTERM gives the function
the stop's grace to answer: its result is kept, it runs once; one that does not answer within the
grace is handed back and runs again (its late answer is not kept). A bucket notification's invocation
is one of these too: its worker killed, it is delivered again.

The function blocks on the test's Gate (tests/integration/blocking.py), so the stop lands while it
really runs."""

from __future__ import annotations

import json
import signal
import sqlite3
import uuid

import boto3
import pytest
from botocore.config import Config

from tests.aws.s3_support import allow_s3
from tests.integration.blocking import BLOCKER, Gate, deploy_blocker
from tests.integration.cluster import Cluster, wait_until
from tests.integration.test_restarts import restart_worker, stop_and_start_web
from tests.integration.workload import function_arn_prefix

SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}
S3_BLOCKER = "it-s3-blocker"
# Blocks as BLOCKER does, on the port the uploaded object's key names ("port/<n>").
S3_BLOCKS = (
    "import socket\n\n"
    "def lambda_handler(event, context):\n"
    "    key = event['Records'][0]['s3']['object']['key']\n"
    "    connection = socket.create_connection(('127.0.0.1', int(key.split('/')[1])))\n"
    "    connection.recv(1)\n"
    "    return {'key': key, 'answered': True}\n"
)


def clients(session: boto3.session.Session, base_url: str) -> dict:
    config = Config(retries={"max_attempts": 1}, read_timeout=120)
    return {name: session.client(name, endpoint_url=base_url, config=config) for name in ("lambda", "s3")}


def key_session(cluster: Cluster) -> boto3.session.Session:
    lines = dict(line.split("=", 1) for line in cluster.manage("create_access_key", "admin").split())
    return boto3.session.Session(aws_access_key_id=lines["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=lines["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")


@pytest.fixture(scope="module")
def embedded():
    """`make run`'s server on a fresh data folder, restarted by the tests, with its one key."""
    server = Cluster(embedded=True, lease_seconds=30).start()
    try:
        deploy_blocker(server.client())
        yield server, clients(key_session(server), server.base_url)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def distributed(cluster, admin, admin_session):
    deploy_blocker(admin)
    return cluster, clients(admin_session, cluster.base_url)


INVOCATIONS = ("SELECT i.id, i.status, i.runner, i.attempts, i.request FROM editor_invocation i "
               "JOIN editor_function f ON f.id = i.function_id WHERE f.name = {}")


def invocation_row(cluster: Cluster, function: str, item: str) -> tuple | None:
    """(id, status, runner, attempts) of the function's invocation whose event holds `item`, read
    from the database itself (no request that could wake the server)."""
    if cluster.embedded:
        path = cluster.data_dir / "flowbench.sqlite3"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20) as db:
            rows = db.execute(INVOCATIONS.format("?"), [function]).fetchall()
        rows = [(str(uuid.UUID(row[0])), *row[1:]) for row in rows]
    else:
        rows = cluster.sql(INVOCATIONS.format("%s"), [function])
    for row in rows:
        request = row[4] if isinstance(row[4], (dict, list)) else json.loads(row[4] or "null")
        if item in json.dumps(request):
            return tuple(str(v) if i == 0 else v for i, v in enumerate(row[:4]))
    return None


def runner_of(cluster: Cluster, function: str, item: str) -> str:
    return wait_until(lambda: (invocation_row(cluster, function, item) or (None, None, ""))[2], 30,
                      "the invocation's runner")


def ended(cluster: Cluster, function: str, item: str, what: str) -> tuple:
    return wait_until(lambda: (lambda row: row if row and row[1] != "running" else None)(
        invocation_row(cluster, function, item)), 180, what)


def stop_runner(cluster: Cluster, mode: str, sig, gate: Gate, runner: str) -> None:
    """Stops the process the runner names (the web process embedded, its worker distributed),
    then starts it again; on SIGTERM the function is let answer within the stop's grace."""
    pid = int(runner.split(":")[1])
    if mode == "embedded":
        assert cluster.web.pid == pid
        stop_and_start_web(cluster, sig, gate)
    else:
        restart_worker(cluster, sig, gate, pid)


@pytest.mark.slow
@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_an_event_invocation_survives_its_process_being_stopped(request, mode, sig):
    cluster, aws = request.getfixturevalue(mode)
    gate = Gate()
    item = uuid.uuid4().hex
    try:
        answer = aws["lambda"].invoke(FunctionName=BLOCKER, InvocationType="Event",
                                      Payload=json.dumps({"port": gate.port, "item": item}).encode())
        assert answer["StatusCode"] == 202
        gate.wait_for(1)   # the function runs
        stop_runner(cluster, mode, SIGNALS[sig], gate, runner_of(cluster, BLOCKER, item))
        if sig == "SIGKILL":
            # Taken up again without any request: the function is called anew.
            gate.wait_for(2, timeout=120)
            gate.open()
        # Read from the database: the restarted process (or the other worker) finishes it.
        _, status, runner, attempts = ended(cluster, BLOCKER, item, f"the Event invocation to end after {sig}")
        calls = gate.calls
    finally:
        gate.close()
    assert (status, runner) == ("succeeded", "")
    if sig == "SIGKILL":
        assert (attempts, calls) == (2, 2), "cut off, it ran exactly once more"
    else:
        assert (attempts, calls) == (1, 1), "it answered within the grace: it ran once"


@pytest.mark.slow
def test_a_bucket_notifications_invocation_moves_to_another_worker_when_its_worker_is_killed(distributed, admin):
    cluster, aws = distributed
    created = admin.post("/api/functions", {"name": S3_BLOCKER, "runtime": "python"})
    assert created.status_code in (201, 409), created.text
    admin.ok("PUT", f"/api/functions/{S3_BLOCKER}/code", {"files": {"lambda_function.py": S3_BLOCKS}})
    admin.ok("PUT", f"/api/functions/{S3_BLOCKER}/configuration", {"timeout": 60, "network": True})
    admin.ok("POST", f"/api/functions/{S3_BLOCKER}/deploy")
    bucket = f"it-events-{uuid.uuid4().hex[:8]}"
    s3 = aws["s3"]
    s3.create_bucket(Bucket=bucket)
    allow_s3(aws["lambda"], function_arn_prefix(admin) + S3_BLOCKER, bucket, statement_id=f"s3-{bucket}")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [
        {"Id": "all", "LambdaFunctionArn": function_arn_prefix(admin) + S3_BLOCKER, "Events": ["s3:ObjectCreated:*"]}]})
    gate = Gate()
    key = f"port/{gate.port}/{uuid.uuid4().hex}"
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
        gate.wait_for(1)
        stop_runner(cluster, "distributed", signal.SIGKILL, gate, runner_of(cluster, S3_BLOCKER, key))
        gate.wait_for(2, timeout=120)
        gate.open()
        invocation_id, status, runner, attempts = ended(cluster, S3_BLOCKER, key, "the notification's invocation")
        calls = gate.calls
    finally:
        gate.close()
    assert (status, runner, attempts, calls) == ("succeeded", "", 2, 2)
    detail = admin.ok("GET", f"/api/functions/{S3_BLOCKER}/invocations/{invocation_id}")
    assert (detail["source"], detail["response"], detail["delivery"]["state"]) == \
        ("bucket", {"key": key, "answered": True}, "succeeded")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_an_event_invocation_still_running_after_the_stops_grace_is_handed_back_and_runs_again(request, mode):
    cluster, aws = request.getfixturevalue(mode)
    gate = Gate()
    item = uuid.uuid4().hex
    try:
        aws["lambda"].invoke(FunctionName=BLOCKER, InvocationType="Event",
                             Payload=json.dumps({"port": gate.port, "item": item}).encode())
        gate.wait_for(1)
        runner = runner_of(cluster, BLOCKER, item)
        pid = int(runner.split(":")[1])
        process = cluster.web if mode == "embedded" else next(
            p for p in cluster.worker_processes.values() if p.pid == pid)
        process.send_signal(signal.SIGTERM)
        # The function does not answer within the grace: the stopping process hands the
        # invocation back (in a cluster another worker may take it up at once).
        wait_until(lambda: invocation_row(cluster, BLOCKER, item)[2] != runner, 60, "the invocation handed back")
        gate.open()   # the cut-off call answers now: too late, its result is not kept
        process.wait(timeout=90)
        if mode == "embedded":
            cluster.web = None
            cluster.start_web()
        else:
            index = next(i for i, p in cluster.worker_processes.items() if p is process)
            cluster.worker_processes.pop(index)
            cluster.start_worker(index)
        _, status, runner, attempts = ended(cluster, BLOCKER, item, "the handed-back invocation to end")
        calls = gate.calls
    finally:
        gate.close()
    assert (status, runner, attempts, calls) == ("succeeded", "", 2, 2)
