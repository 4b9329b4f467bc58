"""The execution stream: owners only; the catch-up from the database, then every new event once,
in order, even when events are written while a subscribe is answered; reconnects resume."""

import asyncio
import json
import socket
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from editor import consumers, services
from editor.models import ExecutionEvent
from editor.services import executions, machines, roles
from editor.services.accounts import function_arn
from editor.services.executor import get_executor
from flowbench.asgi import application
from tests.web.base import assert_refused

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

BLOCKS = (
    "import socket\n\n"
    "def lambda_handler(event, context):\n"
    "    connection = socket.create_connection(('127.0.0.1', event['port']))\n"
    "    connection.recv(1)\n"
    "    return {'released': True}\n"
)
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
DEFINITION = {"StartAt": "Before", "States": {
    "Before": {"Type": "Pass", "Next": "Block"},
    "Block": {"Type": "Task", "Resource": ARN + "blocker", "Next": "After"},
    "After": {"Type": "Pass", "End": True}}}


@sync_to_async
def make_user(username, with_machine=True):
    user = get_user_model().objects.create_user(username, password=f"{username}-password-1")
    if with_machine:
        function = services.create_function(user, name="blocker", runtime="python")
        services.save_code(function, {"lambda_function.py": BLOCKS})
        services.update_configuration(function, {"timeout": 30, "network": True})
        services.deploy_function(function)
        roles.create_role(user, {"name": "runner"})
        machine = machines.create_machine(user, {"name": "flow", "type": "STANDARD", "role": "runner",
                                                 "definition": json.dumps(DEFINITION).replace(
                                                     ARN, function_arn(user, ""))})
        machines.publish_version(machine)
    client = Client()
    client.force_login(user)
    return user, client.cookies["sessionid"].value


def listen():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(30)
    return listener, listener.getsockname()[1]


async def start(user, port):
    machine = await database_sync_to_async(machines.get_machine)(user, "flow")
    return await database_sync_to_async(executions.start_execution)(user, machine, json.dumps({"port": port}))


def connect(execution_id, session=None):
    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, f"/ws/executions/{execution_id}/", headers=headers)


async def receive_until_done(communicator, after=0):
    """Returns (events, final execution status message) received until the execution has ended."""
    events = []
    while True:
        message = await communicator.receive_json_from(timeout=20)
        if message["type"] == "events":
            events += message["events"]
        elif message["type"] == "execution" and message["execution"]["status"] != "RUNNING":
            if events and events[-1]["type"].startswith("Execution") and events[-1]["type"] != "ExecutionStarted":
                return events, message
        else:
            assert message["type"] == "execution", message


async def blocked_execution(user):
    """Starts the user's flow; returns (execution, listener, connection) once its Task is running
    (blocked until the test sends a byte on `connection`)."""
    listener, port = listen()
    execution = await start(user, port)
    connection, _ = await asyncio.to_thread(listener.accept)
    return execution, listener, connection


async def subscribed(execution_id, session, after=0):
    """Returns (communicator, caught-up events, status message) of a socket subscribed after `after`."""
    communicator = connect(execution_id, session)
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "subscribe", "after": after})
    caught_up = await communicator.receive_json_from(timeout=10)
    assert caught_up["type"] == "events", caught_up
    status = await communicator.receive_json_from(timeout=10)
    assert status["type"] == "execution", status
    return communicator, caught_up["events"], status


async def stored_ids(execution_id):
    return await database_sync_to_async(lambda: list(
        ExecutionEvent.objects.filter(execution_id=execution_id).order_by("event_id")
        .values_list("event_id", flat=True)))()


async def finish(execution, listener, connection):
    connection.sendall(b"x")
    await asyncio.to_thread(get_executor().wait, execution.id)
    connection.close()
    listener.close()


async def test_anonymous_other_users_and_unknown_ids_are_refused():
    """Another user's execution and one that does not exist get the same 4404: the close code
    does not tell whether someone else has an execution of that id."""
    alice, _ = await make_user("alice")
    _, bob_session = await make_user("bob", with_machine=False)
    listener, port = listen()
    execution = await start(alice, port)
    connection, _ = await asyncio.to_thread(listener.accept)
    for session, path_id, code in [(None, execution.id, 4401), (bob_session, execution.id, 4404),
                                   (bob_session, uuid.uuid4(), 4404), (bob_session, "not-a-uuid", 4404)]:
        await assert_refused(connect(path_id, session), code)
    await finish(execution, listener, connection)


