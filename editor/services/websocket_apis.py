"""API Gateway WebSocket APIs: what differs from HTTP APIs (editor.services.http_apis keeps the
API, its routes, integrations and stages for both), their live connections and the messages of
their last minutes, and the @connections management API's actions.

A WebSocket API is served on the studio's address, in two forms reaching the same stage:

    path form   ws://<studio host>/ws-api/<api-id>/<stage>
    host form   ws://<api-id>.execute-api.<host>:<port>/<stage>   (AWS: wss://<id>.execute-api.<region>.amazonaws.com/<stage>)

Each connection is a row (WebSocketConnection) naming the web process that holds it; the process
joins the Channels group `ws-connection.<connection id>`, so PostToConnection and
DeleteConnection reach the client from any process through the channel layer (Redis in the
distributed mode).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from editor.errors import ApiError
from editor.models import ApiRoute, HttpApi, WebSocketConnection, WebSocketMessage
from editor.services.addresses import path_form
from editor.services.broadcast import broadcast
from editor.services.leases import process_id
from runtime.functions.sandbox.processes import alive

__all__ = ["PATH_PREFIX", "MESSAGE_LIMIT", "DEFAULT_SELECTION", "check_selection_expression", "check_route_key",
           "select_route_key", "api_endpoint", "connection_group", "open_connection", "close_connection",
           "find_connection", "list_connections", "record", "recent_messages", "post_to_connection",
           "delete_connection", "drop_dead_connections", "create_route_response", "get_route_response",
           "delete_route_response", "is_two_way"]

PATH_PREFIX = "/ws-api/"
MESSAGE_LIMIT = 128 * 1024          # API Gateway's largest WebSocket message
DEFAULT_SELECTION = "$request.body.action"
KEEP_MESSAGES = timedelta(minutes=15)
PRUNE_SECONDS = 30.0                # how often a process forgets an API's old messages
_pruned: dict[int, float] = {}      # API pk -> when this process last did (time.monotonic())
_SELECTION = re.compile(r"^\$request\.body\.([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)$")
_ROUTE_KEY = re.compile(r"^[^\s]{1,128}$")
_EXCERPT = 500


def check_selection_expression(expression) -> str:
    """Returns the API's RouteSelectionExpression (`$request.body.<path>`, the default when None)."""
    if expression is None:
        return DEFAULT_SELECTION
    if expression == "${request.body.action}":    # the braced form AWS also takes
        expression = "$request.body.action"
    if not isinstance(expression, str) or not _SELECTION.match(expression):
        raise ApiError("BadRequest", f"RouteSelectionExpression {expression!r}: Flowbench's WebSocket APIs select "
                       "routes by a property of the JSON body, $request.body.<name>[.<name>...].",
                       field="RouteSelectionExpression")
    return expression


def check_route_key(key) -> str:
    """Returns a WebSocket route key: $connect, $disconnect, $default, or a custom key."""
    if not isinstance(key, str) or not _ROUTE_KEY.match(key) or (key.startswith("$") and key not in
                                                                 ("$connect", "$disconnect", "$default")):
        raise ApiError("BadRequest", f"Route key {key!r} is $connect, $disconnect, $default or 1 to 128 characters "
                       "without spaces (not starting with $).", field="RouteKey")
    return key


def select_route_key(expression: str, body: str | bytes) -> str | None:
    """Returns the value the selection expression names in a JSON message body (as text), or None
    when the body is not a JSON object or has no text, number or boolean there."""
    found = _SELECTION.match(expression)
    if found is None or isinstance(body, bytes):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    for name in found.group(1).split("."):
        if not isinstance(value, dict) or name not in value:
            return None
        value = value[name]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def api_endpoint(api: HttpApi) -> str:
    """Returns the WebSocket API's ApiEndpoint: its path form on the studio's address, ws:// or wss://."""
    address = path_form(PATH_PREFIX, api.api_id)
    return "ws" + address[4:] if address.startswith("http") else address


def connection_group(connection_id: str) -> str:
    return f"ws-connection.{connection_id}"


# -- route responses (two-way routes) -----------------------------------------------------------

@transaction.atomic
def create_route_response(route: ApiRoute, key) -> ApiRoute:
    if route.api.protocol_type != "WEBSOCKET":
        raise ApiError("BadRequest", "Route responses are for WebSocket APIs.", field="ApiId")
    if key != "$default":
        raise ApiError("BadRequest", "Flowbench's route responses have the key $default.", field="RouteResponseKey")
    route = ApiRoute.objects.select_for_update().get(pk=route.pk)
    if route.route_response_id:
        raise ApiError("Conflict", f"Route {route.route_id} already has a route response.", status=409)
    route.route_response_id = secrets.token_hex(3)[:6] + secrets.choice("abcdefghijklmnopqrstuvwxyz")
    route.save(update_fields=["route_response_id"])
    return route


