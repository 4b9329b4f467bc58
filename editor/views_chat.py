"""The chat sample's room page: a small chat client of the user's chat WebSocket API."""

from __future__ import annotations

from django.shortcuts import render

from editor.samples.apps import chat


def chat_room(request):
    """The chat room (/samples/chat/room/): connects to the user's chat API stage, or says that the
    sample is not loaded and offers to load it."""
    return render(request, "samples/chat_room.html", {
        "page": "samples", "socket_url": chat.stage_url(request.user) or "", "app": chat.APP,
        "api": chat.chat_api(request.user)})
