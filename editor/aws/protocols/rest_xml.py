"""AWS's REST-XML protocol as S3 speaks it: the operation is the HTTP method, whether the request
names a bucket and a key (editor.aws.addressing: path or virtual-host style), the query keys of
its URI template (`?uploads`, `?list-type=2`) and the query and header members it requires
(`uploadId`, `x-amz-copy-source`): PUT /b/k is PutObject, with `x-amz-copy-source` CopyObject,
with `partNumber` and `uploadId` UploadPart.

Members come from the URI, the query string, headers (`x-amz-meta-*` as a map) and the payload:
raw bytes (PutObject's Body) or an XML document (DeleteObjects' <Delete>). Output members go to
headers and the payload (GetObject's Body, which may be an iterator of bytes: the response
streams it) or an XML document. An error is
`<Error><Code/><Message/><RequestId/></Error>` with S3's status.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape

from editor.aws.addressing import Address, address_of
from editor.aws.errors import AwsError, refusal
from editor.aws.http import Request, Response
from editor.aws.protocols.base import Protocol
from editor.aws.protocols.rest import NOT_LOCATED, located_input, located_output
from editor.aws.protocols.xml import xml_of
from editor.aws.shapes import read_members
from editor.aws.specs import ServiceSpec

XML = "application/xml"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# The root elements S3 writes, by output shape (botocore reads any root; people read these).
ROOTS = {
    "ListObjectsV2Output": "ListBucketResult", "ListObjectsOutput": "ListBucketResult",
    "ListBucketsOutput": "ListAllMyBucketsResult", "CreateMultipartUploadOutput": "InitiateMultipartUploadResult",
    "CompleteMultipartUploadOutput": "CompleteMultipartUploadResult", "DeleteObjectsOutput": "DeleteResult",
    "ListPartsOutput": "ListPartsResult", "ListMultipartUploadsOutput": "ListMultipartUploadsResult",
}
# Outputs S3 writes as one element holding a member's text (`<LocationConstraint>eu-west-1</..>`).
TEXT_ROOTS = {"GetBucketLocationOutput": "LocationConstraint"}
# Operations S3 still answers beside the newer one on the same request (the older is deprecated).
_PREFERRED = {"ListBuckets"}


def _level(operation: OperationModel) -> str:
    uri = operation.http.get("requestUri", "/")
    return "object" if "{Key+}" in uri else "bucket" if "{Bucket}" in uri else "service"


def _required_locations(operation: OperationModel) -> tuple[set[str], set[str]]:
    """Returns the query keys and header names (lower case) the operation's input requires."""
    shape = operation.input_shape
    query, headers = set(), set()
    if shape is None:
        return query, headers
    for name in shape.required_members:
        member = shape.members[name]
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "querystring":
            query.add(wire)
        elif location == "header":
            headers.add(wire.lower())
    return query, headers


def _text_of(element: ElementTree.Element) -> str:
    return element.text or ""


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def from_xml(shape: Shape, element: ElementTree.Element) -> Any:
    """Returns the value `element` holds as `shape`, scalars as text (read by their shapes later)."""
    kind = shape.type_name
    if kind == "structure":
        found = {}
        children = list(element)
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            matching = [child for child in children if _local(child.tag) == wire]
            if member.type_name == "list" and member.serialization.get("flattened"):
                if matching:
                    found[name] = [from_xml(member.member, child) for child in matching]
            elif matching:
                found[name] = from_xml(member, matching[0])
        return found
    if kind == "list":
        item = shape.member.serialization.get("name", "member")
        return [from_xml(shape.member, child) for child in element if _local(child.tag) == item]
    if kind == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        found = {}
        for entry in element:
            parts = {_local(child.tag): child for child in entry}
            if key_name in parts and value_name in parts:
                found[_text_of(parts[key_name])] = from_xml(shape.value, parts[value_name])
        return found
    return _text_of(element)


