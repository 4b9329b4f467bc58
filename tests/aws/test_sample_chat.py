"""The chat sample against a server whose first prepare loaded it (as `make run` does): `websockets`
clients join rooms through the sample's WebSocket API, a message reaches everyone in the sender's
room (Korean text included), a client that leaves is taken out of the room object, a connection
that is gone without saying so is dropped when a message finds it Gone, clients joining at once
are all kept (the functions' conditional writes), and what the functions refuse is refused."""

from __future__ import annotations

import json
import uuid
from contextlib import ExitStack, contextmanager
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import boto3
import pytest
from botocore.config import Config
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.conftest import ADMIN_KEY
from tests.integration.cluster import wait_until
from tests.live_server import manage, running_server


@contextmanager
def chat_sample_server(data):
    """Runs a server whose first prepare loaded the sample apps; yields running_server's dict with
    "client" (a boto3 client factory signed as the administrator), "bucket" (the chat's) and "url"
    (the chat API's stage address)."""
    with running_server(data, sample_apps=True) as found:
        admin = json.loads(manage(found["env"], code=ADMIN_KEY).strip().splitlines()[-1])
        session = boto3.session.Session(aws_access_key_id=admin["key"], aws_secret_access_key=admin["secret"],
                                        region_name="us-east-1")

        def client(service):
            return session.client(service, endpoint_url=found["base"], config=Config(retries={"max_attempts": 1}))

        api = next(a for a in client("apigatewayv2").get_apis()["Items"] if a["Name"] == "flowbench-chat")
        yield {**found, "client": client, "url": f"{api['ApiEndpoint']}/production",
               "bucket": f"chat-rooms-{admin['account']}"}


def room_connections(server, room: str) -> dict:
    """Returns the connections the room object lists ({} when there is no room object)."""
    s3 = server["client"]("s3")
    try:
        body = s3.get_object(Bucket=server["bucket"], Key=f"rooms/{room}.json")["Body"].read()
    except s3.exceptions.NoSuchKey:
        return {}
    return json.loads(body)["connections"]


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory):
    with chat_sample_server(tmp_path_factory.mktemp("chat-data")) as found:
        yield found


def _join(server, **query):
    return connect(f"{server['url']}?{urlencode(query)}", open_timeout=60)


def _send(socket, text: str) -> None:
    socket.send(json.dumps({"action": "sendmessage", "text": text}))


def _next(socket) -> dict:
    return json.loads(socket.recv(timeout=60))


def test_everyone_in_the_room_gets_each_message_with_its_sender_and_time(chat_server):
    room = f"r-{uuid.uuid4().hex[:8]}"
    with _join(chat_server, name="민준", room=room) as minjun, _join(chat_server, name="Ada", room=room) as ada:
        assert sorted(c["name"] for c in room_connections(chat_server, room).values()) == ["Ada", "민준"]
        _send(ada, "hello, room")
        for socket in (minjun, ada):
            message = _next(socket)
            assert (message["name"], message["text"]) == ("Ada", "hello, room") and message["at"].endswith("Z")
        _send(minjun, "안녕하세요 여러분")
        assert [_next(socket)["text"] for socket in (ada, minjun)] == ["안녕하세요 여러분"] * 2


def test_a_client_that_leaves_is_taken_out_of_itsroom_connections(chat_server):
    room = f"r-{uuid.uuid4().hex[:8]}"
    with _join(chat_server, name="stays", room=room) as stays:
        with _join(chat_server, name="leaves", room=room):
            assert len(room_connections(chat_server, room)) == 2
        wait_until(lambda: [c["name"] for c in room_connections(chat_server, room).values()] == ["stays"], 60,
                   "the $disconnect function took the closed connection out of the room")
        _send(stays, "still here")
        assert _next(stays)["text"] == "still here"


def test_a_connection_gone_without_a_word_is_dropped_when_a_message_finds_it_gone(chat_server):
    room = f"r-{uuid.uuid4().hex[:8]}"
    with _join(chat_server, name="talker", room=room) as talker:
        (talker_id,) = room_connections(chat_server, room)
        # A connection the room still lists though its client is long gone (a process that died).
        s3 = chat_server["client"]("s3")
        s3.put_object(Bucket=chat_server["bucket"], Key=f"rooms/{room}.json", Body=json.dumps({"connections": {
            talker_id: {"name": "talker", "joined": "2026-01-01T00:00:00Z"},
            "Gone0000000x": {"name": "ghost", "joined": "2026-01-01T00:00:00Z"}}}).encode())
        _send(talker, "anyone?")
        assert _next(talker)["text"] == "anyone?"
        wait_until(lambda: list(room_connections(chat_server, room)) == [talker_id], 60,
                   "the Gone connection was dropped")


def test_clients_joining_at_once_are_all_kept(chat_server):
    room = f"r-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(6) as pool, ExitStack() as stack:
        sockets = [stack.enter_context(socket)
                   for socket in pool.map(lambda n: _join(chat_server, name=f"tab {n}", room=room), range(6))]
        assert sorted(c["name"] for c in room_connections(chat_server, room).values()) == [f"tab {n}" for n in range(6)]
        _send(sockets[0], "all of you")
        assert all(_next(socket)["text"] == "all of you" for socket in sockets)


def test_a_connection_without_a_room_goes_to_the_lobby(chat_server):
    with _join(chat_server) as guest:
        assert "guest" in [c["name"] for c in room_connections(chat_server, "lobby").values()]
        _send(guest, "hi")
        assert _next(guest)["name"] == "guest"


@pytest.mark.parametrize("query", [{"room": "no spaces here"}, {"room": "x" * 65}, {"name": "n" * 41}])
def test_a_bad_room_or_name_is_refused_at_connect(chat_server, query):
    with pytest.raises(InvalidStatus) as refused:
        _join(chat_server, **query)
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("body", [{"action": "sendmessage"}, {"action": "sendmessage", "text": "   "},
                                  {"action": "sendmessage", "text": ["not", "text"]},
                                  {"action": "sendmessage", "text": "x" * 2001}])
def test_a_message_without_text_gets_an_error_back_and_reaches_nobody(chat_server, body):
    room = f"r-{uuid.uuid4().hex[:8]}"
    with _join(chat_server, name="a", room=room) as sender:
        sender.send(json.dumps(body))
        answer = _next(sender)
        assert answer == {"error": "text: a message is 1 to 2000 characters"}
        _send(sender, "after the error")
        assert _next(sender)["text"] == "after the error"
