"""Sending to Channels groups from any thread: how execution events and statuses reach the pages
watching them.

A send never waits and never fails the caller: a layer that is down (Redis restarting) loses the
message, never the run, and watchers catch up from the database (editor.consumers).
"""

from __future__ import annotations

import asyncio
import logging
import threading

from channels.layers import InMemoryChannelLayer, get_channel_layer

__all__ = ["execution_group", "register_event_loop", "broadcast"]

log = logging.getLogger(__name__)

_lock = threading.Lock()
_server_loop: asyncio.AbstractEventLoop | None = None
_broadcaster: "Broadcaster | None" = None


def execution_group(execution_id) -> str:
    """Returns the Channels group of one execution's watchers."""
    return f"execution.{execution_id}"


def register_event_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Remembers the loop the consumers run on (the in-memory layer's queues belong to it)."""
    global _server_loop
    with _lock:
        _server_loop = loop


def broadcast(group: str, message: dict) -> None:
    """Sends `message` to `group` from any thread, in call order, without waiting.

    The in-memory layer's queues belong to the loop its consumers run on, so the send is handed to
    that loop; with no consumer yet in this process nobody can be listening. Other layers (Redis)
    are sent to by this process's broadcaster thread, one message after the other."""
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        loop = _server_loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(layer.group_send(group, message))
        else:
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        return
    _the_broadcaster().put((layer, group, message))


class Broadcaster:
    """A daemon thread with its own event loop that sends group messages in order (one layer
    connection for the whole process, instead of a loop and a connection per call)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.pending: asyncio.Queue = asyncio.Queue()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._send_all(),),
                                       name="flowbench-broadcaster", daemon=True)
        self.thread.start()

    def put(self, item) -> None:
        self.loop.call_soon_threadsafe(self.pending.put_nowait, item)

    async def _send_all(self) -> None:
        while True:
            layer, group, message = await self.pending.get()
            try:
                await layer.group_send(group, message)
            except Exception as exc:   # the layer is down: the database has every event
                log.warning("could not broadcast to %s: %s", group, exc)


def _the_broadcaster() -> Broadcaster:
    global _broadcaster
    with _lock:
        if _broadcaster is None:
            _broadcaster = Broadcaster()
        return _broadcaster
