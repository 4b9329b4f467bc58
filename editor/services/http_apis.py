"""API Gateway HTTP APIs: the only code that writes them (their routes, integrations and stages),
and the lookups a request to one needs.

An API is served on the studio's address, in two forms reaching the same stage:

    path form   {FLOWBENCH_BASE_URL}/http-api/<api-id>/<stage>/<path>     ($default: .../<api-id>/<path>)
    host form   http://<api-id>.execute-api.<host>:<port>/<stage>/<path>  (AWS: <api-id>.execute-api.<region>.amazonaws.com)

A stage serves its deployment: the routes and integrations as they were when it was deployed
(CreateDeployment), or, with AutoDeploy, as they are after each change (every change to a route or
an integration deploys the AutoDeploy stages again). Integrations are Lambda proxies (AWS_PROXY,
payload format 2.0 or 1.0) to a function of the API's owner, or AWS service integrations
(AWS_PROXY with an IntegrationSubtype, SERVICE_SUBTYPES: Step Functions' StartExecution,
StartSyncExecution, StopExecution) whose RequestParameters map the request to the action's
members, done as the role CredentialsArn names.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from editor.errors import ApiError
from editor.models import ApiDeployment, ApiIntegration, ApiRoute, ApiStage, HttpApi
from editor.services.addresses import host_form, path_form
from editor.services import websocket_apis
from editor.services.route_keys import parse_route_key
from runtime.parameter_mapping import MappingError, check as check_mapping
from runtime.arn import parse_function

__all__ = ["create_api", "get_api", "list_apis", "update_api", "delete_api", "create_route", "get_route",
           "update_route", "delete_route", "create_integration", "get_integration", "update_integration",
           "delete_integration", "create_stage", "get_stage", "update_stage", "delete_stage", "api_endpoint",
           "host_endpoint", "find_api", "integration_function", "integration_target", "route_function",
           "create_deployment", "get_deployment", "update_deployment", "delete_deployment", "snapshot", "SERVICE_SUBTYPES",
           "ServiceSubtype", "quick_create", "add_route", "integration_machine", "machine_triggers", "PATH_PREFIX"]

PATH_PREFIX = "/http-api/"
_ALPHABET = string.ascii_lowercase + string.digits
_API_ID = re.compile(r"^[a-z0-9]{10}$")
_STAGE = re.compile(r"^(\$default|[A-Za-z0-9_-]{1,128})$")
# arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations
_INVOKE_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]*:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")


@dataclass(frozen=True)
class ServiceSubtype:
    """An AWS service integration's action: the operation it calls (as the role), its request
    parameters (RequestParameters' keys -> the operation's members; None: taken, not sent) and which
    of them must be given."""

    signing_name: str
    operation: str
    members: dict
    required: tuple


SERVICE_SUBTYPES = {
    "StepFunctions-StartExecution": ServiceSubtype(
        "states", "StartExecution", {"StateMachineArn": "stateMachineArn", "Name": "name", "Input": "input",
                                     "Region": None}, ("StateMachineArn",)),
    "StepFunctions-StartSyncExecution": ServiceSubtype(
        "states", "StartSyncExecution", {"StateMachineArn": "stateMachineArn", "Name": "name", "Input": "input",
                                         "Region": None, "TraceHeader": "traceHeader"}, ("StateMachineArn",)),
    "StepFunctions-StopExecution": ServiceSubtype(
        "states", "StopExecution", {"ExecutionArn": "executionArn", "Cause": "cause", "Error": "error",
                                    "Region": None}, ("ExecutionArn",)),
}
_MACHINE_ARN = re.compile(r"^arn:aws:states:[^:]*:(?P<account>\d{12}):stateMachine:(?P<name>[^:]+)(:[^:]+)?$")


def _id(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def api_endpoint(api: HttpApi) -> str:
    """Returns the API's ApiEndpoint: its path form on FLOWBENCH_BASE_URL (no trailing slash)."""
    if api.protocol_type == "WEBSOCKET":
        return websocket_apis.api_endpoint(api)
    return path_form(PATH_PREFIX, api.api_id)


def host_endpoint(api: HttpApi) -> str:
    return host_form(f"{api.api_id}.execute-api")


