"""A WebSocket API's client, answered: its connect (the `$connect` route's function decides
whether it comes in), its messages (routed by the API's selection expression on the JSON body,
else `$default`; a two-way route's function result is sent back) and its disconnect (the
`$disconnect` route's function is told). editor.triggers.websocket_door is the consumer that calls
these on a thread; editor.services.websocket_apis keeps the connections.

    match(host, path)                      -> (api id, "/<stage>") or None
    connect(found, headers=..., raw_query=..., source_ip=...) -> Socket, or None to refuse
    message(socket, data)                  -> the frames to send back (None: the API is gone)
    disconnect(socket, code, reason)

API Gateway's own frames are {"message": ..., "connectionId": ..., "requestId": ...}: "Forbidden"
when no route takes a message, "Internal server error" when the route's function fails or is gone.
"""

from __future__ import annotations

import logging
import uuid

from django.utils import timezone

from editor.errors import ApiError
from editor.models import ApiRoute, HttpApi, Invocation, WebSocketMessage
from editor.services import http_apis, invocations, websocket_apis
from editor.services.addresses import matcher
from editor.triggers.websocket_events import Socket, accepted, error_frame, reply, socket_event

__all__ = ["match", "connect", "message", "disconnect"]

log = logging.getLogger(__name__)

# (api id, the path under it) of a WebSocket request by its Host (<id>.execute-api.<anything>) or
# its path (/ws-api/<id>/<stage>).
match = matcher(r"[a-z0-9]{10}", "execute-api", websocket_apis.PATH_PREFIX)

_NOT_ROUTED = ("$connect", "$disconnect")   # keys a message body cannot select


def _call(api: HttpApi, route: ApiRoute, event: dict) -> tuple[bool, object]:
    """Returns (whether the route's function ran without error, its result)."""
    target = http_apis.route_function(api, route)
    if target is None:
        log.info("WebSocket API %s: the route %s has no function to call", api.api_id, route.route_key)
        return False, None
    function, version, alias = target
    try:
        invocation = invocations.invoke_function(function, event, source=Invocation.Source.WEBSOCKET_API,
                                                 version=version, alias=alias)
    except ApiError as error:
        log.info("WebSocket API %s: the route %s could not run: %s", api.api_id, route.route_key, error.message)
        return False, None
    return invocation.error is None, invocation.response


def connect(found: tuple[str, str], *, headers: dict[str, str], raw_query: str, source_ip: str) -> Socket | None:
    """Opens a connection to the API's stage that `found` names (match's) when the API, the stage
    and its `$connect` function (if any, answering 2xx) let the client in; else returns None."""
    api_id, rest = found
    stage = rest.strip("/").split("/")[0]
    api = http_apis.find_api(api_id)
    if api is None or api.protocol_type != "WEBSOCKET" or api.disable_execute_api_endpoint:
        return None
    if not stage or not api.stages.filter(name=stage).exists():
        return None
    connection = websocket_apis.open_connection(api, stage, source_ip=source_ip,
                                                user_agent=headers.get("user-agent", ""))
    socket = Socket(api_id=api.api_id, stage=stage, connection_id=connection.connection_id,
                    connected_at=connection.connected_at, domain_name=headers.get("host", ""), source_ip=source_ip,
                    user_agent=connection.user_agent)
    route = api.routes.filter(route_key="$connect").first()
    if route is not None:
        request_id = str(uuid.uuid4())
        event = socket_event(socket, "CONNECT", "$connect", request_id=request_id, now=timezone.now(),
                             headers=headers, raw_query=raw_query)
        ran, result = _call(api, route, event)
        if not ran or not accepted(result):
            websocket_apis.close_connection(connection.connection_id)
            return None
    websocket_apis.record(api.pk, socket.connection_id, WebSocketMessage.Direction.CONNECT, route_key="$connect")
    return socket


def _route(api: HttpApi, data: str | bytes) -> ApiRoute | None:
    routes = {route.route_key: route for route in api.routes.all()}
    key = websocket_apis.select_route_key(api.route_selection_expression, data)
    if key is not None and key not in _NOT_ROUTED and key in routes:
        return routes[key]
    return routes.get("$default")


def message(socket: Socket, data: str | bytes) -> list[str] | None:
    """Runs the message's route; returns the frames to send back to its client (None: the API
    was deleted, the connection ends)."""
    api = HttpApi.objects.filter(api_id=socket.api_id).first()
    if api is None:
        return None
    request_id = str(uuid.uuid4())
    route = _route(api, data)
    websocket_apis.record(api.pk, socket.connection_id, WebSocketMessage.Direction.IN,
                          route_key=route.route_key if route else "", data=data, touch_connection=True)
    if route is None:
        return [error_frame("Forbidden", socket.connection_id, request_id)]
    event = socket_event(socket, "MESSAGE", route.route_key, request_id=request_id, now=timezone.now(), body=data)
    ran, result = _call(api, route, event)
    if not ran:
        return [error_frame("Internal server error", socket.connection_id, request_id)]
    text = reply(result) if websocket_apis.is_two_way(route) else None
    if text is None:
        return []
    websocket_apis.record(api.pk, socket.connection_id, WebSocketMessage.Direction.OUT, route_key=route.route_key,
                          data=text)
    return [text]


def disconnect(socket: Socket, code: int, reason: str = "") -> None:
    """Tells the `$disconnect` function (if any) that the client left; forgets the connection."""
    websocket_apis.close_connection(socket.connection_id)
    api = HttpApi.objects.filter(api_id=socket.api_id).first()
    if api is None:
        return
    websocket_apis.record(api.pk, socket.connection_id, WebSocketMessage.Direction.DISCONNECT,
                          route_key="$disconnect")
    route = api.routes.filter(route_key="$disconnect").first()
    if route is not None:
        event = socket_event(socket, "DISCONNECT", "$disconnect", request_id=str(uuid.uuid4()), now=timezone.now(),
                             headers={"host": socket.domain_name}, status_code=code, reason=reason)
        _call(api, route, event)
