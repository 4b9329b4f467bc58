"""Creating, editing, validating and publishing state machines: the only code that writes them."""

from __future__ import annotations

import json
import re
import threading

from django.db import IntegrityError, transaction
from django.db.models import Max

from editor.errors import ApiError, not_found
from editor.models import Function, Role, StateMachine, StateMachineVersion
from editor.samples import machines as templates
from editor.services import validation
from editor.services.accounts import function_arn
from editor.services.roles import get_role
from runtime.asl import definition_to_dot, validate

MACHINE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
DEFINITION_LIMIT_BYTES = 1024 * 1024  # Step Functions' definition quota (1 MB)
TYPES = ("STANDARD", "EXPRESS")


def machine_name(value, field: str = "name") -> str:
    if not isinstance(value, str) or not MACHINE_NAME.match(value):
        raise ApiError("InvalidName", "A state machine name has 1 to 80 letters, digits, hyphens or underscores.",
                       field=field)
    return value


def machine_type(value, field: str = "type") -> str:
    if value not in TYPES:
        raise ApiError("InvalidType", "type is STANDARD or EXPRESS.", field=field)
    return value


def get_machine(user, name) -> StateMachine:
    if not isinstance(name, str) or not MACHINE_NAME.match(name):
        raise not_found("State machine")
    try:
        return StateMachine.objects.select_related("role").get(owner=user, name=name)
    except StateMachine.DoesNotExist:
        raise not_found("State machine") from None


def _machine_role(user, name, field: str = "role") -> Role:
    """Returns the user's role called `name` that Step Functions may assume; else says what to do."""
    if name is None or name == "":
        if not Role.objects.filter(owner=user).exists():
            raise ApiError("RoleRequired", "Create a role first: a state machine runs with a role whose policy "
                           "says which functions it may invoke.", field=field)
        raise ApiError("RoleRequired", "Choose a role.", field=field)
    if not isinstance(name, str):
        raise ApiError("InvalidType", "role is the name of one of your roles.", field=field)
    try:
        role = get_role(user, name)
    except ApiError:
        raise ApiError("RoleNotFound", f"You have no role called {name}.", field=field) from None
    if "states" not in role.trusted:
        raise ApiError("RoleNotTrusted", f"Role {name} does not trust states: Step Functions cannot assume it.",
                       field=field)
    return role


def template_definition(user, template_id: str) -> str:
    """Returns the definition text a new machine starts from."""
    template = templates.BY_ID.get(template_id) if isinstance(template_id, str) else None
    if template is None:
        raise ApiError("InvalidTemplate", f"Choose one of: {', '.join(templates.BY_ID)}.", field="template")
    if template.id == "seed":
        return templates.seed_text().replace(templates.SEED_ACCOUNT_PREFIX, function_arn(user, ""))
    text = json.dumps(template.definition, indent=2, ensure_ascii=False)
    if "{arn}hello" in text:
        first = Function.objects.filter(owner=user).order_by("name").values_list("name", flat=True).first()
        text = text.replace("{arn}hello", function_arn(user, first or "hello"))
    return text


def diagnostics(definition_text, machine_type_: str = "STANDARD") -> list[dict]:
    """Returns the validator's diagnostics for a definition text (JSON errors included)."""
    if not isinstance(definition_text, str):
        return [{"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION",
                 "message": "The definition must be JSON text.", "location": ""}]
    if len(definition_text.encode("utf-8")) > DEFINITION_LIMIT_BYTES:
        return [{"severity": "ERROR", "code": "DEFINITION_TOO_LARGE",
                 "message": "A definition is limited to 1 MB.", "location": ""}]
    found = [d.as_dict() for d in validate(definition_text, state_machine_type=machine_type_)]
    return found + _lone_surrogates(definition_text)


def _lone_surrogates(definition_text: str) -> list[dict]:
    """Returns an error diagnostic where the definition spells a lone surrogate (valid JSON, but
    no text: the execution's history could not be stored), else nothing."""
    try:
        where = validation.lone_surrogate_in(definition_text, json.loads(definition_text))
    except (ValueError, RecursionError):
        return []   # the validator has said why
    if where is None:
        return []
    return [{"severity": "ERROR", "code": "INVALID_UNICODE",
             "message": f"The string {validation.LONE_SURROGATE_SENTENCE}", "location": where}]


_dots: dict[tuple, str] = {}
_dots_lock = threading.Lock()
DOTS_KEPT = 256


