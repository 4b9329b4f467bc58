"""AWS's Query protocol (IAM, STS): `Action=<Operation>&Version=...` and flattened parameters
(`Tags.member.1.Key=...`) in a form body or the query string; the output is XML
(`<OpResponse><OpResult>...</OpResult><ResponseMetadata><RequestId/>`), an error is
`<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape

from editor.aws.errors import AwsError, refusal
from editor.aws.http import Request, Response
from editor.aws.protocols.base import Protocol
from editor.aws.protocols.xml import xml_of
from editor.aws.shapes import read_input
from editor.aws.specs import ServiceSpec

XML = "text/xml"


def parameters(request: Request) -> dict[str, str]:
    """Returns the Query parameters: the form body's, else the query string's."""
    return request.form or request.query_dict


def _unflatten(shape: Shape, params: dict[str, str], prefix: str) -> Any:
    """Returns the value of `shape` written under `prefix` in the flat parameters, or None when
    nothing is. A structure, list or map's prefix ends with a dot ("Tags.member.1."), a scalar's
    is its whole key ("Tags.member.1.Key")."""
    kind = shape.type_name
    if kind == "structure":
        found = {}
        for name, member in shape.members.items():
            key = prefix + member.serialization.get("name", name) + ("." if _nested(member) else "")
            value = _unflatten(member, params, key)
            if value is not None:
                found[name] = value
        return found if found or not prefix else None
    if kind == "list":
        base = prefix[:-1]
        if params.get(base) == "":
            return []   # an empty list is written as `Name=`
        item = base if shape.serialization.get("flattened") else f"{base}.{shape.member.serialization.get('name', 'member')}"
        items = []
        while True:
            key = f"{item}.{len(items) + 1}" + ("." if _nested(shape.member) else "")
            value = _unflatten(shape.member, params, key)
            if value is None:
                return items or None
            items.append(value)
    if kind == "map":
        entry = prefix[:-1] if shape.serialization.get("flattened") else f"{prefix[:-1]}.entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        found = {}
        index = 1
        while f"{entry}.{index}.{key_name}" in params:
            key = f"{entry}.{index}.{value_name}" + ("." if _nested(shape.value) else "")
            found[params[f"{entry}.{index}.{key_name}"]] = _unflatten(shape.value, params, key)
            index += 1
        return found or None
    return params.get(prefix)


def _nested(shape: Shape) -> bool:
    return shape.type_name in ("structure", "list", "map")


class QueryProtocol(Protocol):
    name = "query"
    family = "query"

    def operation(self, spec: ServiceSpec, request: Request) -> OperationModel:
        action = parameters(request).get("Action", "")
        found = spec.operation(action) if request.method in ("POST", "GET") else None
        if found is None:
            raise self.unknown_operation(spec, action)
        return found

    def unknown_operation(self, spec, name):
        return refusal("unknown_operation", f"Could not find operation {name} for version "
                                            f"{spec.model.api_version}" if name else "Action is required.")

    def parse(self, spec: ServiceSpec, operation: OperationModel, request: Request) -> dict:
        shape = operation.input_shape
        if shape is None:
            return {}
        return read_input(shape, _unflatten(shape, parameters(request), ""), text=True)

    def _namespace(self, spec: ServiceSpec) -> str:
        return spec.model.metadata.get("xmlNamespace", "")

    def serialize(self, spec, operation, result, request_id) -> Response:
        name = operation.name
        shape = operation.output_shape
        inner = ""
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
            inner = f"<{wrapper}>{xml_of(shape, result or {})}</{wrapper}>"
        body = (f'<{name}Response xmlns="{self._namespace(spec)}">{inner}'
                f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>")
        return Response(200, {"Content-Type": XML, "x-amzn-RequestId": request_id}, body.encode("utf-8"))

    def serialize_error(self, spec, error: AwsError, request_id) -> Response:
        code, status = error.resolve(self.family)
        body = (f'<ErrorResponse xmlns="{self._namespace(spec)}"><Error>'
                f"<Type>{'Sender' if error.sender else 'Receiver'}</Type><Code>{escape(code)}</Code>"
                f"<Message>{escape(error.message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        return Response(status, {"Content-Type": XML, "x-amzn-RequestId": request_id}, body.encode("utf-8"))