def _not_found(what: str, value: str) -> ApiError:
    return ApiError("NotFound", f"Invalid {what} identifier specified {value}", status=404)


def _child(children, what: str, **lookup):
    """Returns the one of an API's routes, integrations or stages that `lookup` names; else NotFound."""
    found = children.filter(**lookup).first()
    if found is None:
        raise _not_found(what, next(iter(lookup.values())))
    return found


def get_api(user, api_id: str) -> HttpApi:
    """Returns `user`'s API `api_id`; another person's is not found, as a missing one."""
    found = HttpApi.objects.filter(owner=user, api_id=api_id).first() if isinstance(api_id, str) else None
    if found is None:
        raise _not_found("API", api_id)
    return found


def list_apis(user) -> list[HttpApi]:
    return list(HttpApi.objects.filter(owner=user).order_by("api_id"))


def find_api(api_id: str) -> HttpApi | None:
    """Returns the API whose id is `api_id` (whoever owns it), for a request to its address."""
    if not _API_ID.match(api_id or ""):
        return None
    return HttpApi.objects.select_related("owner").filter(api_id=api_id).first()


def integration_function(integration: ApiIntegration):
    """Returns the FunctionRef an integration's IntegrationUri names (a function ARN, or API
    Gateway's .../functions/<ARN>/invocations form), or None."""
    uri = integration.integration_uri
    found = _INVOKE_URI.match(uri)
    return parse_function(found["arn"] if found else uri)


def route_function(api: HttpApi, route: ApiRoute):
    """Returns (function, version, alias name) the route's integration calls, or None when the
    route has no integration or its function (version, alias) is gone."""
    integration = api.integrations.filter(integration_id=route.target.split("/", 1)[1]).first() \
        if route.target else None
    return integration_target(api.owner, integration)


def integration_target(owner, integration):
    """Returns (function, version, alias name) a Lambda integration (a row, or one read from a
    deployment) calls, or None when it is none or its function (version, alias) is gone."""
    from editor.models import Function

    ref = integration_function(integration) if integration is not None and integration.integration_uri else None
    function = Function.objects.select_related("deployed").filter(owner=owner, name=ref.name).first() if ref else None
    if function is None:
        return None
    qualifier = ref.qualifier
    if qualifier in (None, "$LATEST"):
        return (function, function.deployed, "") if function.deployed else None
    if qualifier.isdigit():
        version = function.versions.filter(number=int(qualifier)).first()
        return (function, version, "") if version else None
    alias = function.aliases.select_related("version").filter(name=qualifier).first()
    return (function, alias.version, alias.name) if alias else None


def _check_target(user, uri) -> str:
    from editor.services.accounts import account_id

    if not isinstance(uri, str) or not uri:
        raise ApiError("BadRequest", "IntegrationUri is a Lambda function's ARN.", field="IntegrationUri")
    ref = parse_function(_INVOKE_URI.match(uri)["arn"] if _INVOKE_URI.match(uri) else uri)
    if ref is None or not uri.startswith("arn:") or ref.account not in (None, account_id(user)):
        hint = (" (a state machine is reached through an AWS service integration: IntegrationSubtype "
                "StepFunctions-StartExecution with RequestParameters.StateMachineArn)") if ":states:" in uri else ""
        raise ApiError("BadRequest", f"IntegrationUri {uri} is not the ARN of one of your functions{hint}.",
                       field="IntegrationUri")
    return uri


