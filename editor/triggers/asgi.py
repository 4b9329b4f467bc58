"""The HTTP door of triggers, in front of Django: requests to a function URL or an HTTP API are
answered here, whole, and everything else goes on to the studio and the AWS API.

It sits in front of Django rather than in its middleware because an endpoint's response is the
function's: several Set-Cookie lines, any header, no session, CSRF or sign-in; and because a body
over the limit is refused before it is read. DOORS is the table of endpoint kinds: each row's
`match(host, raw_path)` says whether a request is its (and returns what it needs to answer), its
`answer(request, found, source_ip=..., protocol=...)` answers it on a worker thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from asgiref.sync import ThreadSensitiveContext, sync_to_async

from editor.aws.http import Request
from editor.triggers import function_urls, http_apis
from editor.triggers.http_events import Answer, message_answer

__all__ = ["HttpTriggers", "Door", "DOORS"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Door:
    """One kind of endpoint: how it knows its requests, answers them, and refuses a body over its limit."""

    name: str
    match: Callable[[str, str], Any]
    answer: Callable[..., Answer]
    body_limit: int
    too_large: Callable[[], Answer]


DOORS: list[Door] = [
    Door("function URL", function_urls.match, function_urls.answer, function_urls.BODY_LIMIT,
         function_urls.too_large),
    Door("HTTP API", http_apis.match, http_apis.answer, http_apis.BODY_LIMIT, http_apis.too_large),
]


def _header_lines(scope) -> list[tuple[str, str]]:
    return [(n.decode("latin-1").lower(), v.decode("latin-1")) for n, v in scope.get("headers", [])]


def _headers(scope) -> dict[str, str]:
    """Returns the request's headers, names lowercased, repeated ones joined as HTTP joins them."""
    found: dict[str, str] = {}
    for name, value in _header_lines(scope):
        if name in found:
            found[name] = f"{found[name]}{'; ' if name == 'cookie' else ','}{value}"
        else:
            found[name] = value
    return found


def _answer_on_thread(door: Door, request: Request, found, where: dict) -> Answer:
    from django.db import close_old_connections

    close_old_connections()
    try:
        return door.answer(request, found, **where)
    except Exception:
        log.exception("the %s request %s %s failed", door.name, request.method, request.raw_path)
        return message_answer(500, "Internal Server Error", error_type="ServiceException")
    finally:
        close_old_connections()


class HttpTriggers:
    """ASGI middleware: answers the requests a door matches, hands the rest to `app`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else scope["path"]
        for door in DOORS:
            found = door.match(headers.get("host", ""), raw_path.split("?")[0])
            if found is not None:
                return await self._serve(door, found, scope, receive, send, headers, raw_path)
        return await self.app(scope, receive, send)

    async def _serve(self, door: Door, found, scope, receive, send, headers, raw_path) -> None:
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > door.body_limit:
                await _send(send, door.too_large())
                return
        request = Request(method=scope["method"], path=scope["path"], raw_path=raw_path.split("?")[0],
                          raw_query=scope.get("query_string", b"").decode("latin-1"), headers=headers,
                          body=bytes(body), header_lines=_header_lines(scope))
        client = scope.get("client") or ("", 0)
        where = {"source_ip": client[0] or "", "protocol": f"HTTP/{scope.get('http_version', '1.1')}"}
        # A thread of the request's own, as Django gives each request: a function that runs for
        # minutes holds only it, never a thread of a shared pool.
        async with ThreadSensitiveContext():
            answer = await sync_to_async(_answer_on_thread)(door, request, found, where)
        await _send(send, answer, head=scope["method"] == "HEAD")


async def _send(send, answer: Answer, *, head: bool = False) -> None:
    # The length is the body's own: a function's Content-Length or Transfer-Encoding is dropped.
    headers = [(k.encode("latin-1", "replace"), v.encode("latin-1", "replace")) for k, v in answer.headers
               if k.lower() not in ("content-length", "transfer-encoding")]
    headers.append((b"Content-Length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else answer.body})
