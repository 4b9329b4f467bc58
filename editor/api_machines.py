"""The JSON API of roles, state machines and executions. Every refusal is an ApiError."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse

from editor.api import api, read_json
from editor.errors import ApiError, error_response
from editor.models import Execution, Role, StateMachine
from editor.serializers import invocation_json, iso
from editor.services import executions as runs
from editor.services import machines, roles
from editor.services import test_state as testing
from editor.services.validation import parse_json
from editor.services.accounts import execution_arn, role_arn
from editor.services.policy import default_policy, validate_policy
from editor.samples import machines as templates


def role_json(role: Role) -> dict:
    return {"name": role.name, "description": role.description, "trusted": role.trusted,
            "assume_role_policy": roles.trust_policy(role.trusted),
            "policies": [role_policy_json(p) for p in role.inline_policies.all()], "policy": role.policy,
            "arn": role_arn(role.owner_id, role.name, role.path), "role_id": role.role_id, "path": role.path,
            "created_at": iso(role.created_at), "updated_at": iso(role.updated_at),
            "machines": sorted(role.machines.values_list("name", flat=True))}


def role_policy_json(policy) -> dict:
    return {"name": policy.name, "document": policy.document, "updated_at": iso(policy.updated_at)}


# -- roles ------------------------------------------------------------------------------------

@api("GET", "POST")
def role_list(request):
    if request.method == "POST":
        return JsonResponse(role_json(roles.create_role(request.user, read_json(request))), status=201)
    found = Role.objects.filter(owner=request.user).prefetch_related("inline_policies")
    return JsonResponse({"roles": [role_json(r) for r in found]})


@api("GET", "PUT", "DELETE")
def role_detail(request, name):
    role = roles.get_role(request.user, name)
    if request.method == "DELETE":
        roles.delete_role(role)
        return HttpResponse(status=204)
    if request.method == "PUT":
        role = roles.update_role(role, read_json(request))
    return JsonResponse(role_json(role))


@api("GET", "PUT", "DELETE")
def role_policy_detail(request, name, policy):
    """One inline policy of a role: PUT {"document": ...} creates or replaces it."""
    role = roles.get_role(request.user, name)
    if request.method == "PUT":
        data = read_json(request)
        if "document" not in data:
            raise ApiError("Required", "document is required.", field="document")
        return JsonResponse(role_policy_json(roles.put_role_policy(role, policy, data["document"])))
    if request.method == "DELETE":
        roles.delete_role_policy(role, policy)
        return HttpResponse(status=204)
    return JsonResponse(role_policy_json(roles.get_role_policy(role, policy)))


@api("GET")
def role_default_policy(request):
    return JsonResponse({"policy": default_policy(request.user)})


@api("POST")
def policy_validate(request):
    data = read_json(request)
    if "policy" not in data:
        raise ApiError("Required", "policy is required.", field="policy")
    return JsonResponse({"diagnostics": validate_policy(data["policy"])})


# -- state machines ---------------------------------------------------------------------------

def _last_execution(machine: StateMachine):
    last = machine.executions.filter(map_run__isnull=True).order_by("-started_at").first()
    return None if last is None else {"id": str(last.id), "status": last.status, "started_at": iso(last.started_at)}


def machine_summary(machine: StateMachine) -> dict:
    latest = machine.versions.order_by("-number").first()
    return {"name": machine.name, "type": machine.type, "role": machine.role.name, "description": machine.description,
            "updated_at": iso(machine.updated_at), "latest_version": latest.number if latest else None,
            "last_execution": _last_execution(machine)}


def machine_json(machine: StateMachine) -> dict:
    found = machines.diagnostics(machine.definition, machine.type)
    latest = machine.versions.order_by("-number").first()
    return {"name": machine.name, "type": machine.type, "role": machine.role.name, "description": machine.description,
            "definition": machine.definition, "draft_valid": not machines.has_errors(found), "diagnostics": found,
            "versions": [{"number": v.number, "created_at": iso(v.created_at)} for v in machine.versions.all()],
            "latest_version": latest.number if latest else None,
            "draft_published": latest is not None and _same_definition(latest.definition, machine.definition),
            "created_at": iso(machine.created_at), "updated_at": iso(machine.updated_at)}


def _same_definition(published, draft_text) -> bool:
    import json

    try:
        return json.loads(draft_text) == published
    except ValueError:
        return False


@api("GET", "POST")
def machine_list(request):
    if request.method == "POST":
        machine = machines.create_machine(request.user, read_json(request))
        return JsonResponse(machine_json(machine), status=201)
    found = StateMachine.objects.filter(owner=request.user).select_related("role")
    return JsonResponse({"state_machines": [machine_summary(m) for m in found]})


@api("GET")
def machine_templates(request):
    return JsonResponse({"templates": [{"id": t.id, "title": t.title, "description": t.description}
                                       for t in templates.TEMPLATES]})


@api("POST")
def machine_validate(request):
    data = read_json(request)
    if "definition" not in data:
        raise ApiError("Required", "definition is required.", field="definition")
    definition = data["definition"]
    if isinstance(definition, dict):
        import json

        definition = json.dumps(definition)
    machine_type = machines.machine_type(data.get("type", "STANDARD"))
    return JsonResponse(machines.validate_definition(definition, machine_type))


@api("GET", "PUT", "DELETE")
def machine_detail(request, name):
    machine = machines.get_machine(request.user, name)
    if request.method == "DELETE":
        machines.delete_machine(machine)
        return HttpResponse(status=204)
    if request.method == "PUT":
        machine = machines.update_machine(machine, read_json(request))
    return JsonResponse(machine_json(machine))


@api("GET", "POST")
def machine_versions(request, name):
    machine = machines.get_machine(request.user, name)
    if request.method == "POST":
        try:
            version = machines.publish_version(machine)
        except ApiError as error:
            if getattr(error, "diagnostics", None) is None:
                raise
            response = error_response(error)
            body = {**error.as_dict(), "diagnostics": error.diagnostics}
            import json

            response.content = json.dumps(body).encode()
            return response
        return JsonResponse({"number": version.number, "created_at": iso(version.created_at)}, status=201)
    return JsonResponse({"versions": [{"number": v.number, "created_at": iso(v.created_at)}
                                      for v in machine.versions.all()]})


@api("GET")
def machine_version(request, name, number):
    machine = machines.get_machine(request.user, name)
    version = machines.get_machine_version(machine, number)
    return JsonResponse({"number": version.number, "definition": version.definition, "type": version.type,
                         "role": version.role_name, "dot": machines.version_dot(version),
                         "created_at": iso(version.created_at)})


# -- executions -------------------------------------------------------------------------------

def execution_summary(execution: Execution) -> dict:
    return {"id": str(execution.id), "name": execution.name, "status": execution.status,
            "started_at": iso(execution.started_at), "stopped_at": iso(execution.stopped_at),
            "version": execution.version.number, "redrive_count": execution.redrive_count}


def execution_json(execution: Execution) -> dict:
    definition = execution.version.definition
    return {**execution_summary(execution), "machine": execution.machine.name, "arn": execution_arn(execution),
            "input": execution.input, "output": execution.output, "error": execution.error, "cause": execution.cause,
            "transitions": execution.transitions, "type": execution.version.type,
            "role": execution.version.role_name, "redriven_at": iso(execution.redriven_at),
            "definition": definition, "dot": machines.version_dot(execution.version)}


STATUSES = {s.value for s in Execution.Status}


@api("GET", "POST")
def machine_executions(request, name):
    machine = machines.get_machine(request.user, name)
    if request.method == "POST":
        data = read_json(request, limit=2 * 1024 * 1024)
        unknown = set(data) - {"input", "name", "version"}
        if unknown:
            field = sorted(unknown)[0]
            raise ApiError("UnknownField", f"{field} is not a field of a start request.", field=field)
        execution = runs.start_execution(request.user, machine, data.get("input"), name=data.get("name"),
                                         version=data.get("version"))
        return JsonResponse(execution_json(execution), status=201)
    # A Distributed Map's children are listed on their Map Run's page only, as AWS lists them.
    found = machine.executions.filter(map_run__isnull=True).select_related("version")
    status = request.GET.get("status")
    if status:
        if status not in STATUSES:
            raise ApiError("InvalidStatus", f"status is one of {', '.join(sorted(STATUSES))}.", field="status")
        found = found.filter(status=status)
    return JsonResponse({"executions": [execution_summary(e) for e in found[:200]]})


@api("GET")
def machine_recent_inputs(request, name):
    machine = machines.get_machine(request.user, name)
    return JsonResponse({"inputs": runs.recent_inputs(machine)})


@api("GET")
def execution_detail(request, execution_id):
    return JsonResponse(execution_json(runs.get_execution(request.user, execution_id)))


@api("GET")
def execution_events(request, execution_id):
    execution = runs.get_execution(request.user, execution_id)
    after = request.GET.get("after", "0")
    if not after.isdigit():
        raise ApiError("InvalidType", "after is an event id (a whole number).", field="after")
    return JsonResponse({"events": runs.events_after(execution, int(after))})


@api("POST")
def execution_stop(request, execution_id):
    execution = runs.get_execution(request.user, execution_id)
    data = read_json(request)
    execution = runs.stop_execution(request.user, execution, data.get("error"), data.get("cause"))
    return JsonResponse(execution_json(runs.get_execution(request.user, execution.id)))


@api("POST")
def execution_redrive(request, execution_id):
    execution = runs.get_execution(request.user, execution_id)
    runs.redrive_execution(request.user, execution)
    return JsonResponse(execution_json(runs.get_execution(request.user, execution.id)))


@api("GET")
def execution_invocations(request, execution_id):
    execution = runs.get_execution(request.user, execution_id)
    found = execution.invocations.select_related("function").order_by("started_at")
    return JsonResponse({"invocations": [
        {**invocation_json(i), "function": i.function.name, "state": i.state_name,
         "duration": i.duration_ms} for i in found]})


# -- TestState --------------------------------------------------------------------------------

_TEST_STATE_FIELDS = {"state", "input", "definition", "mock", "variables", "retryCount"}


@api("POST")
def machine_test_state(request, name):
    """Runs one state of the machine (its saved draft, or the editor's `definition` text) as AWS's
    TestState does: {state, input (JSON text), mock: {result (JSON text)} | {error, cause} | null,
    variables, retryCount} -> the status, output, next state and each step's value as JSON text."""
    machine = machines.get_machine(request.user, name)
    data = read_json(request)
    unknown = set(data) - _TEST_STATE_FIELDS
    if unknown:
        field = sorted(unknown)[0]
        raise ApiError("UnknownField", f"{field} is not a field of a TestState request.", field=field)
    state = data.get("state")
    if not isinstance(state, str) or not state:
        raise ApiError("Required", "state is the name of the state to test.", field="state")
    definition = data.get("definition", machine.definition)
    if not isinstance(definition, str):
        raise ApiError("InvalidType", "definition is the definition's JSON text.", field="definition")
    mock = data.get("mock")
    if isinstance(mock, dict) and "result" in mock:
        if not isinstance(mock["result"], str):
            raise ApiError("InvalidType", "mock.result is JSON text.", field="mock.result")
        mock = {**mock, "result": parse_json(mock["result"], "mock.result", "The mocked result is not JSON")}
    try:
        result = testing.test_state(request.user, definition, data.get("input"), role=machine.role,
                                    state_name=state, mock=testing.read_mock(mock), variables=data.get("variables"),
                                    retry_count=data.get("retryCount", 0), machine_name=machine.name,
                                    machine_type=machine.type)
    except ApiError as error:
        if error.field == "stateName":   # the AWS API's name for what this request calls `state`
            raise ApiError(error.code, error.message.replace("stateName", "state"), field="state") from None
        raise
    shape = result.as_dict("DEBUG")
    steps = shape.pop("inspectionData")
    return JsonResponse({
        "state": result.state_name, "status": result.status, "output": shape.get("output"),
        "error": result.error, "cause": result.cause, "nextState": result.next_state,
        "steps": [{"step": key, "value": value} for key, value in steps.items() if key not in ("errorDetails", "variables")],
        "variables": steps.get("variables"), "errorDetails": steps.get("errorDetails")})
