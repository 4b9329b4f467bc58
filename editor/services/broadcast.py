"""Sending to Channels groups from any thread: how execution events and statuses reach the pages
watching them.

A send never waits and never fails the caller: a layer that is down (Redis restarting) loses the
message, never the run, and watchers catch up from the database (editor.consumers).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Callable

from channels.layers import InMemoryChannelLayer, get_channel_layer

__all__ = ["execution_group", "register_event_loop", "broadcast", "wait_for_group"]

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


def wait_for_group(group: str, wanted: Callable[[dict], bool], done: Callable[[], bool], timeout: float) -> bool:
    """Waits, at most `timeout` seconds, until `group` receives a message `wanted` accepts or
    `done()` (a database check, run on the calling thread) is true; returns whether one was.

    `done` is asked once the group is joined (nothing sent before is missed) and after every
    second without a wanted message (a send may be lost: the layer is down). The in-memory
    layer is listened to on the loop its consumers run on; with no such loop in this process
    (no server: a script, a test) `done` is asked every 50 ms instead."""
    deadline = time.monotonic() + timeout
    layer = get_channel_layer()
    run = _runner(layer)
    if run is None:
        pause = threading.Event()
        while not done():
            if time.monotonic() >= deadline:
                return False
            pause.wait(0.05)
        return True
    channel = run(layer.new_channel())
    run(layer.group_add(group, channel))
    try:
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            while True:
                try:
                    message = run(asyncio.wait_for(layer.receive(channel), min(1.0, remaining)))
                except asyncio.TimeoutError:
                    break
                if wanted(message):
                    return True
    finally:
        try:
            run(layer.group_discard(group, channel))
        except Exception as exc:   # the layer went down meanwhile: its group entry expires
            log.warning("could not leave %s: %s", group, exc)
    return True


def _runner(layer):
    """Returns how to run one of `layer`'s coroutines from a thread and get its result, or None."""
    if layer is None:
        return None
    if isinstance(layer, InMemoryChannelLayer):
        loop = _server_loop
        if loop is None or loop.is_closed() or not loop.is_running():
            return None
        try:
            if asyncio.get_running_loop() is loop:
                return None   # called on the server's own loop: it cannot block it
        except RuntimeError:
            pass
        # (Every coroutine given is bounded: a receive by its wait_for, the others answer at once.)
        return lambda coroutine: asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=30)
    from asgiref.sync import async_to_sync

    async def _await(coroutine):
        return await coroutine

    return lambda coroutine: async_to_sync(_await)(coroutine)
