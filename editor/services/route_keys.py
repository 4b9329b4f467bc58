"""HTTP API route keys: parsed once, matched against requests as API Gateway picks a route.

    parse_route_key("GET /items/{id}")   -> RouteKey(method="GET", segments=("items", "{id}"))
    select([(key, route), ...], "GET", "/items/42") -> (route, {"id": "42"}) or None

A key is `$default` or `METHOD /path` (METHOD one of GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS
or ANY); a path segment is literal, `{name}` (one segment) or, last only, `{name+}` (the rest of
the path, one segment at least). The most specific route wins: no greedy variable before one, more
literal segments, more segments, a method before ANY; `$default` takes what none matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["RouteKey", "parse_route_key", "select", "METHODS"]

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY")
_VARIABLE = re.compile(r"^\{([A-Za-z0-9._-]+)(\+?)\}$")


@dataclass(frozen=True)
class RouteKey:
    text: str
    method: str | None = None      # None: $default
    segments: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.method is None

    @property
    def greedy(self) -> bool:
        return bool(self.segments) and self.segments[-1].endswith("+}")

    def rank(self) -> tuple:
        literals = sum(1 for s in self.segments if not s.startswith("{"))
        return (self.greedy, -literals, -len(self.segments), self.method == "ANY")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Returns the path parameters when `method path` takes this route, else None."""
        if self.method is None or self.method not in ("ANY", method):
            return None
        parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            variable = _VARIABLE.match(segment)
            if variable and variable.group(2):
                rest = parts[index:]
                if not rest:
                    return None
                params[variable.group(1)] = "/".join(rest)
                return params
            if index >= len(parts):
                return None
            if variable:
                params[variable.group(1)] = parts[index]
            elif segment != parts[index]:
                return None
        return params if len(parts) == len(self.segments) else None


def parse_route_key(text) -> RouteKey:
    """Returns the parsed key; raises ValueError saying what is wrong with it."""
    if text == "$default":
        return RouteKey(text)
    if not isinstance(text, str) or " " not in text:
        raise ValueError(f"Route key {text!r} is not $default or \"METHOD /path\".")
    method, _, path = text.partition(" ")
    if method not in METHODS:
        raise ValueError(f"Route key {text!r}: {method} is not one of {', '.join(METHODS)}.")
    if not path.startswith("/"):
        raise ValueError(f"Route key {text!r}: the path must start with /.")
    segments = tuple(s for s in path.strip("/").split("/") if s) if path.strip("/") else ()
    for index, segment in enumerate(segments):
        variable = _VARIABLE.match(segment)
        if "{" in segment or "}" in segment:
            if not variable:
                raise ValueError(f"Route key {text!r}: {segment} is not a path variable {{name}} or {{name+}}.")
            if variable.group(2) and index != len(segments) - 1:
                raise ValueError(f"Route key {text!r}: a greedy variable {segment} must be the last segment.")
    return RouteKey(text, method, segments)


def select(routes, method: str, path: str):
    """Returns (the item, path parameters) of the (RouteKey, item) pair that takes the request,
    the `$default` one when no other does, or None."""
    default = None
    for key, item in sorted(routes, key=lambda pair: pair[0].rank()):
        if key.is_default:
            default = item
            continue
        params = key.match(method, path)
        if params is not None:
            return item, params
    return (default, {}) if default is not None else None
