"""Which requests are AWS's, and which service each calls, on the studio's one address (every
service shares the studio's one port).

A request is an AWS request when it is signed (an `Authorization: AWS4-HMAC-SHA256 ...` header,
`X-Amz-Algorithm` in its query string, or S3's older `AWSAccessKeyId` and `Signature` there) or
looks like one: an `X-Amz-Target` header, a path under a REST service's version prefix (Lambda's
`/2015-03-31/...`), or `/` with an `Action` parameter or a form body (the Query protocol).
Everything else is the studio's.

The service is, in order: S3 for its older query signature, the one the signature's credential
scope names, the one whose JSON target prefix `X-Amz-Target` starts with, the REST service whose
prefix starts the path, the Query service that has the `Action`.
"""

from __future__ import annotations

from editor.aws import sigv2
from editor.aws.http import Request
from editor.aws.protocols.query import parameters
from editor.aws.services import Service, registry
from editor.aws.sigv4 import is_signed, scope_service

FORM = "application/x-www-form-urlencoded"


def looks_like_aws(method: str, path: str, headers, query) -> bool:
    """Returns whether a request (its method, decoded path, headers and query parameters) is for
    the AWS API; decided before its body is read."""
    if headers.get("Authorization", "").startswith("AWS4-") or "X-Amz-Algorithm" in query:
        return True
    if "AWSAccessKeyId" in query and "Signature" in query:   # S3's older presigned URLs
        return True
    if "X-Amz-Target" in headers:
        return True
    if path.lstrip("/").split("/")[0] in registry.rest_prefixes:
        return True
    if path == "/":
        return "Action" in query or (method == "POST" and headers.get("Content-Type", "").startswith(FORM))
    return False


def route(request: Request) -> tuple[Service | None, str]:
    """Returns the service the request calls and its name; (None, name) for a service Flowbench
    does not speak (the name the request gave, or "" when it gave none)."""
    if sigv2.is_signed(request) and not is_signed(request):
        return registry.by_signing_name.get("s3"), "s3"   # only S3 takes query-string signatures
    if is_signed(request):
        name = scope_service(request)
        if name is not None:
            return registry.by_signing_name.get(name), name
    target = request.headers.get("x-amz-target")
    if target is not None:
        prefix = target.rpartition(".")[0]
        found = registry.by_target_prefix.get(prefix)
        return found, found.signing_name if found else prefix
    found = registry.rest_prefixes.get(request.path.lstrip("/").split("/")[0])
    if found is not None:
        return found, found.signing_name
    action = parameters(request).get("Action", "")
    for service in registry.query_services:
        if service.spec.operation(action) is not None:
            return service, service.signing_name
    if registry.query_services:
        first = registry.query_services[0]
        return first, first.signing_name
    return None, ""