@pytest.mark.parametrize("who", ["anonymous", "another user", "unknown id"])
async def test_a_message_on_a_refused_socket_is_ignored(who):
    alice, alice_session = await make_user("alice")
    _, bob_session = await make_user("bob", with_machine=False)
    execution, listener, connection = await blocked_execution(alice)
    session, path_id, code = {"anonymous": (None, execution.id, 4401),
                              "another user": (bob_session, execution.id, 4404),
                              "unknown id": (alice_session, uuid.uuid4(), 4404)}[who]
    communicator = connect(path_id, session)
    await assert_refused(communicator, code)
    for frame in ({"text_data": json.dumps({"type": "subscribe", "after": 0})}, {"text_data": "x" * 10_000},
                  {"bytes_data": b"\x00"}):
        await communicator.send_to(**frame)
        assert await communicator.receive_nothing(timeout=0.2)   # nothing sent, nothing raised
    await communicator.disconnect()
    await finish(execution, listener, connection)


async def test_a_second_subscribe_is_refused_and_the_stream_goes_on():
    alice, session = await make_user("alice")
    execution, listener, connection = await blocked_execution(alice)
    communicator, caught_up, _ = await subscribed(execution.id, session)
    for after in (0, 2):
        await communicator.send_json_to({"type": "subscribe", "after": after})
        reply = await communicator.receive_json_from(timeout=10)
        assert reply["type"] == "error", reply   # no second catch-up
        assert (reply["error"]["code"], reply["error"]["field"]) == ("AlreadySubscribed", "type")
    connection.sendall(b"x")   # the rest still arrives, once
    live, final = await receive_until_done(communicator)
    assert [e["id"] for e in caught_up + live] == await stored_ids(execution.id)
    await communicator.disconnect()
    await finish(execution, listener, connection)


async def test_an_after_beyond_the_last_event_is_refused_and_the_socket_stays_usable():
    alice, session = await make_user("alice")
    execution, listener, connection = await blocked_execution(alice)
    last = (await stored_ids(execution.id))[-1]
    communicator = connect(execution.id, session)
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "subscribe", "after": last + 3})
    reply = await communicator.receive_json_from(timeout=10)
    assert reply["type"] == "error", reply
    assert (reply["error"]["code"], reply["error"]["field"]) == ("OutOfRange", "after")
    assert str(last) in reply["error"]["message"]
    await communicator.send_json_to({"type": "subscribe", "after": last})   # the client corrects it
    assert (await communicator.receive_json_from(timeout=10)) == {"type": "events", "events": []}
    assert (await communicator.receive_json_from(timeout=10))["execution"]["status"] == "RUNNING"
    connection.sendall(b"x")   # every later event arrives: none was skipped
    live, final = await receive_until_done(communicator)
    assert [e["id"] for e in live] == (await stored_ids(execution.id))[last:]
    await communicator.disconnect()
    await finish(execution, listener, connection)

    ended = connect(execution.id, session)   # an ended execution refuses it the same way
    assert (await ended.connect())[0]
    total = len(await stored_ids(execution.id))
    await ended.send_json_to({"type": "subscribe", "after": total + 1})
    assert (await ended.receive_json_from(timeout=10))["error"]["code"] == "OutOfRange"
    await ended.send_json_to({"type": "subscribe", "after": total})
    assert (await ended.receive_json_from(timeout=10)) == {"type": "events", "events": []}
    assert (await ended.receive_json_from(timeout=10))["execution"]["status"] == "SUCCEEDED"
    await ended.disconnect()


async def test_a_user_holds_at_most_the_cap_of_execution_sockets_at_once():
    alice, alice_session = await make_user("alice")
    bob, bob_session = await make_user("bob")
    execution, listener, connection = await blocked_execution(alice)
    bob_execution, bob_listener, bob_connection = await blocked_execution(bob)
    with override_settings(FLOWBENCH_EXECUTION_SOCKETS_PER_USER=2):
        held = [connect(execution.id, alice_session) for _ in range(2)]
        for communicator in held:
            assert (await communicator.connect())[0]
        await assert_refused(connect(execution.id, alice_session), 4429)
        other, _, _ = await subscribed(bob_execution.id, bob_session)   # the cap is each user's own
        await held.pop().disconnect()   # a socket that closes frees its place
        again, _, _ = await subscribed(execution.id, alice_session)
        for communicator in (*held, other, again):
            await communicator.disconnect()
    await finish(bob_execution, bob_listener, bob_connection)
    await finish(execution, listener, connection)


