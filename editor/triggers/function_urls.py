"""A request to a function URL, answered: find the URL, answer a CORS preflight from its Cors,
check who calls (AWS_IAM: a SigV4 signature of a principal of the function's own account whose
policy allows lambda:InvokeFunctionUrl; NONE: the function's resource-based policy must let
everyone call it), invoke the function synchronously with the payload format 2.0 event (through
editor.services.invocations, as Invoke does) and turn its result into the HTTP response.

    match(host, path)          -> (url_id, the path the function sees) or None
    answer(request, found, source_ip=..., protocol=...) -> Answer

Lambda's own refusals are {"Message": ...} with x-amzn-ErrorType: 403 Forbidden, 404 for an
address no URL has (or had), 413 for a request over 6 MB, 429 when the function's concurrency is
used up; a function that fails, times out or returns a malformed response is 502 Internal Server
Error.
"""

from __future__ import annotations

import json
import logging
import uuid

from django.utils import timezone

from editor.aws.auth import authenticate, authorize
from editor.aws.errors import AwsError
from editor.aws.http import Request
from editor.errors import ApiError
from editor.models import FunctionUrl, Invocation
from editor.services import function_permissions, function_urls, invocations
from editor.services.addresses import matcher
from editor.services.accounts import account_id, function_arn
from editor.services.validation import PAYLOAD_LIMIT_BYTES
from editor.triggers.http_events import (Answer, BadResponse, Endpoint, host_name, http_answer, http_event,
                                         message_answer, preflight, with_cors)

__all__ = ["match", "answer", "too_large", "BODY_LIMIT"]

log = logging.getLogger(__name__)

BODY_LIMIT = PAYLOAD_LIMIT_BYTES
# The runner's refusals that are Lambda's (not the function's), as a function URL answers them.
_SERVICE_ANSWERS = {"TooManyRequestsException": (429, "Rate Exceeded."),
                    "RequestTooLargeException": (413, "Request must be smaller than 6291456 bytes for the "
                                                      "InvokeFunction operation")}


# (url id, the path under it) of a request by its Host (<id>.lambda-url.<anything>) or its path (/lambda-url/<id>/...).
match = matcher(r"[a-z0-9]{32}", "lambda-url", "/lambda-url/")


def _forbidden() -> Answer:
    return message_answer(403, "Forbidden", error_type="AccessDeniedException")


def _caller(url: FunctionUrl, request: Request) -> tuple[dict | None, Answer | None]:
    """Returns (the event's authorizer, None) when the caller may invoke the URL, else (None, 403)."""
    function = url.function
    arn = function_arn(function.owner_id, function.name, url.qualifier or None)
    if url.auth_type == "NONE":
        if not function_permissions.allows_public_url(function, url.qualifier):
            return None, _forbidden()
        return None, None
    try:
        principal = authenticate(request, timezone.now())
        authorize(principal, "lambda:InvokeFunctionUrl", arn)
    except AwsError:
        return None, _forbidden()
    return {"iam": {"accessKey": principal.access_key_id, "accountId": principal.account_id,
                    "callerId": principal.user_id, "cognitoIdentity": None, "principalOrgId": None,
                    "userArn": principal.arn, "userId": principal.user_id}}, None


def too_large() -> Answer:
    status, message = _SERVICE_ANSWERS["RequestTooLargeException"]
    return message_answer(status, message, error_type="RequestTooLargeException")


def answer(request: Request, found: tuple[str, str], *, source_ip: str = "", protocol: str = "HTTP/1.1") -> Answer:
    """Returns the HTTP response to `request`, addressed to the URL and path `found` (match's)."""
    url_id, raw_path = found
    request_id = str(uuid.uuid4())
    result = _answer(request, url_id, raw_path, request_id, source_ip, protocol)
    result.headers.append(("x-amzn-RequestId", request_id))
    return result


def _answer(request: Request, url_id: str, raw_path: str, request_id: str, source_ip: str, protocol: str) -> Answer:
    url = function_urls.find_url(url_id)
    if url is None:
        return message_answer(404, "Not Found", error_type="ResourceNotFoundException")
    early = preflight(url.cors, request)
    if early is not None:
        return early
    authorizer, refused = _caller(url, request)
    if refused is not None:
        return with_cors(refused, url.cors, request)
    function = url.function
    version = url.alias.version if url.alias is not None else function.deployed
    if version is None:
        return message_answer(502, "The function has nothing deployed yet.", error_type="ResourceConflictException")
    host = request.headers.get("host", "")
    endpoint = Endpoint(account_id=account_id(function.owner), api_id=url.url_id, domain_name=host_name(host),
                        domain_prefix=url.url_id, raw_path=raw_path, authorizer=authorizer, source_ip=source_ip,
                        protocol=protocol)
    event = http_event(request, endpoint, request_id=request_id, now=timezone.now())
    if len(json.dumps(event, ensure_ascii=False).encode("utf-8")) > BODY_LIMIT:
        return too_large()
    try:
        invocation = invocations.invoke_function(function, event, source=Invocation.Source.FUNCTION_URL,
                                                 version=version, alias=url.qualifier)
    except ApiError as error:   # the sandbox cannot run functions, or the like
        return message_answer(502, error.message, error_type="ServiceException")
    return with_cors(_result(invocation), url.cors, request)


def _result(invocation: Invocation) -> Answer:
    """Returns the HTTP response the invocation's result stands for."""
    if invocation.error is not None:
        kind = invocation.error.get("errorType")
        if kind in _SERVICE_ANSWERS and not invocation.request_id:
            status, message = _SERVICE_ANSWERS[kind]
            return message_answer(status, message, error_type=kind)
        return Answer(502, [("Content-Type", "text/plain; charset=utf-8"), ("x-amzn-ErrorType", "FunctionError")],
                      b"Internal Server Error")
    try:
        return http_answer(invocation.response)
    except BadResponse as error:
        log.info("function URL: invocation %s returned a malformed response: %s", invocation.id, error)
        return Answer(502, [("Content-Type", "text/plain; charset=utf-8")], b"Internal Server Error")
