"""AWS's REST-JSON protocol (Lambda): the operation is the HTTP method and the URI template it
matches; members come from the URI labels, the query string, headers and a JSON body (or the one
`payload` member: Invoke's raw bytes). Output members go to headers, the status code and the body
the same way; an error is `x-amzn-ErrorType: <code>` with `{"Type": "User", "message": ...}`."""

from __future__ import annotations

from botocore.model import OperationModel

from editor.aws.errors import AwsError, refusal
from editor.aws.http import Request, Response
from editor.aws.protocols.base import Protocol, from_json, header_text, json_bytes, read_json_object, to_json
from editor.aws.protocols.rest import NOT_LOCATED, located_input, located_output
from editor.aws.shapes import read_members
from editor.aws.specs import ServiceSpec


class RestJsonProtocol(Protocol):
    name = "rest-json"
    family = "json"

    def operation(self, spec: ServiceSpec, request: Request) -> OperationModel:
        found = spec.route(request.method, request.raw_path, request.query_dict.keys())
        if found is None:
            raise self.unknown_operation(spec, f"{request.method} {request.path}")
        return found[0]

    def parse(self, spec: ServiceSpec, operation: OperationModel, request: Request) -> dict:
        shape = operation.input_shape
        if shape is None:
            return {}
        _operation, labels = spec.route(request.method, request.raw_path, request.query_dict.keys())
        payload = shape.serialization.get("payload")
        body = None if payload else read_json_object(request.body)
        values: dict = {}
        for name, member in shape.members.items():
            found = located_input(member, name, request, labels)
            if found is not NOT_LOCATED:
                values[name] = (found, True)
            elif name == payload:
                values[name] = (self._payload(member, request.body), False)
            elif body is not None:
                values[name] = (from_json(member, body.get(member.serialization.get("name", name))), False)
        return read_members(shape, values)

    def _payload(self, member, body: bytes):
        if member.type_name == "blob":
            return body
        if member.type_name == "string":
            try:
                return body.decode("utf-8")
            except UnicodeDecodeError:
                raise refusal("malformed", "The request body is not UTF-8 text.") from None
        return read_json_object(body) if body.strip() else None

    def serialize(self, spec, operation, result, request_id) -> Response:
        result = result or {}
        shape = operation.output_shape
        status = operation.http.get("responseCode", 200)
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id}
        if shape is None:
            return Response(status, headers, b"" if status == 204 else b"{}")
        payload = shape.serialization.get("payload")
        located, written_status, _body = located_output(shape, result)
        headers.update(located)
        status = written_status or status
        if payload:
            member, value = shape.members[payload], result.get(payload)
            if member.type_name == "blob":
                body = value if isinstance(value, bytes) else (value or "").encode()
            elif member.type_name == "string":
                body = (value or "").encode("utf-8")
            else:
                body = json_bytes(to_json(member, value)) if value is not None else b""
        else:
            body = json_bytes(to_json(shape, result))
        return Response(status, headers, b"" if status == 204 else body)

    def serialize_error(self, spec, error: AwsError, request_id) -> Response:
        code, status = error.resolve(self.family)
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id, "x-amzn-ErrorType": code}
        body = {"Type": "User" if error.sender else "Server", "message": error.message}
        shape = spec.model.shape_for(code) if code in spec.model.shape_names else None
        for name, value in error.fields.items():
            member = shape.members.get(name) if shape is not None else None
            if member is not None and member.serialization.get("location") == "header":
                headers[member.serialization.get("name", name)] = header_text(member, value)
            else:
                body[name] = value
        return Response(status, headers, json_bytes(body))