@transaction.atomic
def create_api(user, *, name, protocol_type="HTTP", description="", target=None, route_key=None, cors=None,
               version="", route_selection_expression=None, disable_execute_api_endpoint=False, tags=None) -> HttpApi:
    """Creates an HTTP API; with `target` (a function ARN), quick-creates it as API Gateway does: a
    Lambda proxy integration, the route `route_key` ($default unless given) and the auto-deployed
    $default stage."""
    from editor.services.function_urls import normalize_cors

    if protocol_type not in ("HTTP", "WEBSOCKET"):
        raise ApiError("BadRequest", f"ProtocolType is HTTP or WEBSOCKET, not {protocol_type}.",
                       field="ProtocolType")
    if not isinstance(name, str) or not 1 <= len(name) <= 128:
        raise ApiError("BadRequest", "Name has 1 to 128 characters.", field="Name")
    if route_key is not None and target is None:
        raise ApiError("BadRequest", "RouteKey is for quick create only: give Target as well.", field="RouteKey")
    if protocol_type == "WEBSOCKET":
        if target is not None:
            raise ApiError("BadRequest", "Quick create (Target) is for HTTP APIs: give a WebSocket API its routes "
                           "with CreateIntegration and CreateRoute.", field="Target")
        if cors:
            raise ApiError("BadRequest", "CorsConfiguration is for HTTP APIs.", field="CorsConfiguration")
        selection = websocket_apis.check_selection_expression(route_selection_expression)
    elif route_selection_expression not in (None, "$request.method $request.path"):
        raise ApiError("BadRequest", "An HTTP API's RouteSelectionExpression is $request.method $request.path.",
                       field="RouteSelectionExpression")
    else:
        selection = "$request.method $request.path"
    api = HttpApi.objects.create(owner=user, api_id=_id(10), name=name, description=description or "",
                                 protocol_type=protocol_type, route_selection_expression=selection,
                                 cors=normalize_cors(cors), version=version or "", tags=tags or {},
                                 disable_execute_api_endpoint=bool(disable_execute_api_endpoint))
    if target is not None:
        integration = create_integration(api, integration_type="AWS_PROXY", integration_uri=target,
                                         payload_format_version="2.0", managed=True)
        create_route(api, route_key=route_key or "$default", target=f"integrations/{integration.integration_id}",
                     managed=True)
        create_stage(api, name="$default", auto_deploy=True, managed=True)
    return api


@transaction.atomic
def update_api(api: HttpApi, *, name=None, description=None, cors=None, version=None,
               disable_execute_api_endpoint=None, route_selection_expression=None) -> HttpApi:
    """Changes what is given of the API's name, description, CORS, version, endpoint switch and (a
    WebSocket API's) route selection expression."""
    from editor.services.function_urls import normalize_cors

    api = HttpApi.objects.select_for_update().get(pk=api.pk)
    if name is not None:
        if not isinstance(name, str) or not 1 <= len(name) <= 128:
            raise ApiError("BadRequest", "Name has 1 to 128 characters.", field="Name")
        api.name = name
    if description is not None:
        api.description = description
    if cors is not None:
        if api.protocol_type == "WEBSOCKET":
            raise ApiError("BadRequest", "CorsConfiguration is for HTTP APIs.", field="CorsConfiguration")
        api.cors = normalize_cors(cors)
    if route_selection_expression is not None:
        if api.protocol_type == "WEBSOCKET":
            api.route_selection_expression = websocket_apis.check_selection_expression(route_selection_expression)
        elif route_selection_expression != api.route_selection_expression:
            raise ApiError("BadRequest", "An HTTP API's RouteSelectionExpression is $request.method $request.path.",
                           field="RouteSelectionExpression")
    if version is not None:
        api.version = version
    if disable_execute_api_endpoint is not None:
        api.disable_execute_api_endpoint = bool(disable_execute_api_endpoint)
    api.save()
    return api


@transaction.atomic
def delete_api(api: HttpApi) -> None:
    HttpApi.objects.filter(pk=api.pk).delete()


def _unique(model, api: HttpApi, field: str, make, **fields):
    """Creates a `model` row of `api` with a fresh id in `field`."""
    while True:
        value = make()
        if not model.objects.filter(api=api, **{field: value}).exists():
            return model.objects.create(api=api, **{field: value}, **fields)


def _payload_version(version, protocol_type: str = "HTTP", service: bool = False) -> str:
    """Returns the integration's payload format: 2.0 (the default) or 1.0 for an HTTP API's
    function, 1.0 for an AWS service integration and a WebSocket API's function (as AWS)."""
    if protocol_type == "WEBSOCKET" or service:
        wanted = ("1.0",)
    else:
        wanted = ("2.0", "1.0")
    if version is None:
        return wanted[0]
    if version not in wanted:
        what = ("an AWS service integration" if service else
                "a WebSocket API's function" if protocol_type == "WEBSOCKET" else "an HTTP API's function")
        raise ApiError("BadRequest", f"PayloadFormatVersion of {what} is {' or '.join(wanted)}, not {version}.",
                       field="PayloadFormatVersion")
    return version


