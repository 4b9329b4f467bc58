"""What the REST protocols (REST-JSON, REST-XML) share: members located in the URI, the query
string and headers, read from a request and written to a response.

    value = located_input(member, name, request, labels)   # NOT_LOCATED for a body member
    headers, status, body_members = located_output(output_shape, result)
"""

from __future__ import annotations

from typing import Any

from botocore.model import Shape

from editor.aws.http import Request
from editor.aws.protocols.base import header_text

__all__ = ["NOT_LOCATED", "located_input", "located_output"]

NOT_LOCATED = object()


def located_input(member: Shape, name: str, request: Request, labels: dict[str, str]) -> Any:
    """Returns the text (or list, or map of texts) the request carries for `member` in its URI
    labels, query string or headers, None when it carries none; NOT_LOCATED for a member of the
    body."""
    location = member.serialization.get("location")
    wire = member.serialization.get("name", name)
    if location == "uri":
        return labels.get(wire.rstrip("+")) or None
    if location == "querystring":
        if member.type_name == "list":
            return [v for k, v in request.query if k == wire] or None
        if member.type_name == "map":
            return dict(request.query) or None
        return request.query_dict.get(wire)
    if location == "header":
        return request.headers.get(wire.lower())
    if location == "headers":
        prefix = wire.lower()
        return {k[len(prefix):]: v for k, v in request.headers.items() if k.startswith(prefix)} or None
    return NOT_LOCATED


def located_output(shape: Shape, result: dict) -> tuple[dict[str, str], int | None, dict]:
    """Returns the headers and the status code the result's located members write, and its
    other members (the body's) by name."""
    headers: dict[str, str] = {}
    status = None
    rest = {}
    for name, member in shape.members.items():
        value = result.get(name)
        if value is None:
            continue
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "header":
            headers[wire] = header_text(member, value)
        elif location == "headers":
            headers.update({f"{wire}{k}": str(v) for k, v in value.items()})
        elif location == "statusCode":
            status = int(value)
        else:
            rest[name] = value
    return headers, status, rest
