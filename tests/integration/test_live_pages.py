"""A live page on the Redis channel layer: an execution that is quiet for a minute (a long Wait)
keeps its page's socket open, and the page then gets the next event without reconnecting."""

from __future__ import annotations

import pytest

from tests.integration import workload

QUIET_SECONDS = 60
QUIET = {"StartAt": "Quiet", "States": {
    "Quiet": {"Type": "Wait", "Seconds": QUIET_SECONDS, "Next": "Done"},
    "Done": {"Type": "Pass", "End": True}}}


@pytest.mark.slow
def test_an_idle_socket_on_the_redis_layer_stays_open_and_gets_the_next_event(cluster, mix):
    machine = workload.published_machine(mix, QUIET)
    execution = mix.ok("POST", f"/api/state-machines/{machine}/executions", {"input": {}}, status=201)["id"]
    with mix.websocket(f"/ws/executions/{execution}/") as socket:
        socket.send_json({"type": "subscribe", "after": 0})
        seen = []
        while "WaitStateEntered" not in seen:
            message = socket.receive_json(timeout=30)
            if message["type"] == "events":
                seen += [event["type"] for event in message["events"]]
        # A minute with nothing to say: the socket must neither close (1011) nor lose the next event.
        while "WaitStateExited" not in seen:
            message = socket.receive_json(timeout=QUIET_SECONDS + 30)
            if message["type"] == "events":
                seen += [event["type"] for event in message["events"]]
    assert seen.count("WaitStateEntered") == 1
