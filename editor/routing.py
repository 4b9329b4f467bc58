"""WebSocket URLs."""

from django.urls import path

from editor.consumers import ExecutionConsumer, InvocationLogConsumer

websocket_urlpatterns = [
    path("ws/functions/<str:name>/invocations/<str:invocation_id>/", InvocationLogConsumer.as_asgi()),
    path("ws/executions/<str:execution_id>/", ExecutionConsumer.as_asgi()),
]