def _timeout(timeout_ms):
    if timeout_ms is not None and not 50 <= timeout_ms <= 30000:
        raise ApiError("BadRequest", "TimeoutInMillis is between 50 and 30000.", field="TimeoutInMillis")
    return timeout_ms


def _credentials(user, arn) -> str:
    from editor.services.schedules import resolve_role

    if not isinstance(arn, str) or not arn:
        raise ApiError("BadRequest", "CredentialsArn is required for an AWS service integration: the ARN of a role "
                       "that trusts apigateway.amazonaws.com.", field="CredentialsArn")
    if resolve_role(user, arn) is None:
        raise ApiError("BadRequest", f"CredentialsArn {arn} is not the ARN of a role of this account.",
                       field="CredentialsArn")
    return arn


def _request_parameters(subtype: str, parameters) -> dict:
    """Returns an AWS service integration's RequestParameters once each reads; refuses a key the
    action does not take, a missing required one and a value that does not map."""
    kind = SERVICE_SUBTYPES[subtype]
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise ApiError("BadRequest", "RequestParameters is an object of parameter names and mapping values.",
                       field="RequestParameters")
    for key, value in parameters.items():
        if key not in kind.members:
            raise ApiError("BadRequest", f"RequestParameters.{key}: {subtype} takes "
                           f"{', '.join(kind.members)}, not {key}.", field=f"RequestParameters.{key}")
        try:
            check_mapping(value)
        except MappingError as error:
            raise ApiError("BadRequest", f"RequestParameters.{key}: {error}.", field=f"RequestParameters.{key}") \
                from None
    for key in kind.required:
        if not parameters.get(key):
            raise ApiError("BadRequest", f"RequestParameters.{key} is required for {subtype}.",
                           field=f"RequestParameters.{key}")
    return dict(parameters)


def _integration_fields(api: HttpApi, fields: dict) -> dict:
    """Returns the integration's fields checked together: a function's (IntegrationUri, payload 2.0
    or 1.0) or an AWS service action's (IntegrationSubtype, CredentialsArn, RequestParameters,
    payload 1.0)."""
    if fields["integration_type"] != "AWS_PROXY":
        raise ApiError("BadRequest", f"Flowbench's HTTP APIs integrate functions and AWS services (AWS_PROXY), "
                       f"not {fields['integration_type']}.", field="IntegrationType")
    subtype = fields.get("integration_subtype") or ""
    if subtype:
        if api.protocol_type != "HTTP":
            raise ApiError("BadRequest", "IntegrationSubtype (an AWS service integration) is for HTTP APIs.",
                           field="IntegrationSubtype")
        if subtype not in SERVICE_SUBTYPES:
            raise ApiError("BadRequest", f"IntegrationSubtype is one of {', '.join(SERVICE_SUBTYPES)}, "
                           f"not {subtype}.", field="IntegrationSubtype")
        if fields.get("integration_uri"):
            raise ApiError("BadRequest", "An AWS service integration has no IntegrationUri: its RequestParameters "
                           "name what it acts on.", field="IntegrationUri")
        return {**fields, "integration_uri": "", "integration_subtype": subtype,
                "payload_format_version": _payload_version(fields.get("payload_format_version"), service=True),
                "credentials_arn": _credentials(api.owner, fields.get("credentials_arn")),
                "request_parameters": _request_parameters(subtype, fields.get("request_parameters"))}
    if fields.get("credentials_arn"):
        raise ApiError("BadRequest", "CredentialsArn is for AWS service integrations (IntegrationSubtype): "
                       "Flowbench calls a function as the API's owner.", field="CredentialsArn")
    if fields.get("request_parameters"):
        raise ApiError("BadRequest", "RequestParameters is for AWS service integrations (IntegrationSubtype).",
                       field="RequestParameters")
    return {**fields, "integration_uri": _check_target(api.owner, fields.get("integration_uri")),
            "integration_subtype": "", "credentials_arn": "", "request_parameters": {},
            "payload_format_version": _payload_version(fields.get("payload_format_version"), api.protocol_type)}


