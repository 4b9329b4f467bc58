"""WebSocket URLs."""

from django.urls import path

from editor.consumers import InvocationLogConsumer

websocket_urlpatterns = [
    path("ws/functions/<str:name>/invocations/<str:invocation_id>/", InvocationLogConsumer.as_asgi()),
]
