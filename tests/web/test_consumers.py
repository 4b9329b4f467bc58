"""The invocation log stream: signed-in owners only, lines in order and while the function runs."""

import asyncio
import json
import socket
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from editor import services
from editor.models import Invocation
from flowbench.asgi import application
from tests.web.base import assert_refused

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

# Prints, then blocks until the test sends a byte on a socket it listens on (network is on), so
# the test knows for certain the function is still running when the lines arrive.
WAITS = (
    "import socket\n\n"
    "def lambda_handler(event, context):\n"
    "    for n in range(5):\n"
    "        print(f'line {n}')\n"
    "    connection = socket.create_connection(('127.0.0.1', event['port']))\n"
    "    print('waiting for release')\n"
    "    connection.recv(1)\n"
    "    return {'released': True}\n"
)


@sync_to_async
def make_user_function(username, name="streamer", code=WAITS):
    user = get_user_model().objects.create_user(username, password=f"{username}-password-1")
    function = services.create_function(user, name=name, runtime="python")
    services.save_code(function, {"lambda_function.py": code})
    services.update_configuration(function, {"network": True, "timeout": 30})
    services.deploy_function(function)
    function.refresh_from_db()
    client = Client()
    client.force_login(user)
    return user, function, client.cookies["sessionid"].value


def listen():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(30)
    return listener, listener.getsockname()[1]


def connect(path, session=None, origin=b"http://127.0.0.1:8000"):
    headers = [(b"origin", origin), (b"host", b"127.0.0.1:8000")]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def test_an_anonymous_socket_is_refused():
    _, function, _ = await make_user_function("alice")
    communicator = connect(f"/ws/functions/{function.name}/invocations/{uuid.uuid4()}/")
    await assert_refused(communicator, 4401)


async def test_a_foreign_origin_is_refused():
    _, function, session = await make_user_function("alice")
    communicator = connect(f"/ws/functions/{function.name}/invocations/{uuid.uuid4()}/", session,
                           origin=b"http://evil.example")
    connected, _ = await communicator.connect()
    assert not connected


async def test_bob_cannot_open_alices_stream_or_hear_her_lines(tmp_path):
    _, alice_function, _ = await make_user_function("alice")
    _, _, bob_session = await make_user_function("bob", name="bobs")
    invocation_id = uuid.uuid4()
    refused = connect(f"/ws/functions/{alice_function.name}/invocations/{invocation_id}/", bob_session)
    await assert_refused(refused, 4404)
    # Bob opening the same invocation id under his own function joins a different group.
    own = connect(f"/ws/functions/bobs/invocations/{invocation_id}/", bob_session)
    connected, _ = await own.connect()
    assert connected
    assert (await own.receive_json_from())["type"] == "ready"
    listener, port = listen()
    running = asyncio.ensure_future(sync_to_async(services.invoke_function, thread_sensitive=False)(
        alice_function, {"port": port}, source="test", invocation_id=invocation_id))
    connection, _ = await asyncio.to_thread(listener.accept)
    connection.sendall(b"x")
    await running
    connection.close()
    listener.close()
    assert await own.receive_nothing(timeout=0.2)
    await own.disconnect()


async def test_an_invocation_id_of_another_function_is_refused():
    alice, function, session = await make_user_function("alice")
    other = await sync_to_async(services.create_function)(alice, name="other", runtime="python")
    invocation_id = uuid.uuid4()
    await sync_to_async(Invocation.objects.create)(id=invocation_id, function=other, source="test", memory_mb=128)
    communicator = connect(f"/ws/functions/{function.name}/invocations/{invocation_id}/", session)
    await assert_refused(communicator, 4404)


async def receive_logs_until(communicator, last_line=None):
    """Returns the log messages received until one ends with `last_line` (or until `end`), and
    the message that stopped it."""
    logs = []
    while True:
        message = await communicator.receive_json_from(timeout=30)
        if message["type"] == "end" or (last_line is not None and message["type"] == "log"
                                        and message["lines"][-1] == last_line):
            if message["type"] == "log":
                logs.append(message)
            return logs, message
        assert message["type"] == "log"
        logs.append(message)


