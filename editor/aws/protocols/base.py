"""What a protocol family does, and the JSON writing the JSON protocols share.

A Protocol finds the operation a request calls, reads its parameters (driven by the operation's
input shape), and writes a result or an AwsError back (driven by the output and error shapes).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

from botocore.model import OperationModel, Shape

from editor.aws.errors import AwsError, refusal
from editor.aws.http import Request, Response
from editor.aws.specs import ServiceSpec


class Protocol:
    """One wire protocol (botocore's `metadata.protocol`): subclasses fill in the four steps."""

    name = ""
    family = "json"   # which codes the generic refusals take (editor.aws.errors.KINDS)

    def operation(self, spec: ServiceSpec, request: Request) -> OperationModel:
        """Returns the operation the request calls; raises the unknown-operation refusal."""
        raise NotImplementedError

    def parse(self, spec: ServiceSpec, operation: OperationModel, request: Request) -> dict:
        """Returns the operation's parameters read from the request, by its input shape."""
        raise NotImplementedError

    def serialize(self, spec: ServiceSpec, operation: OperationModel, result: dict, request_id: str) -> Response:
        raise NotImplementedError

    def serialize_error(self, spec: ServiceSpec, error: AwsError, request_id: str) -> Response:
        raise NotImplementedError

    def unknown_operation(self, spec: ServiceSpec, name: str) -> AwsError:
        return refusal("unknown_operation",
                       f"{name or 'The request'} is not an operation of {spec.model.service_name}.")


def timestamp(value: Any, fmt: str) -> Any:
    """Returns the datetime `value` written as `fmt` ("unixTimestamp", "iso8601", "rfc822")."""
    if not isinstance(value, datetime):
        return value
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if fmt == "unixTimestamp":
        return round(value.timestamp(), 3)
    if fmt == "rfc822":
        return format_datetime(value.astimezone(timezone.utc), usegmt=True)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def header_text(shape: Shape, value: Any) -> str:
    """Returns `value` written as a REST protocol writes the header of `shape` (timestamps in RFC 822)."""
    if shape.type_name == "timestamp":
        return timestamp(value, shape.serialization.get("timestampFormat", "rfc822"))
    if shape.type_name == "boolean":
        return "true" if value else "false"
    return str(value)


def to_json(shape: Shape | None, value: Any, default_timestamps: str = "unixTimestamp") -> Any:
    """Returns `value` as the JSON the shape says: members under their wire names, timestamps as
    the protocol writes them, blobs in base64; members set to None are left out."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return value
        found = {}
        for name, member in shape.members.items():
            if value.get(name) is not None and "location" not in member.serialization:
                found[member.serialization.get("name", name)] = to_json(member, value[name], default_timestamps)
        return found
    if kind == "list":
        return [to_json(shape.member, item, default_timestamps) for item in value]
    if kind == "map":
        return {key: to_json(shape.value, item, default_timestamps) for key, item in value.items()}
    if kind == "timestamp":
        return timestamp(value, shape.serialization.get("timestampFormat", default_timestamps))
    if kind == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    return value


def from_json(shape: Shape | None, value: Any) -> Any:
    """Returns JSON `value` with the members of its structures under their member names (the
    inverse of to_json's naming: apigatewayv2 writes `allowOrigins` for AllowOrigins); values stay
    as they are, for the shape reader to check."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        found = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if wire in value:
                found[name] = from_json(member, value[wire])
        return found
    if kind == "list" and isinstance(value, list):
        return [from_json(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: from_json(shape.value, item) for key, item in value.items()}
    return value


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_json_object(body: bytes) -> dict:
    """Returns the JSON object a body holds ({} for no body); refuses anything else as AWS does."""
    if not body.strip():
        return {}
    try:
        found = json.loads(body)
    except (ValueError, RecursionError):
        raise refusal("malformed", "The request body is not valid JSON.") from None
    if not isinstance(found, dict):
        raise refusal("malformed", "The request body must be a JSON object.")
    return found
