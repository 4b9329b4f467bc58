"""The invocation log stream: signed-in owners only, lines in order and while the function runs."""

import asyncio
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
    lines = []
    while not lines or lines[-1]["line"] != "waiting for release":
        message = await communicator.receive_json_from(timeout=10)
        assert message["type"] == "log"
        lines.append(message)
    # The function is still blocked: the lines came while it ran.
    assert not running.done()
    connection, _ = await accepted
    connection.sendall(b"x")
    texts = [m["line"] for m in lines if not m["line"].startswith(("INIT_START", "START"))]
    assert texts == [f"line {n}" for n in range(5)] + ["waiting for release"]
    assert [m["seq"] for m in lines] == list(range(1, len(lines) + 1))
    while True:
        message = await communicator.receive_json_from(timeout=10)
        if message["type"] == "end":
            break
        assert message["type"] == "log"
    assert message["invocation"]["status"] == "succeeded"
    assert message["invocation"]["response"] == {"released": True}
    invocation = await running
    assert invocation.status == "succeeded"
    connection.close()
    listener.close()
    await communicator.disconnect()