async def test_catch_up_then_live_events_in_order_and_a_reconnect_gets_exactly_the_rest():
    alice, session = await make_user("alice")
    listener, port = listen()
    execution = await start(alice, port)
    connection, _ = await asyncio.to_thread(listener.accept)   # the Task is running now
    communicator = connect(execution.id, session)
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "subscribe", "after": 0})
    caught_up = await communicator.receive_json_from(timeout=10)
    assert caught_up["type"] == "events"
    assert [e["type"] for e in caught_up["events"]][:2] == ["ExecutionStarted", "PassStateEntered"]
    assert caught_up["events"][-1]["type"] == "LambdaFunctionStarted"
    status = await communicator.receive_json_from(timeout=10)
    assert status == {"type": "execution", "execution": {**status["execution"], "status": "RUNNING"}}
    connection.sendall(b"x")   # release the function: the rest arrives live
    live, final = await receive_until_done(communicator)
    events = caught_up["events"] + live
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "ExecutionSucceeded"
    assert final["execution"]["status"] == "SUCCEEDED"
    assert json.loads(final["execution"]["output"]) == {"released": True}
    assert await stored_ids(execution.id) == [e["id"] for e in events]
    await communicator.disconnect()

    again = connect(execution.id, session)
    assert (await again.connect())[0]
    await again.send_json_to({"type": "subscribe", "after": 5})
    rest = await again.receive_json_from(timeout=10)
    assert [e["id"] for e in rest["events"]] == list(range(6, len(events) + 1))
    assert (await again.receive_json_from(timeout=10))["execution"]["status"] == "SUCCEEDED"
    assert await again.receive_nothing(timeout=0.1)
    await again.disconnect()
    connection.close()
    listener.close()


async def test_events_the_layer_dropped_at_the_end_still_reach_the_watcher(monkeypatch):
    from editor.services import checkpoints

    alice, session = await make_user("alice")
    listener, port = listen()
    execution = await start(alice, port)
    connection, _ = await asyncio.to_thread(listener.accept)   # the Task is running now
    communicator = connect(execution.id, session)
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "subscribe", "after": 0})
    caught_up = (await communicator.receive_json_from(timeout=10))["events"]
    assert (await communicator.receive_json_from(timeout=10))["type"] == "execution"
    # From now on every event message is lost on the way (a full channel): only the status arrives.
    original = checkpoints.broadcast
    monkeypatch.setattr(checkpoints, "broadcast", lambda group, message: (
        None if message["type"] == "execution.events" else original(group, message)))
    await finish(execution, listener, connection)
    rest, final = await receive_until_done(communicator)
    events = caught_up + rest
    assert [e["id"] for e in events] == await stored_ids(execution.id)
    assert final["execution"]["status"] == "SUCCEEDED"
    await communicator.disconnect()


@pytest.mark.parametrize("written", ["before the catch-up query", "after the catch-up query"])
async def test_events_written_while_a_subscribe_is_answered_arrive_once(monkeypatch, written):
    alice, session = await make_user("alice")
    listener, port = listen()
    execution = await start(alice, port)
    connection, _ = await asyncio.to_thread(listener.accept)
    original = consumers._catch_up.func

    def run_the_rest():
        connection.sendall(b"x")
        get_executor().wait(execution.id)   # every remaining event is stored and broadcast

    def racing_catch_up(execution_id, after):
        if written == "before the catch-up query":
            run_the_rest()
            return original(execution_id, after)
        found = original(execution_id, after)
        run_the_rest()
        return found

    monkeypatch.setattr(consumers, "_catch_up", database_sync_to_async(racing_catch_up))
    communicator = connect(execution.id, session)
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "subscribe", "after": 2})
    events, final = await receive_until_done(communicator)
    stored = await stored_ids(execution.id)
    assert [e["id"] for e in events] == stored[2:]
    assert final["execution"]["status"] == "SUCCEEDED"
    assert await communicator.receive_nothing(timeout=0.1)
    await communicator.disconnect()
    connection.close()
    listener.close()


