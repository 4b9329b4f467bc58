"""Live streams. InvocationLogConsumer: the log lines of one function invocation as it runs.

The page opens /ws/functions/<name>/invocations/<uuid>/ with an id it made up, waits for `ready`,
then POSTs the test with that id: no line can be sent before the socket has joined the group.
"""

from __future__ import annotations

import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from editor import messages
from editor.models import Function, Invocation
from editor.services.invocations import invocation_group


@database_sync_to_async
def _function_of(user, name: str, invocation_id: uuid.UUID):
    """Returns the user's function's id if the invocation id is free or belongs to it, else None."""
    function = Function.objects.filter(owner=user, name=name).only("id").first()
    if function is None:
        return None
    taken = Invocation.objects.filter(id=invocation_id).exclude(function=function).exists()
    return None if taken else function.pk


class InvocationLogConsumer(AsyncJsonWebsocketConsumer):
    group = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        kwargs = self.scope["url_route"]["kwargs"]
        try:
            invocation_id = uuid.UUID(kwargs["invocation_id"])
        except ValueError:
            await self.close(code=4404)
            return
        function_id = await _function_of(user, kwargs["name"], invocation_id)
        if function_id is None:
            await self.close(code=4404)
            return
        self.group = invocation_group(function_id, invocation_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(messages.ready(invocation_id))

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The stream is one-way; anything the browser sends is ignored.
        return

    async def invocation_start(self, event):
        await self.send_json(messages.to_client(event))

    async def invocation_log(self, event):
        await self.send_json(messages.to_client(event))

    async def invocation_end(self, event):
        await self.send_json(messages.to_client(event))