@transaction.atomic
def create_integration(api: HttpApi, *, integration_type, integration_uri=None, payload_format_version=None,
                       integration_method=None, timeout_ms=None, description="", managed=False,
                       integration_subtype=None, credentials_arn=None, request_parameters=None) -> ApiIntegration:
    _timeout(timeout_ms)
    fields = _integration_fields(api, {
        "integration_type": integration_type, "integration_uri": integration_uri,
        "payload_format_version": payload_format_version, "integration_subtype": integration_subtype,
        "credentials_arn": credentials_arn, "request_parameters": request_parameters})
    integration = _unique(ApiIntegration, api, "integration_id", lambda: _id(7), **fields,
                          integration_method=integration_method or "POST", timeout_ms=timeout_ms or 30000,
                          description=description or "", managed=managed)
    _auto_deploy(api)
    return integration


def get_integration(api: HttpApi, integration_id: str) -> ApiIntegration:
    return _child(api.integrations, "Integration", integration_id=integration_id)


@transaction.atomic
def update_integration(integration: ApiIntegration, *, integration_uri=None, payload_format_version=None,
                       timeout_ms=None, description=None, integration_subtype=None, credentials_arn=None,
                       request_parameters=None) -> ApiIntegration:
    integration = ApiIntegration.objects.select_for_update().select_related("api__owner").get(pk=integration.pk)
    if integration_subtype is not None and integration_subtype != integration.integration_subtype:
        raise ApiError("BadRequest", "IntegrationSubtype cannot be changed: create another integration.",
                       field="IntegrationSubtype")
    changed = {"integration_uri": integration_uri, "payload_format_version": payload_format_version,
               "credentials_arn": credentials_arn, "request_parameters": request_parameters}
    fields = _integration_fields(integration.api, {
        "integration_type": integration.integration_type, "integration_subtype": integration.integration_subtype,
        "integration_uri": integration.integration_uri, "payload_format_version": integration.payload_format_version,
        "credentials_arn": integration.credentials_arn, "request_parameters": integration.request_parameters,
        **{k: v for k, v in changed.items() if v is not None}})
    for name, value in fields.items():
        setattr(integration, name, value)
    if timeout_ms is not None:
        integration.timeout_ms = _timeout(timeout_ms)
    if description is not None:
        integration.description = description
    integration.save()
    _auto_deploy(integration.api)
    return integration


@transaction.atomic
def delete_integration(integration: ApiIntegration) -> None:
    target = f"integrations/{integration.integration_id}"
    if integration.api.routes.filter(target=target).exists():
        raise ApiError("Conflict", f"Cannot delete integration {integration.integration_id}: a route targets it.",
                       status=409)
    integration.delete()
    _auto_deploy(integration.api)


def _check_route_target(api: HttpApi, target) -> str:
    if target in (None, ""):
        return ""
    found = re.fullmatch(r"integrations/([a-z0-9]+)", target) if isinstance(target, str) else None
    if found is None or not api.integrations.filter(integration_id=found.group(1)).exists():
        raise ApiError("BadRequest", f"Target {target} is not integrations/<id> of an integration of this API.",
                       field="Target")
    return target


def _route_key(api: HttpApi, route_key) -> str:
    """Returns the route key as the API's kind takes it; refuses a malformed one."""
    if api.protocol_type == "WEBSOCKET":
        return websocket_apis.check_route_key(route_key)
    try:
        return parse_route_key(route_key).text
    except ValueError as error:
        raise ApiError("BadRequest", str(error), field="RouteKey") from None


@transaction.atomic
def create_route(api: HttpApi, *, route_key, target=None, authorization_type=None, operation_name="",
                 managed=False, route_response_selection_expression=None) -> ApiRoute:
    text = _route_key(api, route_key)
    if route_response_selection_expression not in (None, "", "$default") or (
            route_response_selection_expression and api.protocol_type != "WEBSOCKET"):
        raise ApiError("BadRequest", "RouteResponseSelectionExpression is $default, on a WebSocket API's route.",
                       field="RouteResponseSelectionExpression")
    if authorization_type not in (None, "NONE"):
        raise ApiError("BadRequest", "Flowbench's HTTP API routes take AuthorizationType NONE only.",
                       field="AuthorizationType")
    if api.routes.filter(route_key=text).exists():
        raise ApiError("Conflict", f"Unable to create route {text}. The route already exists.", status=409,
                       field="RouteKey")
    try:
        with transaction.atomic():
            route = _unique(ApiRoute, api, "route_id", lambda: _id(7), route_key=text,
                            target=_check_route_target(api, target), operation_name=operation_name or "",
                            managed=managed,
                            route_response_selection_expression=route_response_selection_expression or "")
    except IntegrityError:
        raise ApiError("Conflict", f"Unable to create route {text}. The route already exists.", status=409,
                       field="RouteKey") from None
    _auto_deploy(api)
    return route


