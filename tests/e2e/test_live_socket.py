"""The execution socket against the real server (daphne): what only its transport decides."""

from __future__ import annotations

import json
import uuid
from contextlib import ExitStack

import httpx
import pytest
from websockets.sync.client import connect
from playwright.sync_api import expect
from websockets.exceptions import ConnectionClosed

PASS_MACHINE = {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}
WAIT_MACHINE = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}


@pytest.fixture(scope="module")
def signed_in_client(server):
    """An HTTP client signed in as the administrator (a fresh one-time link) with its CSRF token."""
    from tests.live_server import new_signin_link

    client = httpx.Client(base_url=server["base"], follow_redirects=True, timeout=30)
    client.get(new_signin_link(server["env"]))
    client.get("/")
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    yield client
    client.close()


def start(client, definition: dict) -> str:
    """Creates and publishes an administrator's machine of `definition`, starts it; returns the
    execution's id."""
    name = f"socket-limits-{uuid.uuid4().hex[:8]}"
    created = client.post("/api/state-machines", json={
        "name": name, "type": "STANDARD", "role": "flowbench-sample-role", "definition": json.dumps(definition)})
    assert created.status_code == 201, created.text
    assert client.post(f"/api/state-machines/{name}/versions").status_code == 201
    started = client.post(f"/api/state-machines/{name}/executions", json={"input": "{}"})
    assert started.status_code == 201, started.text
    return started.json()["id"]


@pytest.fixture(scope="module")
def execution_id(signed_in_client):
    """Returns the id of an execution of a one-Pass state machine of the administrator's."""
    return start(signed_in_client, PASS_MACHINE)


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


def test_a_page_past_the_users_socket_cap_says_live_updates_are_paused_then_resumes(
        server, signed_in_client, page, shot):
    """The server's default cap is 10 execution sockets a user: with the administrator's sockets at
    the cap, the page's is refused (4429) and says so; once one closes, its next try connects."""
    execution = start(signed_in_client, WAIT_MACHINE)
    with ExitStack() as stack:
        held = []
        # Up to the cap (sockets of earlier tests may still be on their way out: they count too).
        for _ in range(11):
            socket = stack.enter_context(socket_to(server, signed_in_client, execution))
            try:
                socket.send(json.dumps({"type": "subscribe", "after": 0}))
                assert json.loads(socket.recv(timeout=30))["type"] == "events"
            except ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 4429, closed
                break
            held.append(socket)
        assert 0 < len(held) <= 10, len(held)
        page.goto(f"{server['base']}/executions/{execution}/")
        expect(page.locator("#live-paused")).to_be_visible(timeout=20_000)
        expect(page.locator("#live")).to_be_hidden()
        shot(page, "execution-live-paused")
        held.pop().close()
        expect(page.locator("#live")).to_be_visible(timeout=30_000)   # the page retries every 15 s
        expect(page.locator("#live-paused")).to_be_hidden()
    signed_in_client.post(f"/api/executions/{execution}/stop", json={})
