"""WebSocket URLs."""

from django.urls import path

from editor.consumers import DeployLogConsumer, ExecutionConsumer, InvocationLogConsumer

websocket_urlpatterns = [
    path("ws/functions/<str:name>/invocations/<str:invocation_id>/", InvocationLogConsumer.as_asgi()),
    path("ws/executions/<str:execution_id>/", ExecutionConsumer.as_asgi()),
    path("ws/functions/<str:name>/deploy/", DeployLogConsumer.as_asgi()),
]
