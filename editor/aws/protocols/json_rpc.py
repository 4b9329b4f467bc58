"""AWS's JSON protocol (1.0 and 1.1): POST / with `X-Amz-Target: <targetPrefix>.<Operation>` and
the input structure as a JSON body; the output is a JSON body, an error is
`{"__type": code, "message": ...}` with the code in `x-amzn-ErrorType` too. Step Functions speaks
JSON 1.0."""

from __future__ import annotations

from botocore.model import OperationModel

from editor.aws.errors import AwsError
from editor.aws.http import Request, Response
from editor.aws.protocols.base import Protocol, json_bytes, read_json_object, to_json
from editor.aws.shapes import read_input
from editor.aws.specs import ServiceSpec


class JsonProtocol(Protocol):
    name = "json"
    family = "json"

    def operation(self, spec: ServiceSpec, request: Request) -> OperationModel:
        target = request.headers.get("x-amz-target", "")
        prefix, _, name = target.rpartition(".")
        found = spec.operation(name) if prefix == spec.target_prefix and request.method == "POST" else None
        if found is None:
            raise self.unknown_operation(spec, name or target)
        return found

    def parse(self, spec: ServiceSpec, operation: OperationModel, request: Request) -> dict:
        return read_input(operation.input_shape, read_json_object(request.body))

    def _content_type(self, spec: ServiceSpec) -> str:
        return f"application/x-amz-json-{spec.model.metadata.get('jsonVersion', '1.0')}"

    def serialize(self, spec, operation, result, request_id) -> Response:
        body = to_json(operation.output_shape, result or {}) if operation.output_shape is not None else {}
        return Response(200, {"Content-Type": self._content_type(spec), "x-amzn-RequestId": request_id},
                        json_bytes(body))

    def serialize_error(self, spec, error: AwsError, request_id) -> Response:
        code, status = error.resolve(self.family)
        body = {"__type": code, "message": error.message, **error.fields}
        return Response(status, {"Content-Type": self._content_type(spec), "x-amzn-RequestId": request_id,
                                 "x-amzn-ErrorType": code}, json_bytes(body))
