"""A request to an HTTP API, answered: find the API and the stage (a first path segment naming a
stage, else `$default`), answer a CORS preflight from the API's CorsConfiguration, pick the route
(editor.services.route_keys), invoke its integration's function synchronously with the payload
format 2.0 event (routeKey, pathParameters, stage, stageVariables) and map the result as HTTP APIs
do (a string result is the body as it is).

    match(host, path) -> (api_id, the path under the API, domain) or None
    answer(request, found, source_ip=..., protocol=...) -> Answer

API Gateway's own answers are {"message": ...}: 404 Not Found (no API, stage or route), 500
Internal Server Error (the function failed, or returned a malformed response, or is gone), 429
when the function's concurrency is used up, 413 over 6 MB.
"""

from __future__ import annotations

import json
import logging
import re
import uuid

from django.utils import timezone

from editor.errors import ApiError
from editor.models import HttpApi, Invocation
from editor.services import http_apis, invocations
from editor.services.addresses import matcher
from editor.services.accounts import account_id
from editor.services.route_keys import parse_route_key, select
from editor.services.validation import PAYLOAD_LIMIT_BYTES
from editor.triggers.http_events import (Answer, BadResponse, Endpoint, host_name, http_answer, http_event,
                                         preflight, with_cors)

__all__ = ["match", "answer", "too_large", "BODY_LIMIT"]

log = logging.getLogger(__name__)

BODY_LIMIT = PAYLOAD_LIMIT_BYTES


# (api id, the path under it) of a request by its Host (<id>.execute-api.<anything>) or its path (/http-api/<id>/...).
_match = matcher(r"[a-z0-9]{10}", "execute-api", "/http-api/")
# The @connections management API's requests, which the AWS API answers on an API's host too.
_MANAGEMENT = re.compile(r"^(/[^/]+)?/@connections/")


def match(host: str, raw_path: str):
    if _MANAGEMENT.match(raw_path or ""):
        return None
    return _match(host, raw_path)


def _message(status: int, message: str) -> Answer:
    return Answer(status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode())


def _stage(api: HttpApi, path: str):
    """Returns (stage, the path the routes see) for a path under the API, or (None, path)."""
    first, _, rest = path.lstrip("/").partition("/")
    if first and first != "$default":
        named = api.stages.filter(name=first).first()
        if named is not None:
            return named, "/" + rest
    return api.stages.filter(name="$default").first(), path


def too_large() -> Answer:
    return _message(413, "Request Entity Too Large")


def answer(request, found, *, source_ip: str = "", protocol: str = "HTTP/1.1") -> Answer:
    api_id, path = found
    request_id = str(uuid.uuid4())
    result = _answer(request, api_id, path, request_id, source_ip, protocol)
    result.headers.append(("apigw-requestid", request_id))
    return result


def _answer(request, api_id: str, path: str, request_id: str, source_ip: str, protocol: str) -> Answer:
    api = http_apis.find_api(api_id)
    if api is None or api.disable_execute_api_endpoint or api.protocol_type != "HTTP":
        return _message(404, "Not Found")
    stage, route_path = _stage(api, path)
    if stage is None:
        return _message(404, "Not Found")
    early = preflight(api.cors, request)
    if early is not None:
        return early
    routes = [(parse_route_key(r.route_key), r) for r in api.routes.all()]
    chosen = select(routes, request.method, route_path)
    if chosen is None or not chosen[0].target:
        return with_cors(_message(404, "Not Found"), api.cors, request)
    route, params = chosen
    target = http_apis.route_function(api, route)
    if target is None:
        log.info("HTTP API %s: the route %s has no function to call", api.api_id, route.route_key)
        return with_cors(_message(500, "Internal Server Error"), api.cors, request)
    function, version, alias = target
    host = request.headers.get("host", "")
    endpoint = Endpoint(account_id=account_id(api.owner), api_id=api.api_id, domain_name=host_name(host),
                        domain_prefix=api.api_id, raw_path=path, route_key=route.route_key, stage=stage.name,
                        path_parameters=params or None, stage_variables=stage.stage_variables or None,
                        source_ip=source_ip, protocol=protocol)
    event = http_event(request, endpoint, request_id=request_id, now=timezone.now())
    if len(json.dumps(event, ensure_ascii=False).encode("utf-8")) > BODY_LIMIT:
        return too_large()
    try:
        invocation = invocations.invoke_function(function, event, source=Invocation.Source.HTTP_API,
                                                 version=version, alias=alias)
    except ApiError:
        return with_cors(_message(500, "Internal Server Error"), api.cors, request)
    return with_cors(_result(invocation), api.cors, request)


def _result(invocation: Invocation) -> Answer:
    if invocation.error is not None:
        if invocation.error.get("errorType") == "TooManyRequestsException" and not invocation.request_id:
            return _message(429, "Too Many Requests")
        return _message(500, "Internal Server Error")
    try:
        return http_answer(invocation.response, bare_strings=True)
    except BadResponse as error:
        log.info("HTTP API: invocation %s returned a malformed response: %s", invocation.id, error)
        return _message(500, "Internal Server Error")