class RestXmlProtocol(Protocol):
    name = "rest-xml"
    family = "s3"

    def _find(self, spec: ServiceSpec, request: Request) -> tuple[OperationModel, Address]:
        address = address_of(request)
        keys = set(request.query_dict)
        best, best_rank = None, None
        for route in spec.routes:
            operation = route.operation
            if route.method != request.method or _level(operation) != address.level:
                continue
            if not set(route.query) <= keys:
                continue
            query, headers = _required_locations(operation)
            if not query <= keys or not headers <= set(request.headers):
                continue
            rank = (len(route.query) + len(query) + len(headers), not operation.deprecated,
                    operation.name in _PREFERRED)
            if best_rank is None or rank > best_rank:
                best, best_rank = operation, rank
        if best is None:
            raise self.unknown_operation(spec, f"{request.method} {request.path}")
        return best, address

    def operation(self, spec: ServiceSpec, request: Request) -> OperationModel:
        return self._find(spec, request)[0]

    def unknown_operation(self, spec, name):
        return refusal("unknown_operation", f"A request {name} is not an operation Flowbench's S3 knows.")

    def parse(self, spec: ServiceSpec, operation: OperationModel, request: Request) -> dict:
        shape = operation.input_shape
        if shape is None:
            return {}
        address = self._find(spec, request)[1]
        labels = {"Bucket": address.bucket, "Key": address.key}
        payload = shape.serialization.get("payload")
        values: dict = {}
        for name, member in shape.members.items():
            found = located_input(member, name, request, labels)
            if found is not NOT_LOCATED:
                values[name] = (found, True)
            elif name == payload:
                values[name] = (self._payload(member, request.body), True)   # XML's scalars are text
        return read_members(shape, values)

    def _payload(self, member: Shape, body: bytes):
        if member.type_name == "blob":
            return body
        if member.type_name == "string":
            return body.decode("utf-8", "replace")
        if not body.strip():
            return None
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise refusal("malformed", "The XML you provided was not well-formed or did not validate against our "
                                       "published schema") from None
        return from_xml(member, root)

    def serialize(self, spec, operation, result, request_id) -> Response:
        result = result or {}
        shape = operation.output_shape
        status = operation.http.get("responseCode", 200)
        headers = {"x-amz-request-id": request_id, "x-amz-id-2": request_id}
        if shape is None:
            return Response(status, headers, b"")
        payload = shape.serialization.get("payload")
        located, written_status, body_members = located_output(shape, result)
        headers.update(located)
        status = written_status or status
        body_members.pop(payload, None)
        if "ContentRange" in result and status == 200:
            status = 206   # a part of the representation, as Range asked
        if payload:
            member, value = shape.members[payload], result.get(payload)
            if member.type_name == "blob":
                body = b"" if value is None else value
            elif member.type_name == "string":
                body = (value or "").encode("utf-8")
            else:
                root = member.serialization.get("name", payload)
                body = self._document(spec, root, member, value or {})
                headers.setdefault("Content-Type", XML)
        elif shape.name in TEXT_ROOTS:
            root = TEXT_ROOTS[shape.name]
            body = self._document(spec, root, None, escape(str(result.get(root) or "")))
            headers.setdefault("Content-Type", XML)
        elif body_members:
            body = self._document(spec, ROOTS.get(shape.name, shape.name.removesuffix("Output")), shape, body_members)
            headers.setdefault("Content-Type", XML)
        else:
            body = b""
        return Response(status, headers, body)

    def _document(self, spec, root: str, shape: Shape | None, value) -> bytes:
        """Returns the XML document `<root>` holding `value` written as `shape` (or text as it is)."""
        namespace = "http://s3.amazonaws.com/doc/2006-03-01/"
        inner = xml_of(shape, value) if shape is not None else value
        return f'{DECLARATION}<{root} xmlns="{namespace}">{inner}</{root}>'.encode("utf-8")

    def serialize_error(self, spec, error: AwsError, request_id) -> Response:
        code, status = error.resolve(self.family)
        headers = {"Content-Type": XML, "x-amz-request-id": request_id, "x-amz-id-2": request_id}
        if status == 304:
            return Response(status, {k: v for k, v in headers.items() if k != "Content-Type"}, b"")
        fields = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in error.fields.items()
                         if value is not None)
        body = (f"{DECLARATION}<Error><Code>{escape(code)}</Code><Message>{escape(error.message)}</Message>"
                f"{fields}<RequestId>{request_id}</RequestId></Error>")
        return Response(status, headers, body.encode("utf-8"))