def version_dot(version: StateMachineVersion) -> str:
    """Returns the DOT text of a published version's graph, drawn once per process (a version's
    definition never changes; its pk and creation time name it)."""
    key = (version.pk, version.created_at)
    dot = _dots.get(key)
    if dot is None:
        dot = definition_to_dot(version.definition)
        with _dots_lock:
            if len(_dots) >= DOTS_KEPT:
                _dots.clear()
            _dots[key] = dot
    return dot


def validate_definition(definition_text, machine_type_: str = "STANDARD") -> dict:
    """Returns {"diagnostics": [...], "dot": DOT text, or None when the text is not JSON}."""
    found = diagnostics(definition_text, machine_type_)
    dot = None
    if isinstance(definition_text, str) and len(definition_text.encode("utf-8")) <= DEFINITION_LIMIT_BYTES:
        try:
            dot = definition_to_dot(json.loads(definition_text))
        except (ValueError, RecursionError):  # not JSON, or nested beyond what json reads
            dot = None
    return {"diagnostics": found, "dot": dot}


def has_errors(found: list[dict]) -> bool:
    return any(d["severity"] == "ERROR" for d in found)


def create_machine(user, data) -> StateMachine:
    if not isinstance(data, dict):
        raise ApiError("InvalidType", "A state machine is a JSON object with name, type and role.")
    unknown = set(data) - {"name", "type", "role", "description", "template", "definition"}
    if unknown:
        field = sorted(unknown)[0]
        raise ApiError("UnknownField", f"{field} is not a state machine setting.", field=field)
    name = machine_name(data.get("name"))
    type_ = machine_type(data.get("type", "STANDARD"))
    role = _machine_role(user, data.get("role"))
    description = validation.text(data.get("description"), "description", max_length=256)
    if data.get("definition") is not None:
        definition = _definition_text(data["definition"])
    else:
        definition = template_definition(user, data.get("template") or "blank")
    try:
        with transaction.atomic():
            if StateMachine.objects.filter(owner=user, name=name).exists():
                raise IntegrityError
            machine = StateMachine.objects.create(owner=user, name=name, type=type_, role=role,
                                                  description=description, definition=definition)
            from editor.services import notifications
            from editor.services.accounts import state_machine_arn

            notifications.target_created(user, state_machine_arn(user, name))
            return machine
    except IntegrityError:
        raise ApiError("ResourceConflict", f"You already have a state machine called {name}.", status=409,
                       field="name") from None


def _definition_text(value, field: str = "definition") -> str:
    if isinstance(value, dict):
        value = json.dumps(value, indent=2, ensure_ascii=False)
    if not isinstance(value, str):
        raise ApiError("InvalidType", "definition is the definition's JSON text.", field=field)
    if len(value.encode("utf-8")) > DEFINITION_LIMIT_BYTES:
        raise ApiError("DefinitionTooLarge", "A definition is limited to 1 MB.", status=413, field=field)
    return value


@transaction.atomic
def update_machine(machine: StateMachine, data) -> StateMachine:
    """Saves the draft: the definition may be invalid while it is edited (publishing checks it)."""
    if not isinstance(data, dict):
        raise ApiError("InvalidType", "A state machine update is a JSON object.")
    unknown = set(data) - {"definition", "role", "type", "description", "name"}
    if unknown:
        field = sorted(unknown)[0]
        raise ApiError("UnknownField", f"{field} is not a state machine setting.", field=field)
    if "name" in data and data["name"] != machine.name:
        raise ApiError("ReadOnly", "A state machine cannot be renamed.", field="name")
    if "definition" in data:
        machine.definition = _definition_text(data["definition"])
    if "role" in data:
        machine.role = _machine_role(machine.owner, data["role"])
    if "type" in data:
        type_ = machine_type(data["type"])
        if type_ != machine.type and machine.versions.exists():
            raise ApiError("ReadOnly", "The type of a state machine with published versions cannot change.",
                           status=409, field="type")
        machine.type = type_
    if "description" in data:
        machine.description = validation.text(data["description"], "description", max_length=256)
    machine.save()
    return machine


@transaction.atomic
def delete_machine(machine: StateMachine) -> None:
    from editor.models import Execution

    if machine.executions.filter(status=Execution.Status.RUNNING).exists():
        raise ApiError("ExecutionsRunning", "Stop the running executions before deleting the state machine.",
                       status=409)
    from editor.services import notifications
    from editor.services.accounts import state_machine_arn
    from editor.services.schedules import target_deleted

    # Executions protect the versions they ran; they go first, with their events and invocations.
    machine.executions.all().delete()
    target_deleted(machine.owner, state_machine_arn(machine.owner, machine.name), "state machine")
    notifications.target_deleted(machine.owner, state_machine_arn(machine.owner, machine.name), "state machine")
    machine.delete()


