"""A WebSocket API's events as its functions get them (API Gateway's Lambda proxy events for
WebSocket routes), and what a function's result says back.

    socket_event(Socket(...), "CONNECT", "$connect", request_id=..., now=..., headers=..., query=...)
    socket_event(socket, "MESSAGE", "sendmessage", request_id=..., now=..., body="...")
    socket_event(socket, "DISCONNECT", "$disconnect", request_id=..., now=..., status_code=1000, reason="")
    accepted(result) -> whether a $connect function's result lets the client in
    reply(result)    -> the text a two-way route sends back, or None

Plain data in and out: no Django here.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["Socket", "socket_event", "accepted", "reply", "error_frame"]


@dataclass(frozen=True)
class Socket:
    """One client's connection: the ids the event's requestContext names."""

    api_id: str
    stage: str
    connection_id: str
    connected_at: datetime
    domain_name: str
    source_ip: str = ""
    user_agent: str = ""


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _headers(headers: dict[str, str]) -> tuple[dict, dict]:
    single = dict(headers)
    return single, {name: [part.strip() for part in value.split(",")] if name != "cookie" else [value]
                    for name, value in single.items()}


def _query(raw_query: str) -> tuple[dict | None, dict | None]:
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def socket_event(socket: Socket, event_type: str, route_key: str, *, request_id: str, now: datetime,
                 headers: dict[str, str] | None = None, raw_query: str = "", body: str | bytes | None = None,
                 status_code: int | None = None, reason: str = "") -> dict:
    """Returns the event of `event_type` (CONNECT, MESSAGE, DISCONNECT) for `route_key` at `now`."""
    moment = now.astimezone(timezone.utc)
    context: dict[str, Any] = {
        "routeKey": route_key, "eventType": event_type, "extendedRequestId": request_id,
        "requestTime": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"), "messageDirection": "IN",
        "stage": socket.stage, "connectedAt": _millis(socket.connected_at), "requestTimeEpoch": _millis(moment),
        "identity": {"sourceIp": socket.source_ip, "userAgent": socket.user_agent}, "requestId": request_id,
        "domainName": socket.domain_name, "connectionId": socket.connection_id, "apiId": socket.api_id,
    }
    event: dict[str, Any] = {}
    if headers is not None:
        event["headers"], event["multiValueHeaders"] = _headers(headers)
    if event_type == "CONNECT":
        single, multi = _query(raw_query)
        if single is not None:
            event["queryStringParameters"], event["multiValueQueryStringParameters"] = single, multi
    if event_type == "MESSAGE":
        context["messageId"] = uuid.uuid4().hex[:16]
    if event_type == "DISCONNECT":
        context["disconnectStatusCode"] = status_code
        context["disconnectReason"] = reason
    event["requestContext"] = context
    encoded = isinstance(body, bytes)
    if body is not None:
        event["body"] = base64.b64encode(body).decode("ascii") if encoded else body
    event["isBase64Encoded"] = encoded
    return event


def accepted(result: Any) -> bool:
    """Returns whether a $connect function's result accepts the connection: a statusCode of 2xx,
    or a result that names none."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return True
    status = result["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    return isinstance(status, int) and not isinstance(status, bool) and 200 <= status <= 299


def reply(result: Any) -> str | None:
    """Returns what a two-way route sends back for the function's result: its `body` (a proxy
    response), nothing for a proxy response without one, else the result as JSON text."""
    if isinstance(result, dict) and ("body" in result or "statusCode" in result):
        body = result.get("body")
        if body is None:
            return None
        return body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    if result is None:
        return None
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)


def error_frame(message: str, connection_id: str, request_id: str) -> str:
    """Returns API Gateway's own message to a client ("Forbidden", "Internal server error")."""
    return json.dumps({"message": message, "connectionId": connection_id, "requestId": request_id})
