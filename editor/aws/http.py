"""The HTTP request and response the protocol layer sees: plain data, no Django in them, so parsers
and serializers are tested on requests botocore itself prepared.

    Request.from_django(request, body)   -> Request (method, paths, query, headers, body)
    Response(status, headers, body).as_django() -> HttpResponse
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Iterator
from functools import cached_property
from urllib.parse import parse_qsl, quote


@dataclass
class Request:
    """An HTTP request: `path` decoded, `raw_path` as the client sent it (SigV4 signs that),
    `query` the decoded pairs of `raw_query`, `headers` with lowercase names."""

    method: str
    path: str
    raw_path: str = ""
    raw_query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Each header line as it came ((name lowercased, value)), when the server kept them: what an
    # event that lists a repeated header's values apart (payload format 1.0) reads.
    header_lines: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self):
        self.headers = {k.lower(): v for k, v in self.headers.items()}
        if not self.raw_path:
            # What botocore would have sent for this path (it percent-encodes all but / and ~).
            self.raw_path = quote(self.path, safe="/~")

    @cached_property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.raw_query, keep_blank_values=True)

    @cached_property
    def query_dict(self) -> dict[str, str]:
        return dict(self.query)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @cached_property
    def form(self) -> dict[str, str]:
        """Returns the form-encoded body's fields (the Query protocol's parameters), else {}."""
        if self.content_type != "application/x-www-form-urlencoded":
            return {}
        try:
            return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return {}

    @classmethod
    def from_django(cls, request, body: bytes) -> Request:
        scope = getattr(request, "scope", None) or {}
        raw_path = scope.get("raw_path")
        return cls(method=request.method, path=request.path,
                   raw_path=raw_path.decode("latin-1") if isinstance(raw_path, bytes) else "",
                   raw_query=request.META.get("QUERY_STRING", ""),
                   headers=dict(request.headers), body=body)


async def streamed(pieces):
    """Yields the pieces of a sync iterator without blocking the event loop, so a large body
    streams rather than being read whole first. Each read runs on the request's own sync thread,
    the one its database connection belongs to (a blob kept in the database is read there)."""
    from asgiref.sync import sync_to_async

    take = sync_to_async(next, thread_sensitive=True)
    try:
        while True:
            piece = await take(pieces, None)
            if piece is None:
                return
            yield piece
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=True)()


@dataclass
class Response:
    """`body` is bytes, or an iterator of bytes streamed to the client."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterator[bytes] = b""

    def as_django(self):
        from django.http import HttpResponse, StreamingHttpResponse

        content_type = self.headers.get("Content-Type", "application/json")
        if isinstance(self.body, (bytes, bytearray)):
            response = HttpResponse(self.body, status=self.status, content_type=content_type)
        else:   # an iterator of bytes (an object's body), read a piece at a time as the client takes it
            response = StreamingHttpResponse(streamed(iter(self.body)), status=self.status, content_type=content_type)
        for name, value in self.headers.items():
            if name != "Content-Type":
                response[name] = value
        return response