async def test_unknown_messages_get_an_error_without_closing():
    alice, session = await make_user("alice")
    listener, port = listen()
    execution = await start(alice, port)
    connection, _ = await asyncio.to_thread(listener.accept)
    communicator = connect(execution.id, session)
    assert (await communicator.connect())[0]
    for sent, code, field in [({"type": "hello"}, "UnknownType", "type"),
                              ({"type": "subscribe", "after": 0, "extra": 1}, "UnknownField", "extra"),
                              ({"type": "subscribe", "after": -1}, "InvalidType", "after"),
                              ({"type": "subscribe", "after": "3"}, "InvalidType", "after"),
                              ([1, 2], "InvalidMessage", None)]:
        await communicator.send_json_to(sent)
        reply = await communicator.receive_json_from(timeout=10)
        assert reply["type"] == "error" and set(reply) == {"type", "error"}
        assert (reply["error"]["code"], reply["error"]["field"]) == (code, field)
    for frame in ({"text_data": "{not json"}, {"bytes_data": b"\x00\x01"},
                  {"text_data": "[" * 2_000 + "]" * 2_000}):   # deeper than the parser goes
        await communicator.send_to(**frame)
        assert (await communicator.receive_json_from(timeout=10))["error"]["code"] == "InvalidMessage", frame
    await communicator.send_json_to({"type": "subscribe", "after": 0, "padding": "x" * 5_000_000})
    assert (await communicator.receive_json_from(timeout=10))["error"]["code"] == "MessageTooLarge"
    await communicator.send_json_to({"type": "subscribe", "after": 0})
    assert (await communicator.receive_json_from(timeout=10))["type"] == "events"
    await communicator.disconnect()
    await finish(execution, listener, connection)


async def test_a_stop_reaches_watchers_as_execution_aborted():
    alice, session = await make_user("alice")
    listener, port = listen()
    execution = await start(alice, port)
    connection, _ = await asyncio.to_thread(listener.accept)
    communicator = connect(execution.id, session)
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "subscribe", "after": 0})
    caught_up = (await communicator.receive_json_from(timeout=10))["events"]
    await communicator.receive_json_from(timeout=10)
    await database_sync_to_async(executions.stop_execution)(alice, execution, "Stopped", "from the test")
    connection.sendall(b"x")   # the running Task returns; the engine then sees the stop
    live, final = await receive_until_done(communicator)
    events = caught_up + live
    assert events[-1]["type"] == "ExecutionAborted"
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert "After" not in [e.get("stateEnteredEventDetails", {}).get("name") for e in events]
    assert (final["execution"]["status"], final["execution"]["error"]) == ("ABORTED", "Stopped")
    await communicator.disconnect()
    await asyncio.to_thread(get_executor().wait, execution.id)
    connection.close()
    listener.close()


def extra_events(first, count):
    return [{"id": i, "previousEventId": i - 1, "timestamp": "2026-01-01T00:00:00.000Z", "type": "PassStateEntered",
             "stateEnteredEventDetails": {"name": f"Extra{i}", "input": "{}"}} for i in range(first, first + count)]


async def test_a_batch_goes_out_as_the_frame_encoded_once_and_a_gap_is_filled_from_the_database(monkeypatch):
    """The checkpoint encodes a batch's "events" frame once for every watcher, and each socket
    forwards that text as it is when it continues what the socket sent; after a lost message the
    missing events come from the database, and a batch already sent is not sent again."""
    from channels import consumer as channels_consumer
    from channels.layers import get_channel_layer

    from editor import messages
    from editor.services.broadcast import execution_group
    from editor.services.checkpoints import store_events

    hops = []

    async def close_old_connections():
        hops.append(1)

    monkeypatch.setattr(channels_consumer, "aclose_old_connections", close_old_connections)
    alice, session = await make_user("alice")
    execution, listener, connection = await blocked_execution(alice)
    await finish(execution, listener, connection)
    stored = await stored_ids(execution.id)
    communicator, caught_up, status = await subscribed(execution.id, session)
    assert [e["id"] for e in caught_up] == stored and status["execution"]["status"] == "SUCCEEDED"
    # Events written after those (as a run that went on would write them), then broadcast.
    more = extra_events(stored[-1] + 1, 4)
    await database_sync_to_async(store_events)(execution.id, more)
    layer, group = get_channel_layer(), execution_group(execution.id)

    batch = messages.events_group_message(more[:2])
    assert (batch["first"], batch["last"]) == (more[0]["id"], more[1]["id"])
    await layer.group_send(group, batch)
    assert await communicator.receive_from(timeout=10) == batch["frame"]
    assert json.loads(batch["frame"]) == {"type": "events", "events": more[:2]}

    await layer.group_send(group, messages.events_group_message(more[3:]))   # the third's message was lost
    assert [e["id"] for e in (await communicator.receive_json_from(timeout=10))["events"]] == [
        e["id"] for e in more[2:]]
    await layer.group_send(group, messages.events_group_message(more[2:3]))   # late: sent already
    assert await communicator.receive_nothing(timeout=0.2)
    # Messages go straight to their handlers: no hop to the sync thread for each of them.
    assert hops == []
    await communicator.disconnect()