@transaction.atomic
def publish_version(machine: StateMachine, description: str = "") -> StateMachineVersion:
    """Publishes the draft as the next immutable version; 400 with its diagnostics when invalid.

    Publishing an unchanged draft (same definition, type and role policy) returns the latest version
    (and keeps its description: AWS's PublishStateMachineVersion is idempotent the same way)."""
    machine = StateMachine.objects.select_for_update().select_related("role").get(pk=machine.pk)
    found = diagnostics(machine.definition, machine.type)
    if has_errors(found):
        error = ApiError("InvalidDefinition", "The definition has errors: fix them before publishing.",
                         field="definition")
        error.diagnostics = found
        raise error
    definition = json.loads(machine.definition)
    latest = machine.versions.order_by("-number").first()
    if (latest is not None and latest.definition == definition and latest.type == machine.type
            and latest.role_id == machine.role_id and latest.role_policy == machine.role.policy):
        return latest
    number = (machine.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return StateMachineVersion.objects.create(
        machine=machine, number=number, definition=definition, type=machine.type, role=machine.role,
        role_name=machine.role.name, role_policy=machine.role.policy,
        description=validation.text(description, "description", max_length=256))


def get_machine_version(machine: StateMachine, number) -> StateMachineVersion:
    if isinstance(number, bool) or not str(number).isdigit():
        raise not_found("Version")
    try:
        return machine.versions.get(number=int(number))
    except StateMachineVersion.DoesNotExist:
        raise not_found("Version") from None


@transaction.atomic
def delete_version(version: StateMachineVersion) -> None:
    """Deletes a published version; refused (409) while an alias routes to it or executions ran it
    (they keep the definition they ran: their history and pages need it)."""
    from editor.models import StateMachineAlias

    routed = [a.name for a in StateMachineAlias.objects.filter(machine_id=version.machine_id)
              if any(r["version"] == version.number for r in a.routing)]
    if routed:
        raise ApiError("VersionInUse", f"Version {version.number} is routed to by the alias {routed[0]}: "
                       "update or delete the alias first.", status=409)
    if version.executions.exists():
        raise ApiError("VersionInUse", f"Version {version.number} has executions; Flowbench keeps the versions "
                       "its executions ran.", status=409)
    version.delete()


TAG_LIMIT = 50


def tag_machine(machine: StateMachine, tags: list[dict]) -> StateMachine:
    """Adds or replaces `tags` ([{"key", "value"}]) on the machine; at most 50 in all."""
    found = {t["key"]: t["value"] for t in machine.tags}
    for tag in tags:
        key, value = tag.get("key"), tag.get("value", "")
        validation.text(key, "tags.key", max_length=128, required=True)
        validation.text(value, "tags.value", max_length=256)
        found[key] = value or ""
    if len(found) > TAG_LIMIT:
        raise ApiError("TooManyTags", f"A state machine has at most {TAG_LIMIT} tags.", field="tags")
    machine.tags = [{"key": k, "value": v} for k, v in found.items()]
    machine.save(update_fields=["tags", "updated_at"])
    return machine


def untag_machine(machine: StateMachine, keys: list[str]) -> StateMachine:
    machine.tags = [t for t in machine.tags if t["key"] not in set(keys)]
    machine.save(update_fields=["tags", "updated_at"])
    return machine


def configure_machine(machine: StateMachine, *, logging=None, tracing=None) -> StateMachine:
    """Stores the logging and tracing configurations the AWS API gives (kept and shown, not acted on)."""
    fields = []
    if logging is not None:
        machine.logging, fields = logging, fields + ["logging"]
    if tracing is not None:
        machine.tracing, fields = tracing, fields + ["tracing"]
    if fields:
        machine.save(update_fields=fields + ["updated_at"])
    return machine


def current_version(machine: StateMachine) -> StateMachineVersion | None:
    """Returns the version that runs the machine's current definition: the latest version when the
    draft is what it holds, else the draft published now when it is valid (as Step Functions runs
    a machine's latest revision); else the latest version (a draft the studio left invalid), or None."""
    latest = machine.versions.order_by("-number").first()
    try:
        draft = json.loads(machine.definition)
    except (ValueError, RecursionError):
        return latest
    if (latest is not None and latest.definition == draft and latest.type == machine.type
            and latest.role_id == machine.role_id and latest.role_policy == machine.role.policy):
        return latest
    if has_errors(diagnostics(machine.definition, machine.type)):
        return latest
    return publish_version(machine)
