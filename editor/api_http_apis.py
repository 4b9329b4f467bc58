"""The JSON API of the HTTP APIs page: each of the user's HTTP APIs with its invoke URLs, its routes
and what each calls (a function or a state machine, with links), its integrations, its stages with
their deployments, and the last requests its functions answered; quick create (a name, a target and
a route key), add a route, deploy a stage, delete an API. Bodies use API Gateway's member names (`Name`, `Target`,
`RouteKey`, `CredentialsArn`), which refusals name as their `field`."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.urls import reverse

from editor.api import api, read_json
from editor.errors import ApiError
from editor.models import ApiIntegration, Function, HttpApi, Invocation, Role, StateMachine
from editor.serializers import iso
from editor.services import http_apis
from editor.services.accounts import function_arn, role_arn, state_machine_arn

REQUESTS_SHOWN = 10


def _integration_json(integration: ApiIntegration) -> dict:
    found = {"integration_id": integration.integration_id, "type": integration.integration_type,
             "subtype": integration.integration_subtype or None, "uri": integration.integration_uri or None,
             "payload_format_version": integration.payload_format_version,
             "credentials_arn": integration.credentials_arn or None,
             "request_parameters": integration.request_parameters or None,
             "function": None, "machine": None, "link": None, "missing": None}
    owner = integration.api.owner
    if integration.integration_subtype:
        machine = http_apis.integration_machine(integration)
        found["machine"] = machine
        if machine and not StateMachine.objects.filter(owner=owner, name=machine).exists():
            found["missing"] = (f"The state machine {machine} does not exist (deleted?): requests to its routes "
                                "answer 500 Internal Server Error until it exists again.")
        found["link"] = reverse("machine", args=[machine]) if machine and not found["missing"] else None
    else:
        ref = http_apis.integration_function(integration)
        found["function"] = ref.name if ref else None
        if ref and not Function.objects.filter(owner=owner, name=ref.name).exists():
            found["missing"] = (f"The function {ref.name} does not exist (deleted?): requests to its routes "
                                "answer 500 Internal Server Error until it exists again.")
        found["link"] = reverse("function", args=[ref.name]) if ref and not found["missing"] else None
    return found


def _request_json(invocation: Invocation) -> dict:
    event = invocation.request if isinstance(invocation.request, dict) else {}
    context = event.get("requestContext") or {}
    method = (context.get("http") or {}).get("method") or event.get("httpMethod")
    return {"id": str(invocation.id), "at": iso(invocation.started_at), "status": invocation.status,
            "function": invocation.function.name, "method": method,
            "path": event.get("rawPath") or event.get("path"), "stage": context.get("stage"),
            "route_key": event.get("routeKey") or context.get("resourceId"), "duration_ms": invocation.duration_ms,
            "link": reverse("function", args=[invocation.function.name]) + f"#invocation-{invocation.id}"}


def api_json(api_obj: HttpApi) -> dict:
    endpoint = http_apis.api_endpoint(api_obj)
    integrations = {i.integration_id: _integration_json(i) for i in api_obj.integrations.select_related("api__owner").order_by("id")}
    stages = []
    for stage in api_obj.stages.select_related("deployment").order_by("name"):
        deployment = stage.deployment
        stages.append({"name": stage.name, "auto_deploy": stage.auto_deploy,
                       "url": endpoint + ("" if stage.name == "$default" else f"/{stage.name}"),
                       "deployment_id": deployment.deployment_id if deployment else None,
                       "deployed_at": iso(deployment.created_at) if deployment else None,
                       "stage_variables": stage.stage_variables or {}})
    routes = [{"route_id": r.route_id, "route_key": r.route_key,
               "integration": integrations.get(r.target.split("/", 1)[-1]) if r.target else None}
              for r in api_obj.routes.order_by("route_key")]
    requests = (Invocation.objects.filter(function__owner=api_obj.owner, source=Invocation.Source.HTTP_API,
                                          request__requestContext__apiId=api_obj.api_id)
                .select_related("function").order_by("-started_at")[:REQUESTS_SHOWN])
    return {"api_id": api_obj.api_id, "name": api_obj.name, "endpoint": endpoint,
            "host_endpoint": http_apis.host_endpoint(api_obj), "created_at": iso(api_obj.created_at),
            "routes": routes, "integrations": list(integrations.values()), "stages": stages,
            "requests": [_request_json(i) for i in requests]}


def _choices(user) -> dict:
    """What the forms offer: the user's functions, state machines and roles, by ARN."""
    return {
        "functions": [{"name": f.name, "arn": function_arn(user, f.name)}
                      for f in Function.objects.filter(owner=user).order_by("name")],
        "machines": [{"name": m.name, "arn": state_machine_arn(user, m.name), "type": m.type}
                     for m in StateMachine.objects.filter(owner=user).order_by("name")],
        "roles": [{"name": r.name, "arn": role_arn(user, r.name, r.path), "trusts_apigateway": "apigateway" in r.trusted}
                  for r in Role.objects.filter(owner=user).order_by("name")],
    }


@api("GET", "POST")
def http_api_list(request):
    if request.method == "POST":
        data = read_json(request)
        api_obj = http_apis.quick_create(request.user, name=data.get("Name"), target_arn=data.get("Target"),
                                         route_key=data.get("RouteKey"), credentials_arn=data.get("CredentialsArn"))
        return JsonResponse(api_json(api_obj), status=201)
    apis = HttpApi.objects.filter(owner=request.user, protocol_type="HTTP").order_by("name", "api_id")
    return JsonResponse({"apis": [api_json(a) for a in apis], "choices": _choices(request.user)})


def _http_api(request, api_id: str) -> HttpApi:
    api_obj = http_apis.get_api(request.user, api_id)
    if api_obj.protocol_type != "HTTP":
        raise ApiError("NotFound", f"Invalid API identifier specified {api_id}", status=404)
    return api_obj


@api("GET", "DELETE")
def http_api_detail(request, api_id):
    api_obj = _http_api(request, api_id)
    if request.method == "DELETE":
        http_apis.delete_api(api_obj)
        return HttpResponse(status=204)
    return JsonResponse(api_json(api_obj))


@api("POST")
def http_api_routes(request, api_id):
    data = read_json(request)
    api_obj = _http_api(request, api_id)
    http_apis.add_route(api_obj, route_key=data.get("RouteKey"), target_arn=data.get("Target"),
                        credentials_arn=data.get("CredentialsArn"))
    return JsonResponse(api_json(api_obj), status=201)


@api("POST")
def http_api_deployments(request, api_id):
    """Deploys the API as it is now to the stage `StageName` (one without AutoDeploy)."""
    data = read_json(request)
    api_obj = _http_api(request, api_id)
    stage = data.get("StageName")
    if not isinstance(stage, str) or not stage:
        raise ApiError("BadRequest", "StageName names the stage to deploy to.", field="StageName")
    http_apis.create_deployment(api_obj, description=data.get("Description") or "", stage_name=stage)
    return JsonResponse(api_json(api_obj), status=201)
