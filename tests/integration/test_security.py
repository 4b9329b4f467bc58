"""Two users on the cluster: neither reaches the other's executions or functions (API, WebSocket,
a state machine's Task through the Celery workers), and function code reaches neither the
cluster's PostgreSQL and Redis nor their settings."""

from __future__ import annotations

import json

import pytest

from tests.integration import workload
from tests.integration.cluster import WebSocketClosed, assert_api_error

OTHER = "bob"


@pytest.fixture(scope="module")
def bob(cluster):
    return cluster.client(OTHER)


@pytest.fixture(scope="module")
def admins_execution(cluster, admin) -> dict:
    """A finished execution of the administrator's seed machine."""
    return workload.run_to_end(cluster, admin, workload.SEED_MACHINE, {"TraningType": "수비수"})


def test_another_users_execution_is_not_found_through_the_api(admins_execution, admin, bob):
    execution = admins_execution["id"]
    assert admin.get(f"/api/executions/{execution}").status_code == 200
    for method, path in [("GET", f"/api/executions/{execution}"), ("GET", f"/api/executions/{execution}/events"),
                         ("GET", f"/api/executions/{execution}/invocations"),
                         ("POST", f"/api/executions/{execution}/stop"),
                         ("POST", f"/api/executions/{execution}/redrive"),
                         ("GET", f"/api/state-machines/{workload.SEED_MACHINE}"),
                         ("GET", f"/api/state-machines/{workload.SEED_MACHINE}/executions"),
                         ("POST", f"/api/state-machines/{workload.SEED_MACHINE}/executions")]:
        response = bob.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 404, f"{method} {path} as {OTHER}: HTTP {response.status_code} {response.text}"
        assert_api_error(response, 404, "ResourceNotFound")
    assert bob.ok("GET", "/api/state-machines")["state_machines"] == []


def test_another_users_function_is_not_found_through_the_api(admin, bob):
    name = "attack-training"   # a sample of the administrator's
    assert admin.get(f"/api/functions/{name}").status_code == 200
    for method, path, body in [("GET", f"/api/functions/{name}", None),
                               ("GET", f"/api/functions/{name}/versions", None),
                               ("GET", f"/api/functions/{name}/invocations", None),
                               ("POST", f"/api/functions/{name}/invocations", {"TraningType": "공격수"}),
                               ("POST", f"/api/functions/{name}/test", {"event": {}}),
                               ("PUT", f"/api/functions/{name}/code", {"files": {"training.py": "x = 1\n"}}),
                               ("POST", f"/api/functions/{name}/deploy", None),
                               ("GET", f"/api/functions/{name}/metrics", None),
                               ("DELETE", f"/api/functions/{name}", None)]:
        response = bob.request(method, path, json=body)
        assert_api_error(response, 404, "ResourceNotFound")
    assert bob.ok("GET", "/api/functions")["functions"] == []
    assert admin.ok("GET", f"/api/functions/{name}")["name"] == name


def test_another_users_execution_is_refused_on_the_websocket(admins_execution, admin, bob):
    path = f"/ws/executions/{admins_execution['id']}/"
    with admin.websocket(path) as mine:
        mine.send_json({"type": "subscribe", "after": 0})
        assert mine.receive_json()["type"] == "events"
    # Accepted, then closed at once with 4404 (as an unknown id: the code does not tell whether
    # the execution exists): the page reads the code and stops reconnecting.
    with pytest.raises(WebSocketClosed) as refused:
        with bob.websocket(path) as theirs:
            theirs.send_json({"type": "subscribe", "after": 0})
            pytest.fail(f"{OTHER}'s socket was answered {theirs.receive_json()}")
    assert refused.value.code == 4404, refused.value


def test_a_machine_of_another_user_cannot_invoke_your_function(cluster, admin, bob):
    function = "attack-training"
    arn = workload.function_arn_prefix(admin) + function
    bob.ok("POST", "/api/roles", {"name": "bob-role", "trusted": ["states"]}, status=201)
    bob.ok("POST", "/api/state-machines", {"name": "borrow", "type": "STANDARD", "role": "bob-role",
                                           "definition": json.dumps({"StartAt": "Borrow", "States": {
                                               "Borrow": {"Type": "Task", "Resource": arn, "End": True}}})},
           status=201)
    bob.ok("POST", "/api/state-machines/borrow/versions", status=201)
    before = admin.ok("GET", f"/api/functions/{function}/invocations")["invocations"]
    execution = workload.run_to_end(cluster, bob, "borrow", {"TraningType": "공격수"})
    assert (execution["status"], execution["error"]) == ("FAILED", "Lambda.ResourceNotFoundException"), execution
    assert f"Function not found: {arn}" in execution["cause"], execution["cause"]
    assert cluster.sql("SELECT count(*) FROM editor_invocation WHERE execution_id = %s",
                       [execution["id"]])[0][0] == 0
    assert admin.ok("GET", f"/api/functions/{function}/invocations")["invocations"] == before


PROBE = """\
import os
import socket


def lambda_handler(event, context):
    reached = {}
    for service, port in event["ports"].items():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                reached[service] = "connected"
        except OSError as exc:
            reached[service] = type(exc).__name__
    return {"reached": reached, "env": dict(os.environ)}
"""


@pytest.fixture(scope="module")
def probe(admin) -> str:
    """A function with the default configuration (network off) that tries the cluster's ports and
    returns its environment."""
    name = "it-probe"
    admin.ok("POST", "/api/functions", {"name": name, "runtime": "python"}, status=201)
    admin.ok("PUT", f"/api/functions/{name}/code", {"files": {"lambda_function.py": PROBE}})
    admin.ok("PUT", f"/api/functions/{name}/configuration", {"timeout": 30})
    admin.ok("POST", f"/api/functions/{name}/deploy")
    return name


def assert_contained(cluster, result: dict) -> None:
    assert result["reached"] == {"postgresql": result["reached"]["postgresql"], "redis": result["reached"]["redis"]}
    assert "connected" not in result["reached"].values(), result["reached"]
    env = result["env"]
    assert not {"DATABASE_URL", "REDIS_URL", "FLOWBENCH_SECRET_KEY", "DJANGO_SETTINGS_MODULE"} & set(env), sorted(env)
    leaked = [key for key, value in env.items()
              if cluster.env["FLOWBENCH_SECRET_KEY"] in value or cluster.database in value
              or cluster.env["REDIS_URL"] in value]
    assert leaked == [], f"the function's environment holds the cluster's settings in {leaked}"


def ports(cluster) -> dict:
    return {"postgresql": 5432, "redis": cluster.redis_port}


def test_a_function_run_by_a_worker_reaches_neither_the_database_nor_redis_nor_their_settings(cluster, admin,
                                                                                            probe):
    machine = workload.published_machine(admin, {"StartAt": "Probe", "States": {"Probe": {
        "Type": "Task", "Resource": workload.function_arn_prefix(admin) + probe, "End": True}}})
    execution = workload.run_to_end(cluster, admin, machine, {"ports": ports(cluster)})
    assert execution["status"] == "SUCCEEDED", execution
    assert_contained(cluster, json.loads(execution["output"]))


def test_a_function_invoked_through_the_web_reaches_neither_the_database_nor_redis_nor_their_settings(
        cluster, admin, probe):
    result = admin.ok("POST", f"/api/functions/{probe}/invocations", {"ports": ports(cluster)})
    assert_contained(cluster, result)
