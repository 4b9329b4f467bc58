"""One AWS request, from the wire to the provider and back:

    route -> size limit -> authenticate (SigV4) -> find the operation -> parse its input
          -> the provider's method -> serialize its output, or the error, in the protocol's shapes

Every refusal on the way is an AwsError written by the protocol's serializer; an unexpected
exception is logged and answered as AWS's InternalFailure (500), never as a stack trace.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import replace

from django.utils import timezone

from editor.aws.auth import authenticate
from editor.aws.errors import AwsError, refusal
from editor.aws.http import Request, Response
from editor.aws.protocols import PROTOCOLS
from editor.aws.protocols.base import json_bytes
from editor.aws.providers.base import Context
from editor.aws.router import route
from editor.aws.services import Service
from editor.errors import ApiError

log = logging.getLogger(__name__)


def handle(request: Request) -> Response:
    """Returns the response to one AWS request."""
    request_id = str(uuid.uuid4())
    service, name = route(request)
    if service is None:
        return _unknown_service(name, request_id)
    protocol = PROTOCOLS[service.spec.protocol]
    try:
        return protocol.serialize(service.spec, *_call(service, protocol, request, request_id), request_id)
    except AwsError as error:
        return protocol.serialize_error(service.spec, error, request_id)
    except Exception:
        log.exception("AWS request %s (%s) failed", request_id, name)
        return protocol.serialize_error(service.spec, refusal("internal", "An internal error occurred. The "
                                        f"server's log has its details under request id {request_id}."), request_id)


def _call(service: Service, protocol, request: Request, request_id: str):
    """Returns (operation, result) of the call; raises the AwsError that answers it instead."""
    if len(request.body) > service.max_body:
        raise too_large(service)
    principal = authenticate(request, timezone.now())
    if service.base_path is not None:
        request = _under_base(service.base_path, request)
    return _perform(service, protocol, request, Context(principal, request_id, _region(request)))


def _perform(service: Service, protocol, request: Request, context: Context):
    """Returns (operation, result) of an authenticated request made as `context` says."""
    spec = service.spec
    operation = protocol.operation(spec, request)
    params = protocol.parse(spec, operation, request)
    provider = service.provider(context) if service.provider else None
    method = getattr(provider, operation.name, None)
    if method is None:
        raise refusal("unknown_operation", f"Flowbench does not implement {spec.model.service_name}'s "
                                           f"{operation.name} yet.")
    try:
        return operation, method(params)
    except ApiError as error:
        raise provider.translate(error) from None


def call_as(principal, signing_name: str, operation: str, params: dict, request_id: str, *,
            wait_limit: float | None = None) -> Response:
    """Returns the response of a JSON-protocol service's `operation` (Step Functions' StartExecution)
    called with `params` as `principal`, with no signature: what an AWS service integration does
    with the role it assumed, waiting at most `wait_limit` seconds for what it starts. The
    parameters are checked against the model as a signed call's are, and the answer (or the
    refusal) is written as that call's would be."""
    from editor.aws.services import registry
    from editor.services.accounts import region

    service = registry.by_signing_name[signing_name]
    spec = service.spec
    protocol = PROTOCOLS[spec.protocol]
    request = Request("POST", "/", headers={"X-Amz-Target": f"{spec.target_prefix}.{operation}",
                                            "Content-Type": protocol._content_type(spec)}, body=json_bytes(params))
    try:
        context = Context(principal, request_id, region(), wait_limit)
        return protocol.serialize(spec, *_perform(service, protocol, request, context), request_id)
    except AwsError as error:
        return protocol.serialize_error(spec, error, request_id)
    except Exception:
        log.exception("AWS service integration %s (%s.%s) failed", request_id, signing_name, operation)
        return protocol.serialize_error(spec, refusal("internal", "An internal error occurred. The server's log "
                                        f"has its details under request id {request_id}."), request_id)


def _under_base(base_path: str, request: Request) -> Request:
    """Returns the request with what `base_path` matches at the start of its path taken away."""
    raw = re.match(base_path, request.raw_path)
    if raw is None:
        return request
    path = re.match(base_path, request.path)
    return replace(request, raw_path=request.raw_path[raw.end():],
                   path=request.path[path.end():] if path else request.path)


def too_large(service: Service) -> AwsError:
    return refusal("too_large", f"Request must be smaller than {service.max_body} bytes for the "
                                f"{service.spec.model.service_name} service.")


def _region(request: Request) -> str:
    from editor.aws.sigv4 import signature_of
    from editor.services.accounts import region

    signed = signature_of(request)
    return signed.region if signed is not None else region()


def _unknown_service(name: str, request_id: str) -> Response:
    """The answer to a request for a service Flowbench does not speak (in the JSON error shape,
    which every SDK reads)."""
    message = f"Flowbench does not serve the AWS service {name!r}." if name else "No AWS service is named."
    return Response(400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id,
                          "x-amzn-ErrorType": "UnknownServiceException"},
                    json_bytes({"__type": "UnknownServiceException", "message": message}))
