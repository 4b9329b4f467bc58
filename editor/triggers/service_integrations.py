"""An HTTP API's AWS service integration, called: the request's values mapped to the action's
members by the integration's RequestParameters (runtime.parameter_mapping), the action done as the
role CredentialsArn names (it must trust apigateway.amazonaws.com; its policy decides the action,
as for any caller of the AWS API), and the service's own answer returned, as API Gateway does:

    StepFunctions-StartExecution       200 {"executionArn", "startDate"}
    StepFunctions-StartSyncExecution   200 the sync result (status, output or error and cause, ...)
    StepFunctions-StopExecution        200 {"stopDate"}
    refused by the service             its status and its error ({"__type", "message"}): bad input
                                       400, the role's policy not allowing it 403 AccessDeniedException
    a role that cannot be assumed      500 {"message": "Internal Server Error"}
    no answer within TimeoutInMillis   503 {"message": "Service Unavailable"} (a sync execution goes on)

    call(api, integration, request, endpoint, request_id) -> Answer
"""

from __future__ import annotations

import base64
import logging
from urllib.parse import parse_qsl

from editor.aws.auth import Principal
from editor.aws.dispatch import call_as
from editor.models import ApiIntegration, HttpApi
from editor.services import http_apis, role_sessions
from editor.services.accounts import account_id
from editor.triggers.http_events import Answer, Endpoint
from runtime.parameter_mapping import MappingError, Sources, evaluate

__all__ = ["call"]

log = logging.getLogger(__name__)


def _internal_error() -> Answer:
    return Answer(500, [("Content-Type", "application/json")], b'{"message":"Internal Server Error"}')


def _sources(request, endpoint: Endpoint, request_id: str) -> Sources:
    body = None
    if request.body:
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            body = base64.b64encode(request.body).decode("ascii")
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    context = {"accountId": endpoint.account_id, "apiId": endpoint.api_id, "domainName": endpoint.domain_name,
               "domainPrefix": endpoint.domain_prefix, "httpMethod": request.method, "path": endpoint.raw_path,
               "protocol": endpoint.protocol, "requestId": request_id, "routeKey": endpoint.route_key,
               "stage": endpoint.stage,
               "identity": {"sourceIp": endpoint.source_ip, "userAgent": request.headers.get("user-agent", "")}}
    return Sources(body=body, headers=request.headers, query=query, path_parameters=endpoint.path_parameters or {},
                   path=endpoint.raw_path, context=context, stage_variables=endpoint.stage_variables or {})


def _principal(api: HttpApi, integration: ApiIntegration, request_id: str) -> Principal | None:
    """Returns the role session the integration acts as, or None when its role is gone or does
    not trust API Gateway."""
    from editor.services.schedules import resolve_role

    role = resolve_role(api.owner, integration.credentials_arn)
    if role is None or "apigateway" not in role.trusted:
        return None
    number = account_id(api.owner)
    return Principal(user=api.owner, account_id=number,
                     arn=role_sessions.session_arn(number, role.name, f"apigateway-{api.api_id}"),
                     user_id=f"{role.role_id}:apigateway-{api.api_id}", policy=role.policy)


def call(api: HttpApi, integration: ApiIntegration, request, endpoint: Endpoint, request_id: str) -> Answer:
    kind = http_apis.SERVICE_SUBTYPES.get(integration.integration_subtype)
    principal = _principal(api, integration, request_id)
    if kind is None or principal is None:
        log.info("HTTP API %s: integration %s cannot assume its role %s (gone, or it does not trust "
                 "apigateway.amazonaws.com)", api.api_id, integration.integration_id, integration.credentials_arn)
        return _internal_error()
    sources = _sources(request, endpoint, request_id)
    params = {}
    for key, value in (integration.request_parameters or {}).items():
        member = kind.members.get(key)
        if member is None:
            continue
        try:
            mapped = evaluate(value, sources)
        except MappingError:   # (checked when the integration was made)
            return _internal_error()
        if mapped is not None:
            params[member] = mapped
    response = call_as(principal, kind.signing_name, kind.operation, params, request_id,
                       wait_limit=integration.timeout_ms / 1000)
    if response.headers.get("x-amzn-ErrorType") == "IntegrationTimeout":
        return Answer(503, [("Content-Type", "application/json")], b'{"message":"Service Unavailable"}')
    return Answer(response.status, [("Content-Type", "application/json")], response.body)