def lines_of(logs):
    """Returns the lines of log messages in order, checking that their numbers run on."""
    lines = []
    for message in logs:
        assert message["seq"] == len(lines) + 1
        lines += message["lines"]
    return lines


async def test_log_lines_arrive_in_order_while_the_function_runs():
    _, function, session = await make_user_function("alice")
    invocation_id = uuid.uuid4()
    communicator = connect(f"/ws/functions/{function.name}/invocations/{invocation_id}/", session)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_json_from() == {"type": "ready", "invocation_id": str(invocation_id)}
    listener, port = listen()
    running = asyncio.ensure_future(sync_to_async(services.invoke_function, thread_sensitive=False)(
        function, {"port": port}, source="test", invocation_id=invocation_id))
    accepted = asyncio.ensure_future(asyncio.to_thread(listener.accept))
    start = await communicator.receive_json_from(timeout=10)
    assert start["type"] == "start" and start["version"] == "$LATEST"
    logs, _ = await receive_logs_until(communicator, "waiting for release")
    # The function is still blocked: the lines came while it ran.
    assert not running.done()
    connection, _ = await accepted
    connection.sendall(b"x")
    texts = [line for line in lines_of(logs) if not line.startswith(("INIT_START", "START"))]
    assert texts == [f"line {n}" for n in range(5)] + ["waiting for release"]
    more, end = await receive_logs_until(communicator)
    assert lines_of(logs + more)[-2].startswith("END RequestId")
    assert end["invocation"]["status"] == "succeeded"
    invocation = await running
    assert invocation.status == "succeeded"
    connection.close()
    listener.close()
    await communicator.disconnect()


async def test_a_million_log_lines_arrive_in_a_few_batches_and_the_end_leaves_the_logs_out():
    # A megabyte of newlines: a million lines, the case that once cost a channel message each.
    code = "def lambda_handler(event, context):\n    print('\\n' * 1_000_000, end='')\n    return 'done'\n"
    _, function, session = await make_user_function("alice", name="newlines", code=code)
    invocation_id = uuid.uuid4()
    communicator = connect(f"/ws/functions/{function.name}/invocations/{invocation_id}/", session)
    await communicator.connect()
    assert (await communicator.receive_json_from())["type"] == "ready"
    running = asyncio.ensure_future(sync_to_async(services.invoke_function, thread_sensitive=False)(
        function, {}, source="test", invocation_id=invocation_id))
    assert (await communicator.receive_json_from(timeout=10))["type"] == "start"
    logs, end = await receive_logs_until(communicator)
    invocation = await running
    lines = lines_of(logs)
    assert lines == invocation.logs.rstrip("\n").split("\n")
    assert lines.count("") == 1_000_000
    assert len(logs) < 100
    assert max(len(json.dumps(message)) for message in logs) < 512 * 1024
    assert end["invocation"]["status"] == "succeeded"
    assert not {"logs", "request", "response"} & set(end["invocation"])
    await communicator.disconnect()



async def test_the_deploy_log_stream_is_its_owners_and_relays_install_lines():
    from channels.layers import get_channel_layer

    from editor import messages
    from editor.services.packages import deploy_group

    _, function, session = await make_user_function("alice")
    _, _, bob_session = await make_user_function("bob", name="bobs")
    await assert_refused(connect(f"/ws/functions/{function.name}/deploy/"), 4401)
    await assert_refused(connect(f"/ws/functions/{function.name}/deploy/", bob_session), 4404)
    await assert_refused(connect("/ws/functions/nothing-here/deploy/", session), 4404)
    communicator = connect(f"/ws/functions/{function.name}/deploy/", session)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_json_from() == {"type": "ready"}
    await communicator.send_to(text_data="anything")            # one-way: ignored
    await get_channel_layer().group_send(deploy_group(function.pk), messages.deploy_log("Collecting pyyaml"))
    assert await communicator.receive_json_from() == {"type": "log", "line": "Collecting pyyaml"}
    await communicator.disconnect()