def get_route(api: HttpApi, route_id: str) -> ApiRoute:
    return _child(api.routes, "Route", route_id=route_id)


@transaction.atomic
def update_route(route: ApiRoute, *, route_key=None, target=None) -> ApiRoute:
    """Changes the route's key and/or target ("" detaches it from its integration)."""
    route = ApiRoute.objects.select_for_update().select_related("api").get(pk=route.pk)
    if route_key is not None:
        text = _route_key(route.api, route_key)
        if route.api.routes.filter(route_key=text).exclude(pk=route.pk).exists():
            raise ApiError("Conflict", f"Unable to update route to {text}. The route already exists.",
                           status=409, field="RouteKey")
        route.route_key = text
    if target is not None:
        route.target = _check_route_target(route.api, target)
    route.save()
    _auto_deploy(route.api)
    return route


@transaction.atomic
def delete_route(route: ApiRoute) -> None:
    route.delete()
    _auto_deploy(route.api)


@transaction.atomic
def create_stage(api: HttpApi, *, name, auto_deploy=False, description="", stage_variables=None,
                 managed=False, deployment_id=None) -> ApiStage:
    if not isinstance(name, str) or not _STAGE.match(name):
        raise ApiError("BadRequest", "StageName is $default or 1 to 128 letters, digits, - and _.", field="StageName")
    if api.stages.filter(name=name).exists():
        raise ApiError("Conflict", f"Stage already exists: {name}", status=409, field="StageName")
    deployment = _stage_deployment(api, deployment_id, bool(auto_deploy))
    stage = ApiStage.objects.create(api=api, name=name, auto_deploy=bool(auto_deploy), description=description or "",
                                    stage_variables=stage_variables or {}, managed=managed, deployment=deployment)
    if stage.auto_deploy:
        _auto_deploy(api)
        stage.refresh_from_db()
    return stage


def get_stage(api: HttpApi, name: str) -> ApiStage:
    return _child(api.stages.select_related("deployment"), "Stage", name=name)


@transaction.atomic
def update_stage(stage: ApiStage, *, auto_deploy=None, description=None, stage_variables=None,
                 deployment_id=None) -> ApiStage:
    stage = ApiStage.objects.select_for_update().select_related("api").get(pk=stage.pk)
    turned_on = auto_deploy is not None and bool(auto_deploy) and not stage.auto_deploy
    if auto_deploy is not None:
        stage.auto_deploy = bool(auto_deploy)
    if deployment_id is not None:
        stage.deployment = _stage_deployment(stage.api, deployment_id, stage.auto_deploy)
    if description is not None:
        stage.description = description
    if stage_variables is not None:
        stage.stage_variables = stage_variables
    stage.save()
    if turned_on:
        _auto_deploy(stage.api)
        stage.refresh_from_db()
    return stage


@transaction.atomic
def delete_stage(stage: ApiStage) -> None:
    stage.delete()


# -- deployments -----------------------------------------------------------------------------

AUTO_DEPLOYMENT = "Automatic deployment triggered by changes to the Api configuration"


def snapshot(api: HttpApi) -> dict:
    """Returns the API's routes and integrations as a deployment keeps them."""
    return {
        "routes": [{"route_id": r.route_id, "route_key": r.route_key, "target": r.target}
                   for r in api.routes.order_by("id")],
        "integrations": {i.integration_id: {
            "integration_type": i.integration_type, "integration_uri": i.integration_uri,
            "integration_subtype": i.integration_subtype, "credentials_arn": i.credentials_arn,
            "request_parameters": i.request_parameters, "payload_format_version": i.payload_format_version,
            "timeout_ms": i.timeout_ms} for i in api.integrations.order_by("id")},
    }


def _new_deployment(api: HttpApi, description: str, auto: bool) -> ApiDeployment:
    return _unique(ApiDeployment, api, "deployment_id", lambda: _id(6), description=description or "",
                   auto_deployed=auto, snapshot=snapshot(api))


