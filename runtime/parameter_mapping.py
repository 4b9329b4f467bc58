"""API Gateway's parameter mapping for HTTP APIs: the RequestParameters of an AWS service
integration, each a static text or one of the request's values (or several, and text around them):

    $request.body                  the request's body as it came (text)
    $request.body.<JSONPath>       a value of its JSON body: $request.body.order.items[0].id
    $request.header.<name>         a header (repeated ones comma-joined)
    $request.querystring.<name>    a query string parameter (repeated ones comma-joined)
    $request.path.<name>           a path parameter of the route ({name} or {name+})
    $request.path                  the request's path
    $context.<name>                requestId, apiId, stage, routeKey, httpMethod, path, ...
    $stageVariables.<name>         a variable of the stage

`${...}` sets an expression apart from text around it: "order-${request.path.id}".

    check(value) -> None, or raises MappingError saying what does not read
    evaluate(value, Sources(...)) -> the text (None when the value is one expression that finds nothing)

Plain data in and out: no Django here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MappingError", "Sources", "check", "evaluate", "CONTEXT_VARIABLES"]

CONTEXT_VARIABLES = ("accountId", "apiId", "domainName", "domainPrefix", "httpMethod", "path", "protocol",
                     "requestId", "requestTime", "requestTimeEpoch", "routeKey", "stage", "identity.sourceIp",
                     "identity.userAgent")

# An expression alone or in ${...}: what follows "$" up to what cannot be part of it.
_BRACED = r"\$\{(?P<braced>[^}]*)\}"
_BARE = r"\$(?P<bare>(?:request|context|stageVariables)(?:\.[A-Za-z0-9_\-\[\]'\".*]+)?)"
_EXPRESSION = re.compile(f"{_BRACED}|{_BARE}")
_NAME = re.compile(r"^[A-Za-z0-9_\-.~!#$%&'*+^`|]+$")
_PATH_STEP = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]|\[['\"]([^'\"]+)['\"]\]")


class MappingError(ValueError):
    """A mapping value that does not read (its reason in the message)."""


@dataclass
class Sources:
    """What a request offers the mapping: its body, headers, query, path parameters, context and
    the stage's variables."""

    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    path_parameters: dict[str, str] = field(default_factory=dict)
    path: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    stage_variables: dict[str, str] = field(default_factory=dict)


def _json_path(text: str) -> list:
    """Returns the steps of a JSONPath after $request.body (".a.b[0]['c d']"); raises MappingError."""
    steps, at = [], 0
    while at < len(text):
        found = _PATH_STEP.match(text, at)
        if found is None:
            raise MappingError(f"$request.body{text} is not a JSONPath such as $request.body.name or "
                               f"$request.body.items[0].id (at character {at + 1} of the path)")
        name, index, quoted = found.groups()
        steps.append(int(index) if index is not None else (name if name is not None else quoted))
        at = found.end()
    return steps


def _parse(expression: str) -> tuple[str, Any]:
    """Returns (kind, argument) of one expression (without its $); raises MappingError."""
    if expression == "request.body":
        return "body", []
    if expression.startswith("request.body.") or expression.startswith("request.body["):
        return "body", _json_path(expression[len("request.body"):])
    if expression == "request.path":
        return "raw_path", None
    for prefix, kind in (("request.header.", "header"), ("request.querystring.", "query"),
                         ("request.path.", "path"), ("stageVariables.", "stage")):
        if expression.startswith(prefix):
            name = expression[len(prefix):]
            if not _NAME.match(name):
                raise MappingError(f"${expression} names no {kind}: write ${prefix}<name>")
            return kind, name
    if expression.startswith("context."):
        name = expression[len("context."):]
        if name not in CONTEXT_VARIABLES:
            raise MappingError(f"${expression} is not a context variable (they are "
                               f"{', '.join('$context.' + v for v in CONTEXT_VARIABLES)})")
        return "context", name
    raise MappingError(f"${expression} is not a mapping expression: use $request.body[.<JSONPath>], "
                       "$request.header.<name>, $request.querystring.<name>, $request.path.<name>, "
                       "$context.<variable> or $stageVariables.<name>")


def _pieces(value: str) -> list[tuple[str, Any] | str]:
    """Returns the value as texts and parsed expressions, in order; raises MappingError."""
    if not isinstance(value, str):
        raise MappingError("a mapping value is a text")
    pieces: list = []
    at = 0
    for found in _EXPRESSION.finditer(value):
        if found.start() > at:
            pieces.append(value[at:found.start()])
        pieces.append(_parse(found["braced"] if found["braced"] is not None else found["bare"]))
        at = found.end()
    if at < len(value):
        pieces.append(value[at:])
    return pieces


def check(value) -> None:
    """Raises MappingError when `value` is not a mapping value."""
    _pieces(value)


def _text(found: Any) -> str | None:
    if found is None:
        return None
    if isinstance(found, str):
        return found
    return json.dumps(found, ensure_ascii=False, separators=(",", ":"))


def _body_value(sources: Sources, steps: list) -> str | None:
    if not steps:
        return sources.body
    try:
        found = json.loads(sources.body or "")
    except ValueError:
        return None
    for step in steps:
        if isinstance(step, int) and isinstance(found, list) and step < len(found):
            found = found[step]
        elif isinstance(step, str) and isinstance(found, dict) and step in found:
            found = found[step]
        else:
            return None
    return _text(found)


def _value(sources: Sources, kind: str, argument) -> str | None:
    if kind == "body":
        return _body_value(sources, argument)
    if kind == "raw_path":
        return sources.path
    if kind == "header":
        return sources.headers.get(argument.lower())
    if kind == "query":
        return sources.query.get(argument)
    if kind == "path":
        return sources.path_parameters.get(argument)
    if kind == "stage":
        return sources.stage_variables.get(argument)
    found: Any = sources.context
    for part in argument.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    return _text(found)


def evaluate(value: str, sources: Sources) -> str | None:
    """Returns the text `value` maps the request to; None when it is one expression that finds
    nothing (then the parameter is left out), an expression inside text that finds nothing adds
    nothing."""
    pieces = _pieces(value)
    if len(pieces) == 1 and isinstance(pieces[0], tuple):
        return _value(sources, *pieces[0])
    return "".join(piece if isinstance(piece, str) else (_value(sources, *piece) or "") for piece in pieces)
