"""A request to an HTTP API, answered: find the API and the stage (a first path segment naming a
stage, else `$default`) and the stage's deployment (its routes and integrations as deployed), answer
a CORS preflight from the API's CorsConfiguration, pick the route (editor.services.route_keys),
invoke its integration's function synchronously with the payload format 2.0 event (routeKey,
pathParameters, stage, stageVariables) or the 1.0 event, and map the result as HTTP APIs do (2.0: a
string result is the body as it is); or call its AWS service integration's action
(editor.triggers.service_integrations).

    match(host, path) -> (api_id, the path under the API, domain) or None
    answer(request, found, source_ip=..., protocol=...) -> Answer

API Gateway's own answers are {"message": ...}: 404 Not Found (no API, stage, deployment or route), 500
Internal Server Error (the function failed, or returned a malformed response, or is gone), 429
when the function's concurrency is used up, 413 over 6 MB.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache

from django.utils import timezone

from editor.errors import ApiError
from editor.models import ApiDeployment, ApiIntegration, HttpApi, Invocation
from editor.services import http_apis, invocations
from editor.services.addresses import matcher
from editor.services.accounts import account_id
from editor.services.route_keys import parse_route_key, select
from editor.services.validation import PAYLOAD_LIMIT_BYTES
from editor.triggers import service_integrations
from editor.triggers.http_events import (Answer, BadResponse, Endpoint, host_name, http_answer, http_answer_v1,
                                         http_event, http_event_v1, preflight, with_cors)

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
    stages = api.stages.select_related("deployment").defer("deployment__snapshot")
    first, _, rest = path.lstrip("/").partition("/")
    if first and first != "$default":
        named = stages.filter(name=first).first()
        if named is not None:
            return named, "/" + rest
    return stages.filter(name="$default").first(), path


@dataclass(frozen=True)
class _Route:
    """A route as a deployment keeps it."""

    route_id: str
    route_key: str
    target: str


@dataclass(frozen=True)
class _Deployed:
    routes: list
    integrations: dict


def _deployed(deployment: ApiDeployment | None) -> _Deployed | None:
    if deployment is None:
        return None
    return _read_deployment(deployment.pk, deployment.deployment_id, deployment.created_at)


@lru_cache(maxsize=512)
def _read_deployment(pk: int, deployment_id: str, created_at) -> _Deployed | None:
    """Returns a deployment's routes (parsed) and integrations, read once per process: a
    deployment never changes (a change makes another). Its id and time are in the key so that a
    row number a deleted deployment had, used again, is never taken for it."""
    found = ApiDeployment.objects.filter(pk=pk).values_list("snapshot", flat=True).first()
    if found is None:
        return None
    routes = [_Route(r["route_id"], r["route_key"], r["target"]) for r in found.get("routes", [])]
    integrations = {key: ApiIntegration(integration_id=key, **fields)
                    for key, fields in found.get("integrations", {}).items()}
    return _Deployed([(parse_route_key(r.route_key), r) for r in routes], integrations)


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
    deployed = _deployed(stage.deployment) if stage is not None else None
    if deployed is None:
        return _message(404, "Not Found")
    early = preflight(api.cors, request)
    if early is not None:
        return early
    chosen = select(deployed.routes, request.method, route_path)
    if chosen is None or not chosen[0].target:
        return with_cors(_message(404, "Not Found"), api.cors, request)
    route, params = chosen
    integration = deployed.integrations.get(route.target.split("/", 1)[-1])
    host = request.headers.get("host", "")
    endpoint = Endpoint(account_id=account_id(api.owner), api_id=api.api_id, domain_name=host_name(host),
                        domain_prefix=api.api_id, raw_path=path, route_key=route.route_key, stage=stage.name,
                        path_parameters=params or None, stage_variables=stage.stage_variables or None,
                        source_ip=source_ip, protocol=protocol)
    if integration is not None and integration.integration_subtype:
        return with_cors(service_integrations.call(api, integration, request, endpoint, request_id), api.cors,
                         request)
    target = http_apis.integration_target(api.owner, integration)
    if target is None:
        log.info("HTTP API %s: the route %s has no function to call", api.api_id, route.route_key)
        return with_cors(_message(500, "Internal Server Error"), api.cors, request)
    function, version, alias = target
    v1 = integration.payload_format_version == "1.0"
    event = (http_event_v1 if v1 else http_event)(request, endpoint, request_id=request_id, now=timezone.now())
    if len(json.dumps(event, ensure_ascii=False).encode("utf-8")) > BODY_LIMIT:
        return too_large()
    try:
        invocation = invocations.invoke_function(function, event, source=Invocation.Source.HTTP_API,
                                                 version=version, alias=alias)
    except ApiError:
        return with_cors(_message(500, "Internal Server Error"), api.cors, request)
    return with_cors(_result(invocation, v1), api.cors, request)


def _result(invocation: Invocation, v1: bool = False) -> Answer:
    if invocation.error is not None:
        if invocation.error.get("errorType") == "TooManyRequestsException" and not invocation.request_id:
            return _message(429, "Too Many Requests")
        return _message(500, "Internal Server Error")
    try:
        if v1:
            return http_answer_v1(invocation.response)
        return http_answer(invocation.response, bare_strings=True)
    except BadResponse as error:
        log.info("HTTP API: invocation %s returned a malformed response: %s", invocation.id, error)
        return _message(500, "Internal Server Error")
