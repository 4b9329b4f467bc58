"""A Task waiting for its task token survives the server being killed: its token is stored, its
execution parked (no process holds it), so after SIGKILL (or SIGTERM) and a restart the token is
answered and the execution finishes, with one TaskSubmitted, the answer as TaskSucceeded and no
state entered twice. In the embedded install (the web process is killed) and in the distributed
one (the web process and every worker are killed, then started again)."""

from __future__ import annotations

import json
import signal
import uuid

import pytest

from tests.integration import workload
from tests.integration.cluster import Cluster, wait_until

NOTIFY = "def lambda_handler(event, context):\n    return {'handed': True}\n"
SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


def set_up(client) -> str:
    """Deploys `notify` and publishes a machine whose Task hands it its token and waits."""
    name = f"notify-{uuid.uuid4().hex[:6]}"
    client.ok("POST", "/api/functions", {"name": name, "runtime": "python"}, status=201)
    client.ok("PUT", f"/api/functions/{name}/code", {"files": {"lambda_function.py": NOTIFY}})
    client.ok("POST", f"/api/functions/{name}/deploy")
    return workload.published_machine(client, {"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "Next": "Done",
                "Parameters": {"FunctionName": name, "Payload": {"token.$": "$$.Task.Token"}}},
        "Done": {"Type": "Pass", "End": True}}})


@pytest.fixture(scope="module")
def embedded():
    server = Cluster(embedded=True, lease_seconds=30).start()
    try:
        yield server, set_up(server.client())
    finally:
        server.stop()


@pytest.fixture(scope="module")
def distributed(cluster, admin):
    return cluster, set_up(admin)


def restart(server: Cluster, sig) -> None:
    """Stops every process of the server with `sig`, then starts them again."""
    server.kill_web(sig)
    for index in list(server.worker_processes):
        server.kill_worker(index, sig)
    server.start_web()
    for index in range(server.workers):
        server.start_worker(index)


@pytest.mark.slow
@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_a_task_waiting_for_its_token_is_answered_after_a_restart(request, mode, sig):
    server, machine = request.getfixturevalue(mode)
    client = server.client()
    execution = client.ok("POST", f"/api/state-machines/{machine}/executions", {"input": {"n": 1}}, status=201)["id"]
    # The function was called (TaskSubmitted): the Task waits for its token now.
    wait_until(lambda: any(e["type"] == "TaskSubmitted"
                           for e in client.ok("GET", f"/api/executions/{execution}/events")["events"]),
               60, "the Task to wait on its token")
    token = client.ok("GET", f"/api/executions/{execution}/callbacks")["waiting"][0]["token"]
    if not server.embedded:
        # Parked: no process holds the execution while it waits.
        wait_until(lambda: server.sql("SELECT lease_owner FROM editor_execution WHERE id = %s",
                                      [execution])[0][0] == "", 30, "the execution to park")

    restart(server, SIGNALS[sig])
    client = server.client()
    again = client.ok("GET", f"/api/executions/{execution}/callbacks")["waiting"]
    assert [t["token"] for t in again] == [token]
    client.ok("POST", "/api/task-tokens/success", {"taskToken": token, "output": '{"after": "restart"}'})
    wait_until(lambda: server.execution_status(execution) != "RUNNING", 120, f"the execution to end after {sig}")

    described = client.ok("GET", f"/api/executions/{execution}")
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"after": "restart"}
    events = client.ok("GET", f"/api/executions/{execution}/events")["events"]
    assert workload.history_problems(events) == []
    types = [e["type"] for e in events]
    assert types.count("TaskSubmitted") == 1 and types.count("TaskSucceeded") == 1, types
    assert "TaskFailed" not in types
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    assert entered == ["Ask", "Done"]
    invocations = client.ok("GET", f"/api/executions/{execution}/invocations")["invocations"]
    assert len(invocations) == 1
