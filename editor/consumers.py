"""Live streams. InvocationLogConsumer: the log lines of one function invocation as it runs.
ExecutionConsumer: the history events of one execution, caught up from the database, then live.

The page opens /ws/functions/<name>/invocations/<uuid>/ with an id it made up, waits for `ready`,
then POSTs the test with that id: no line can be sent before the socket has joined the group.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db.models import Max

from editor import messages
from editor.models import Execution, ExecutionEvent, Function, Invocation
from editor.services.broadcast import execution_group, register_event_loop
from editor.services.invocations import invocation_group
from editor.services.packages import deploy_group

CATCH_UP_BATCH = 500


async def refuse(consumer, code: int) -> None:
    """Ends a socket with our close code (4401 not signed in, 4404 unknown or not yours, 4429 too
    many open): the handshake is accepted first, since a server that refuses it can only answer
    HTTP 403 and the page would not know to stop reconnecting."""
    await consumer.accept()
    await consumer.close(code=code)
# What a client may send is one small subscribe message: anything longer is refused unread.
CLIENT_MESSAGE_LIMIT = 4096


class DirectDispatch:
    """Hands each message straight to its handler.

    Channels' own dispatch first closes the stale database connections of its one sync thread,
    a round trip to that thread for every message: with 50 watchers, 50 of them one after the
    other for each batch of events, each waiting for the GIL behind the executor's threads.
    These consumers never query on the event loop: every query runs in database_sync_to_async,
    which closes stale connections around it."""

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


@database_sync_to_async
def _function_of(user, name: str, invocation_id: uuid.UUID):
    """Returns the user's function's id if the invocation id is free or belongs to it, else None."""
    function = Function.objects.filter(owner=user, name=name).only("id").first()
    if function is None:
        return None
    taken = Invocation.objects.filter(id=invocation_id).exclude(function=function).exists()
    return None if taken else function.pk


class OneWayStreamConsumer(DirectDispatch, AsyncJsonWebsocketConsumer):
    """A one-way stream of a group to a signed-in person: `subscription` finds the group the URL
    names among the person's things (None: 4404) and the `ready` message sent once it is joined;
    anything the browser sends (text, binary, empty) is ignored."""

    group = None

    async def subscription(self, user, kwargs) -> tuple[str, dict] | None:
        raise NotImplementedError

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await refuse(self, 4401)
            return
        found = await self.subscription(user, self.scope["url_route"]["kwargs"])
        if found is None:
            await refuse(self, 4404)
            return
        self.group, ready = found
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(ready)

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        return


class InvocationLogConsumer(OneWayStreamConsumer):
    async def subscription(self, user, kwargs):
        try:
            invocation_id = uuid.UUID(kwargs["invocation_id"])
        except ValueError:
            return None
        function_id = await _function_of(user, kwargs["name"], invocation_id)
        if function_id is None:
            return None
        return invocation_group(function_id, invocation_id), messages.ready(invocation_id)

    async def invocation_start(self, event):
        await self.send_json(messages.to_client(event))

    async def invocation_log(self, event):
        await self.send_json(messages.to_client(event))

    async def invocation_end(self, event):
        await self.send_json(messages.to_client(event))


@database_sync_to_async
def _own_function_id(user, name: str):
    function = Function.objects.filter(owner=user, name=name).only("id").first()
    return None if function is None else function.pk


class DeployLogConsumer(OneWayStreamConsumer):
    """The install log of the user's function's Deploys, line by line as pip or npm prints it.
    The page opens it, waits for `ready`, then POSTs the Deploy (editor.messages: DEPLOY_FIELDS)."""

    async def subscription(self, user, kwargs):
        function_id = await _own_function_id(user, kwargs["name"])
        if function_id is None:
            return None
        return deploy_group(function_id), {"type": "ready"}

    async def deploy_log(self, event):
        await self.send_json(messages.deploy_to_client(event))

    async def deploy_end(self, event):
        await self.send_json(messages.deploy_to_client(event))


@database_sync_to_async
def _owned_execution(user, execution_id: uuid.UUID):
    return Execution.objects.filter(pk=execution_id, machine__owner=user).values_list("pk", flat=True).first()


@database_sync_to_async
def _catch_up(execution_id, after: int):
    """Returns the stored events after `after` (in id order), the execution's status now and the
    id of its last stored event (0 for none)."""
    rows = [row.as_event() for row in
            ExecutionEvent.objects.filter(execution_id=execution_id, event_id__gt=after).order_by("event_id")]
    execution = Execution.objects.get(pk=execution_id)
    if rows:
        last = rows[-1]["id"]
    else:
        last = ExecutionEvent.objects.filter(execution_id=execution_id).aggregate(last=Max("event_id"))["last"] or 0
    return rows, messages.status_of(execution), last


class OpenSockets:
    """How many execution sockets each user holds open in this process, capped.

    A subscribe costs its catch-up (up to every event of the execution) in this process's send
    buffers until the client reads it, and a client that never reads never frees it: the cap
    bounds what one user can make one web process hold. Consumers run on the server's one event
    loop, so the counts need no lock.
    """

    def __init__(self):
        self.counts: Counter = Counter()

    def take(self, user_id) -> bool:
        """Counts one more socket for the user; returns False (counting nothing) at the cap."""
        if self.counts[user_id] >= settings.FLOWBENCH_EXECUTION_SOCKETS_PER_USER:
            return False
        self.counts[user_id] += 1
        return True

    def release(self, user_id) -> None:
        self.counts[user_id] -= 1
        if self.counts[user_id] <= 0:
            del self.counts[user_id]


open_sockets = OpenSockets()


class ExecutionConsumer(DirectDispatch, AsyncJsonWebsocketConsumer):
    """/ws/executions/<id>/: the owner's execution's events, each exactly once, in order.

    Closes with 4401 (not signed in), 4404 (no such execution of yours: unknown and another
    user's look the same, so the code says nothing of what others have) or 4429 (the user holds
    FLOWBENCH_EXECUTION_SOCKETS_PER_USER sockets in this process already). A socket answers one
    subscribe; the protocol is in editor/messages.py.

    The socket joins the group at connect, before any query. Channels hands this consumer one
    message at a time, so live events that arrive while a subscribe's catch-up query runs wait in
    the channel until the catch-up is sent; the consumer then forwards only ids above the last one
    sent. An event is stored before it is sent, so one sent before the subscribe is in the catch-up.
    """

    group = None
    execution_id = None   # None on a refused socket: whatever it receives is ignored
    counted_user = None   # the user this socket counts against while it is open
    last_sent = None   # None until the client subscribes
    last_status = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await refuse(self, 4401)
            return
        try:
            execution_id = uuid.UUID(self.scope["url_route"]["kwargs"]["execution_id"])
        except ValueError:
            await refuse(self, 4404)
            return
        if await _owned_execution(user, execution_id) is None:
            await refuse(self, 4404)
            return
        if not open_sockets.take(user.pk):
            await refuse(self, 4429)
            return
        self.counted_user = user.pk
        register_event_loop(asyncio.get_running_loop())
        self.execution_id = execution_id
        self.group = execution_group(execution_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.counted_user is not None:
            open_sockets.release(self.counted_user)
            self.counted_user = None
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        message, error = messages.parse_client_message(content)
        if error is None and self.last_sent is not None:
            error = messages.client_error(
                "AlreadySubscribed", "This socket is subscribed already: open a new one to start over.", "type")
        if error is not None:
            await self.send_json(error)
            return
        after = message["after"]
        rows, status, last = await _catch_up(self.execution_id, after)
        if after > last:
            # Events above `last` do not exist yet: skipping them when they come would lose them.
            await self.send_json(messages.client_error(
                "OutOfRange", f"after is at most {last}, the id of the execution's last event.", "after"))
            return
        for start in range(0, max(len(rows), 1), CATCH_UP_BATCH):
            await self.send_json(messages.events(rows[start:start + CATCH_UP_BATCH]))
        self.last_sent = rows[-1]["id"] if rows else after
        self.last_status = status
        if status["status"] != "RUNNING":
            await self._send_what_the_layer_dropped()
        await self.send_json(messages.execution_status(status))

    async def _send_what_the_layer_dropped(self):
        """At the end, sends the stored events after the last one sent: events whose messages the
        layer dropped (a full channel, a layer restart) come from the database, since no later
        event will reveal the gap."""
        rows, _, _ = await _catch_up(self.execution_id, self.last_sent)
        if rows:
            await self.send_json(messages.events(rows))
            self.last_sent = rows[-1]["id"]

    @classmethod
    async def encode_json(cls, content):
        return messages.encode(content)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.execution_id is None:
            return   # a refused socket: its close is under way
        # A binary or empty frame is a message without JSON: answered with an error like any other.
        if text_data and len(text_data) > CLIENT_MESSAGE_LIMIT:
            await self.send_json(messages.client_error(
                "MessageTooLarge", f"A message is at most {CLIENT_MESSAGE_LIMIT} characters.", None))
            return
        await self.receive_json(await self.decode_json(text_data) if text_data else None)

    async def decode_json(self, text_data):
        import json

        try:
            return json.loads(text_data)
        except (ValueError, RecursionError):
            return None

    async def execution_events(self, group_message):
        last = group_message["last"]
        if self.last_sent is None or last <= self.last_sent:
            return   # before the subscribe (the catch-up has it) or already sent
        if group_message["first"] == self.last_sent + 1:
            # The next events: their frame as the checkpoint encoded it for every watcher.
            await self.send(text_data=group_message["frame"])
            self.last_sent = last
            return
        # A gap: this socket's channel dropped a message (the layer's capacity, a layer restart):
        # fetch what is missing from the database instead of skipping it. (A batch is one
        # transaction, so a catch-up holds all of it or none.)
        rows, _, _ = await _catch_up(self.execution_id, self.last_sent)
        fresh = [row for row in rows if row["id"] <= last]
        if fresh:
            await self.send_json(messages.events(fresh))
            self.last_sent = fresh[-1]["id"]

    async def execution_status(self, group_message):
        status = group_message["execution"]
        if self.last_sent is None or status == self.last_status:
            return   # before the subscribe, or the catch-up already said so
        self.last_status = status
        if status["status"] != "RUNNING":
            await self._send_what_the_layer_dropped()
        await self.send_json(messages.execution_status(status))
