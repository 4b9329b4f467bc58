"""The WebSocket door of triggers, in front of the studio's own sockets: a WebSocket request to a
WebSocket API's address (editor.triggers.websocket_apis.match) is served by WebSocketApiConsumer;
everything else goes on to the studio's consumers (which want a signed-in user and its origin).

The consumer stays thin: it calls editor.triggers.websocket_apis on a thread of its own (a
function can run for seconds; it must hold no thread the other sockets share), joins the
connection's Channels group, through which PostToConnection (`ws.post`) and DeleteConnection
(`ws.drop`) reach it from any process, and refuses a message over 128 KB as API Gateway does
(close 1009: flowbench.serve lowers such a connection's limit in daphne; this check is for
servers that do not, and closes with 1009 where the server lets an application send it).
"""

from __future__ import annotations

import asyncio
import os
import threading

from asgiref.sync import SyncToAsync
from channels.generic.websocket import AsyncWebsocketConsumer

from editor.services.websocket_apis import MESSAGE_LIMIT, connection_group
from editor.triggers import websocket_apis

__all__ = ["WebSocketApis", "WebSocketApiConsumer"]

TOO_BIG = 1009
# The code the server closes with (the WebSocket server takes 1000 and 3000-4999 from an application).
CLOSED = 1000


def _on_thread(function, *args, **kwargs):
    from django.db import close_old_connections

    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


async def _run(function, *args, **kwargs):
    """Returns what `function(*args, **kwargs)` returns, run on a daemon thread of the call's own.

    Its own thread: a function that runs for seconds holds no thread the other sockets share. A
    daemon thread: a web process told to stop, whose clients' $disconnect functions are still
    running (and may wait on its stopped loop), exits without waiting for them, as it does for
    the executions' threads (editor.services.executor)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def settle(outcome, failure):
        if not done.cancelled():
            if failure is not None:
                done.set_exception(failure)
            else:
                done.set_result(outcome)

    def work():
        # As in a thread of sync_to_async's: what the call awaits through async_to_sync (the
        # channel layer: a Celery worker's answer, log lines) runs on the server's loop, where the
        # layer's connections and receivers are.
        SyncToAsync.threadlocal.main_event_loop = loop
        SyncToAsync.threadlocal.main_event_loop_pid = os.getpid()
        try:
            outcome, failure = _on_thread(function, *args, **kwargs), None
        except Exception as error:   # handed to the awaiting consumer
            outcome, failure = None, error
        try:
            loop.call_soon_threadsafe(settle, outcome, failure)
        except RuntimeError:   # the loop is closed: the process is stopping
            pass

    threading.Thread(target=work, name="flowbench-websocket-api", daemon=True).start()
    return await done


def _headers(scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        found[name] = f"{found[name]},{value}" if name in found else value
    return found


class WebSocketApiConsumer(AsyncWebsocketConsumer):
    """One client of a WebSocket API."""

    socket = None

    async def connect(self):
        client = self.scope.get("client") or ("", 0)
        self.socket = await _run(websocket_apis.connect, self.scope["ws_api"], headers=_headers(self.scope),
                                 raw_query=self.scope.get("query_string", b"").decode("latin-1"),
                                 source_ip=client[0] or "")
        if self.socket is None:
            await self.close()
            return
        await self.channel_layer.group_add(connection_group(self.socket.connection_id), self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        data = text_data if text_data is not None else bytes_data or b""
        size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
        if size > MESSAGE_LIMIT:
            await self.close(code=TOO_BIG, reason="Message too big")
            return
        frames = await _run(websocket_apis.message, self.socket, data)
        if frames is None:   # the API was deleted
            await self.close(code=CLOSED)
            return
        for frame in frames:
            await self.send(text_data=frame)

    async def disconnect(self, code):
        if self.socket is None:
            return
        await self.channel_layer.group_discard(connection_group(self.socket.connection_id), self.channel_name)
        await _run(websocket_apis.disconnect, self.socket, code if isinstance(code, int) else 1006)

    # -- messages from the channel layer ---------------------------------------------------------

    async def ws_post(self, event):
        """PostToConnection: the data, as a text frame (binary when it is not UTF-8)."""
        if "text" in event:
            await self.send(text_data=event["text"])
        else:
            await self.send(bytes_data=event["bytes"])

    async def ws_drop(self, event):
        """DeleteConnection: the server closes the connection."""
        await self.close(code=CLOSED)


class WebSocketApis:
    """ASGI middleware for WebSocket requests: a WebSocket API's go to its consumer, the rest to `app`."""

    def __init__(self, app):
        self.app = app
        self.endpoint = WebSocketApiConsumer.as_asgi()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            host = _headers(scope).get("host", "")
            raw = scope.get("raw_path")
            found = websocket_apis.match(host, (raw.decode("latin-1") if raw else scope["path"]).split("?")[0])
            if found is not None:
                return await self.endpoint({**scope, "ws_api": found}, receive, send)
        return await self.app(scope, receive, send)
