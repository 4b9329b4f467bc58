"""The execution socket against the real server (daphne): what only its transport decides."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from websockets.sync.client import connect
from websockets.exceptions import ConnectionClosed

PASS_MACHINE = {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}


@pytest.fixture(scope="module")
def signed_in_client(server):
    """An HTTP client signed in as the administrator (a fresh one-time link) with its CSRF token."""
    from tests.e2e.conftest import new_signin_link

    client = httpx.Client(base_url=server["base"], follow_redirects=True, timeout=30)
    client.get(new_signin_link(server["env"]))
    client.get("/")
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    yield client
    client.close()


@pytest.fixture(scope="module")
def execution_id(signed_in_client):
    """Returns the id of an execution of a one-Pass state machine of the administrator's."""
    name = f"socket-limits-{uuid.uuid4().hex[:8]}"
    created = signed_in_client.post("/api/state-machines", json={
        "name": name, "type": "STANDARD", "role": "flowbench-sample-role", "definition": json.dumps(PASS_MACHINE)})
    assert created.status_code == 201, created.text
    assert signed_in_client.post(f"/api/state-machines/{name}/versions").status_code == 201
    started = signed_in_client.post(f"/api/state-machines/{name}/executions", json={"input": "{}"})
    assert started.status_code == 201, started.text
    return started.json()["id"]


def socket_to(server, client, execution_id):
    url = server["base"].replace("http://", "ws://") + f"/ws/executions/{execution_id}/"
    return connect(url, origin=server["base"], max_size=None,
                   additional_headers={"Cookie": f"sessionid={client.cookies['sessionid']}"})


def test_a_frame_over_the_limit_closes_with_1009_and_a_close_frame(server, signed_in_client, execution_id):
    with socket_to(server, signed_in_client, execution_id) as socket:
        socket.send(json.dumps({"type": "subscribe", "after": 0}))
        assert json.loads(socket.recv(timeout=30))["type"] == "events"
        assert json.loads(socket.recv(timeout=30))["type"] == "execution"
        socket.send("x" * (2 * 1024 * 1024))
        with pytest.raises(ConnectionClosed) as closed:
            while True:   # live events of the execution may come first
                socket.recv(timeout=30)
        # The server's close frame arrived (not a dropped connection) with "message too big".
        assert closed.value.rcvd is not None, closed.value
        assert closed.value.rcvd.code == 1009


def test_a_message_under_the_frame_limit_but_over_ours_gets_an_error_and_the_socket_stays(
        server, signed_in_client, execution_id):
    with socket_to(server, signed_in_client, execution_id) as socket:
        socket.send(json.dumps({"type": "subscribe", "after": 0, "padding": "x" * 500_000}))
        reply = json.loads(socket.recv(timeout=30))
        assert (reply["type"], reply["error"]["code"]) == ("error", "MessageTooLarge")
        socket.send(json.dumps({"type": "subscribe", "after": 0}))
        assert json.loads(socket.recv(timeout=30))["type"] == "events"