def _auto_deploy(api: HttpApi) -> None:
    """Deploys the API's AutoDeploy stages again, as they are after a change (AWS's AutoDeploy)."""
    stages = api.stages.filter(auto_deploy=True)
    if stages.exists():
        stages.update(deployment=_new_deployment(api, AUTO_DEPLOYMENT, True))


def _stage_deployment(api: HttpApi, deployment_id, auto_deploy: bool) -> ApiDeployment | None:
    if deployment_id in (None, ""):
        return None
    if auto_deploy:
        raise ApiError("BadRequest", "DeploymentId cannot be set on a stage with AutoDeploy: it is deployed on "
                       "every change.", field="DeploymentId")
    return get_deployment(api, deployment_id)


@transaction.atomic
def create_deployment(api: HttpApi, *, description="", stage_name=None) -> ApiDeployment:
    """Deploys the API as it is now; with `stage_name`, that stage serves the deployment."""
    stage = None
    if stage_name not in (None, ""):
        stage = _child(api.stages.select_for_update(), "Stage", name=stage_name)
        if stage.auto_deploy:
            raise ApiError("BadRequest", f"Stage {stage_name} has AutoDeploy: it is deployed on every change, not "
                           "by CreateDeployment.", field="StageName")
    if api.protocol_type == "HTTP" and not api.routes.exists():
        raise ApiError("BadRequest", "An API with no route cannot be deployed: create a route first.")
    deployment = _new_deployment(api, description, False)
    if stage is not None:
        stage.deployment = deployment
        stage.save(update_fields=["deployment", "updated_at"])
    return deployment


def get_deployment(api: HttpApi, deployment_id) -> ApiDeployment:
    return _child(api.deployments, "Deployment", deployment_id=deployment_id)


@transaction.atomic
def update_deployment(deployment: ApiDeployment, *, description=None) -> ApiDeployment:
    if description is not None:
        deployment.description = description
        deployment.save(update_fields=["description"])
    return deployment


@transaction.atomic
def delete_deployment(deployment: ApiDeployment) -> None:
    used = list(deployment.stages.values_list("name", flat=True))
    if used:
        raise ApiError("BadRequest", f"Deployment {deployment.deployment_id} is served by stage {used[0]}: deploy "
                       "another to it, or delete the stage, first.", field="DeploymentId")
    deployment.delete()


# -- the studio's page: an API, a route, from a target ARN ------------------------------------

def _target_integration(api: HttpApi, target_arn, credentials_arn) -> ApiIntegration:
    """Returns an integration of `api` calling the function or starting the state machine
    `target_arn` names (one already there when it has the same target), made otherwise: a Lambda
    proxy (payload 2.0), or a Step Functions integration with the request's body as the input
    (StartSyncExecution for an Express machine, StartExecution else) done as `credentials_arn`."""
    from editor.services.schedules import resolve_target

    target = resolve_target(api.owner, target_arn)
    if target is None:
        raise ApiError("BadRequest", f"Target {target_arn or '(none)'} is not a function or a state machine of this "
                       "account.", field="Target")
    if target.kind == "function":
        same = api.integrations.filter(integration_uri=target_arn, integration_subtype="").first()
        return same or create_integration(api, integration_type="AWS_PROXY", integration_uri=target_arn,
                                          payload_format_version="2.0")
    subtype = ("StepFunctions-StartSyncExecution" if target.machine.type == "EXPRESS"
               else "StepFunctions-StartExecution")
    _check_role(api.owner, credentials_arn, f"states:{SERVICE_SUBTYPES[subtype].operation}", target_arn)
    parameters = {"StateMachineArn": target_arn, "Input": "$request.body"}
    for same in api.integrations.filter(integration_subtype=subtype, credentials_arn=credentials_arn or ""):
        if same.request_parameters == parameters:
            return same
    return create_integration(api, integration_type="AWS_PROXY", integration_subtype=subtype,
                              payload_format_version="1.0", credentials_arn=credentials_arn,
                              request_parameters=parameters)