def get_route_response(route: ApiRoute, route_response_id: str) -> ApiRoute:
    if not route.route_response_id or route.route_response_id != route_response_id:
        raise ApiError("NotFound", f"Invalid RouteResponse identifier specified {route_response_id}", status=404)
    return route


@transaction.atomic
def delete_route_response(route: ApiRoute) -> None:
    ApiRoute.objects.filter(pk=route.pk).update(route_response_id="")


def is_two_way(route: ApiRoute) -> bool:
    return bool(route.route_response_id)


# -- connections --------------------------------------------------------------------------------

def open_connection(api: HttpApi, stage: str, *, source_ip: str, user_agent: str) -> WebSocketConnection:
    """Records a new connection held by this process, with a fresh id."""
    now = timezone.now()
    while True:
        connection_id = secrets.token_urlsafe(9)
        if not WebSocketConnection.objects.filter(connection_id=connection_id).exists():
            return WebSocketConnection.objects.create(
                connection_id=connection_id, api=api, stage=stage, source_ip=source_ip[:64],
                user_agent=user_agent[:512], server=process_id(), connected_at=now, last_active_at=now)


def close_connection(connection_id: str) -> None:
    WebSocketConnection.objects.filter(connection_id=connection_id).delete()


def find_connection(user, connection_id) -> WebSocketConnection:
    """Returns `user`'s API's connection `connection_id`; GoneException (410) for any other."""
    found = WebSocketConnection.objects.select_related("api").filter(
        connection_id=connection_id, api__owner=user).first() if isinstance(connection_id, str) else None
    if found is None:
        raise ApiError("Gone", f"Connection {connection_id} is gone or was never open.", status=410)
    return found


def list_connections(api: HttpApi) -> list[WebSocketConnection]:
    return list(api.connections.order_by("connected_at", "id"))


def drop_dead_connections() -> int:
    """Removes the connections that web processes of this machine held and that are gone (a
    killed or restarted process: its pid no longer runs, or it is this process's pid again);
    returns how many."""
    host = socket.gethostname()
    mine, dead = process_id(), []
    for row in WebSocketConnection.objects.filter(server__startswith=f"{host}:").values("pk", "server"):
        if row["server"] == mine:
            continue
        pid = row["server"].split(":")[1]
        if not pid.isdigit() or int(pid) == os.getpid() or not alive(int(pid)):
            dead.append(row["pk"])
    return WebSocketConnection.objects.filter(pk__in=dead).delete()[0]


# -- messages of the last minutes ---------------------------------------------------------------

def record(api_pk: int, connection_id: str, direction: str, *, route_key: str = "", data: str | bytes = "",
           touch_connection: bool = False) -> None:
    """Keeps a message for the API's studio page (and, now and then, forgets those older than
    KEEP_MESSAGES); `touch_connection`: the message is the client's, its connection was active."""
    now = timezone.now()
    text = data if isinstance(data, str) else f"<{len(data)} bytes of binary data>"
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    with transaction.atomic():   # one commit for the message's bookkeeping
        if touch_connection:
            WebSocketConnection.objects.filter(connection_id=connection_id).update(last_active_at=now)
        WebSocketMessage.objects.create(api_id=api_pk, connection_id=connection_id, direction=direction,
                                        route_key=route_key[:128], size=size, excerpt=text[:_EXCERPT], at=now)
    if time.monotonic() - _pruned.get(api_pk, float("-inf")) >= PRUNE_SECONDS:
        _pruned[api_pk] = time.monotonic()
        WebSocketMessage.objects.filter(api_id=api_pk, at__lt=now - KEEP_MESSAGES).delete()


def recent_messages(api: HttpApi, minutes: int = 5, limit: int = 100) -> list[WebSocketMessage]:
    since = timezone.now() - timedelta(minutes=minutes)
    return list(api.socket_messages.filter(at__gte=since).order_by("-at", "-id")[:limit])


# -- the @connections management API ------------------------------------------------------------

def post_to_connection(user, connection_id, data: bytes) -> None:
    """Sends `data` to the client of `user`'s connection, wherever it is connected."""
    connection = find_connection(user, connection_id)
    if len(data) > MESSAGE_LIMIT:
        raise ApiError("PayloadTooLarge", f"The data is {len(data)} bytes, over the {MESSAGE_LIMIT} a message takes.",
                       status=413, field="Data")
    try:
        text = data.decode("utf-8")
        frame = {"type": "ws.post", "text": text}
    except UnicodeDecodeError:
        frame = {"type": "ws.post", "bytes": data}
    broadcast(connection_group(connection.connection_id), frame)
    record(connection.api_id, connection.connection_id, WebSocketMessage.Direction.OUT, data=data)


def delete_connection(user, connection_id) -> None:
    """Closes the client's connection (its $disconnect route is called as it goes)."""
    connection = find_connection(user, connection_id)
    broadcast(connection_group(connection.connection_id), {"type": "ws.drop"})