def _check_role(user, credentials_arn, action: str, resource: str) -> None:
    """Refuses a role API Gateway could not assume, or whose policy does not allow `action` on
    `resource` (the studio says so when the route is made; the AWS API, as AWS, when it is called)."""
    from editor.services.policy import evaluate
    from editor.services.schedules import resolve_role

    role = resolve_role(user, _credentials(user, credentials_arn))
    if "apigateway" not in role.trusted:
        raise ApiError("BadRequest", f"The role {role.name} does not trust apigateway.amazonaws.com (its trust "
                       "policy), so API Gateway cannot assume it.", field="CredentialsArn")
    if evaluate(role.policy, action, resource) != "allow":
        raise ApiError("BadRequest", f"The role {role.name} is not allowed to perform {action} on {resource}.",
                       field="CredentialsArn")


@transaction.atomic
def quick_create(user, *, name, target_arn, route_key=None, credentials_arn=None) -> HttpApi:
    """Creates an HTTP API whose route `route_key` ($default unless given) calls the function or
    starts the state machine `target_arn`, on an AutoDeploy $default stage."""
    api = create_api(user, name=name)
    route_text = "$default" if route_key in (None, "") else route_key
    integration = _target_integration(api, target_arn, credentials_arn)
    create_route(api, route_key=route_text, target=f"integrations/{integration.integration_id}")
    create_stage(api, name="$default", auto_deploy=True)
    return api


@transaction.atomic
def add_route(api: HttpApi, *, route_key, target_arn, credentials_arn=None) -> ApiRoute:
    """Adds the route `route_key` to the function or state machine `target_arn`."""
    text = _route_key(api, route_key)
    if api.routes.filter(route_key=text).exists():
        raise ApiError("Conflict", f"Unable to create route {text}. The route already exists.", status=409,
                       field="RouteKey")
    integration = _target_integration(api, target_arn, credentials_arn)
    return create_route(api, route_key=text, target=f"integrations/{integration.integration_id}")


def integration_machine(integration: ApiIntegration) -> str | None:
    """Returns the name of the state machine a Step Functions integration's static StateMachineArn
    names (None for a function, or a machine the request chooses)."""
    found = _MACHINE_ARN.match((integration.request_parameters or {}).get("StateMachineArn") or "")
    return found["name"] if found else None


def triggers_for(function) -> list[dict]:
    """Returns the function's HTTP API triggers for its page's overview: one per API with a route
    whose integration calls it (editor.services.triggers)."""
    found = []
    apis = HttpApi.objects.filter(owner_id=function.owner_id).prefetch_related("integrations", "routes")
    for api in apis:
        calling = {f"integrations/{i.integration_id}" for i in api.integrations.all()
                   if (ref := integration_function(i)) is not None and ref.name == function.name}
        keys = [r.route_key for r in api.routes.all() if r.target in calling]
        if keys and api.protocol_type == "WEBSOCKET":
            found.append({"kind": "websocket-api", "title": f"API Gateway (WebSocket): {api.name}",
                          "label": ", ".join(sorted(keys)), "detail": api_endpoint(api),
                          "href": f"/websocket-apis/#{api.api_id}"})
        elif keys:
            found.append({"kind": "http-api", "title": f"API Gateway: {api.name}", "label": ", ".join(sorted(keys)),
                          "detail": api_endpoint(api), "href": f"/http-apis/#{api.api_id}"})
    return found


def machine_triggers(machine) -> list[dict]:
    """Returns the HTTP APIs whose routes start (or stop executions of) the state machine, as
    trigger boxes for its page (editor.services.triggers): one per API, each route with its
    action ("POST /orders: StartExecution")."""
    found = []
    apis = HttpApi.objects.filter(owner_id=machine.owner_id, protocol_type="HTTP").prefetch_related(
        "integrations", "routes").order_by("name", "api_id")
    for api in apis:
        actions = {f"integrations/{i.integration_id}": i.integration_subtype for i in api.integrations.all()
                   if i.integration_subtype and integration_machine(i) == machine.name}
        routes = [f"{r.route_key}: {actions[r.target].replace('StepFunctions-', '')}"
                  for r in sorted(api.routes.all(), key=lambda r: r.route_key) if r.target in actions]
        if routes:
            found.append({"kind": "http-api", "title": f"API Gateway: {api.name}", "label": api.api_id,
                          "lines": routes, "detail": api_endpoint(api), "href": f"/http-apis/#{api.api_id}"})
    return found
