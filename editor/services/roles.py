"""Creating, editing and deleting roles and their inline policies: the only code that writes them.

A role is IAM's: a name (unique per person, whatever its case, as IAM's are), who may assume it
(`trusted`, which is its AssumeRolePolicyDocument: see `trust_policy`) and named inline policies
whose statements together are what it may do (`Role.policy`). The studio's role pages and the IAM
API (editor.aws.providers.iam) both call these functions.
"""

from __future__ import annotations

import json
import re
import secrets
import string

from django.db import IntegrityError, transaction

from editor.errors import ApiError, not_found
from editor.models import Role, RolePolicy
from editor.services import validation
from editor.services.policy import default_policy, validate_policy

ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
POLICY_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,128}$")
ROLE_PATH = re.compile(r"^(/|/[\x21-\x7e]+/)$")
TRUSTED = ("states", "lambda", "scheduler", "apigateway")
SERVICE_PRINCIPALS = {"states": "states.amazonaws.com", "lambda": "lambda.amazonaws.com",
                      "scheduler": "scheduler.amazonaws.com", "apigateway": "apigateway.amazonaws.com"}
DEFAULT_POLICY_NAME = "flowbench-policy"
# IAM's quota: the inline policies of one role add up to 10,240 characters (whitespace not counted).
INLINE_POLICIES_LIMIT = 10240
ROLE_FIELDS = {"name", "description", "trusted", "policy", "policy_name", "path", "tags", "max_session_duration"}


def role_name(value, field: str = "name") -> str:
    if not isinstance(value, str) or not ROLE_NAME.match(value):
        raise ApiError("InvalidName", "A role name has 1 to 64 letters, digits or + = , . @ _ -.", field=field)
    return value


def policy_name(value, field: str = "policy_name") -> str:
    if not isinstance(value, str) or not POLICY_NAME.match(value):
        raise ApiError("InvalidName", "A policy name has 1 to 128 letters, digits or + = , . @ _ -.", field=field)
    return value


def trusted(value, field: str = "trusted") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError("InvalidType", 'trusted is a list of services: "states", "lambda".', field=field)
    for index, item in enumerate(value):
        if item not in TRUSTED:
            raise ApiError("InvalidTrustedService", f'{item!r} is not a service: use "states" or "lambda".',
                           field=f"{field}/{index}")
    return [t for t in TRUSTED if t in value]


def trust_policy(services: list[str]) -> dict:
    """Returns the AssumeRolePolicyDocument that lets `services` ("states", "lambda") assume a role."""
    principals = [SERVICE_PRINCIPALS[s] for s in services]
    statements = [{"Effect": "Allow", "Principal": {"Service": principals if len(principals) > 1 else principals[0]},
                   "Action": "sts:AssumeRole"}] if principals else []
    return {"Version": "2012-10-17", "Statement": statements}


def trusted_from_document(document, field: str = "assume_role_policy") -> list[str]:
    """Returns the services a trust policy (an object or its JSON text) lets assume the role; a
    document Flowbench cannot honour (another principal, a Condition, ...) is refused."""
    def refuse(message: str):
        raise ApiError("InvalidTrustPolicy", message, field=field)

    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            refuse("The trust policy is not valid JSON.")
    if not isinstance(document, dict) or "Statement" not in document:
        refuse("A trust policy is a JSON object with Version and Statement.")
    if document.get("Version") not in ("2012-10-17", "2008-10-17"):
        refuse('The trust policy\'s Version must be "2012-10-17".')
    statements = document["Statement"]
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list):
        refuse("Statement is a list of statements.")
    by_principal = {principal: service for service, principal in SERVICE_PRINCIPALS.items()}
    found = set()
    for statement in statements:
        if not isinstance(statement, dict) or set(statement) - {"Sid", "Effect", "Principal", "Action"}:
            refuse("Each trust statement has Effect, Principal and Action (and an optional Sid) only.")
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") != "Allow" or actions != ["sts:AssumeRole"]:
            refuse('Each trust statement allows "sts:AssumeRole" (Effect "Allow").')
        principal = statement.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) and set(principal) == {"Service"} else None
        services = [services] if isinstance(services, str) else services
        if not isinstance(services, list) or not services:
            refuse('Flowbench roles trust services only: "Principal": {"Service": "states.amazonaws.com"}.')
        for service in services:
            if service not in by_principal:
                refuse(f"Invalid principal in policy: \"SERVICE\":\"{service}\" (Flowbench roles trust "
                       "states.amazonaws.com, lambda.amazonaws.com, scheduler.amazonaws.com and "
                       "apigateway.amazonaws.com).")
            found.add(by_principal[service])
    return [t for t in TRUSTED if t in found]


def policy_document(value, field: str = "policy") -> dict:
    """Returns the policy (an object or its JSON text) once valid; else 400 at its first problem."""
    problems = validate_policy(value)
    if problems:
        first = problems[0]
        raise ApiError("InvalidPolicy", first["message"], field=f"{field}{first['pointer']}")
    return json.loads(value) if isinstance(value, str) else value


def _new_role_id() -> str:
    """Returns a role id as IAM shows them: AROA and 17 uppercase letters and digits."""
    return "AROA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17))


def get_role(user, name) -> Role:
    if not isinstance(name, str) or not ROLE_NAME.match(name):
        raise not_found("Role")
    try:
        return Role.objects.get(owner=user, name=name)
    except Role.DoesNotExist:
        raise not_found("Role") from None


def _unknown_fields(data, allowed: set[str], what: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        field = sorted(unknown)[0]
        raise ApiError("UnknownField", f"{field} is not {what}.", field=field)


def _tags(value, field: str = "tags") -> list[dict]:
    if not isinstance(value, list) or not all(
            isinstance(t, dict) and set(t) == {"Key", "Value"} and isinstance(t["Key"], str)
            and isinstance(t["Value"], str) for t in value):
        raise ApiError("InvalidType", "tags is a list of {Key, Value} strings.", field=field)
    return value


def create_role(user, data) -> Role:
    """Creates a role from `data` (name, description, trusted, policy, policy_name, path, tags,
    max_session_duration). Without a `policy` key the role gets the default policy as its one inline
    policy; `"policy": None` gives it none (IAM's CreateRole)."""
    if not isinstance(data, dict):
        raise ApiError("InvalidType", "A role is a JSON object with name, trusted and policy.")
    _unknown_fields(data, ROLE_FIELDS, "a role setting")
    name = role_name(data.get("name"))
    description = validation.text(data.get("description"), "description", max_length=1000)
    services = trusted(data.get("trusted", ["states"]))
    path = data.get("path", "/")
    if not isinstance(path, str) or len(path) > 512 or not ROLE_PATH.match(path):
        raise ApiError("InvalidPath", "A path starts and ends with /, e.g. /service-role/.", field="path")
    tags = _tags(data.get("tags", []))
    duration = validation.integer(data.get("max_session_duration", 3600), "max_session_duration", 3600, 43200)
    if "policy" not in data:
        policy = default_policy(user)
    elif data["policy"] is None:
        policy = None
    else:
        policy = policy_document(data["policy"])
    inline_name = policy_name(data.get("policy_name", DEFAULT_POLICY_NAME))
    try:
        with transaction.atomic():
            if Role.objects.filter(owner=user, name__iexact=name).exists():
                raise IntegrityError
            role = Role.objects.create(owner=user, name=name, role_id=_new_role_id(), path=path,
                                       description=description, trusted=services, tags=tags,
                                       max_session_duration=duration)
            if policy is not None:
                RolePolicy.objects.create(role=role, name=inline_name, document=policy)
            return role
    except IntegrityError:
        raise ApiError("ResourceConflict", f"You already have a role called {name}.", status=409,
                       field="name") from None


@transaction.atomic
def update_role(role: Role, data) -> Role:
    """Changes a role's description, trusted services or maximum session duration."""
    if not isinstance(data, dict):
        raise ApiError("InvalidType", "A role is a JSON object with description and trusted.")
    if "policy" in data:
        raise ApiError("UnknownField", "A role's policies are changed one by one: PUT /api/roles/<role>/policies/"
                       "<policy>.", field="policy")
    _unknown_fields(data, {"description", "trusted", "name", "max_session_duration"}, "a role setting")
    if "name" in data and data["name"] != role.name:
        raise ApiError("ReadOnly", "A role cannot be renamed.", field="name")
    if "description" in data:
        role.description = validation.text(data["description"], "description", max_length=1000)
    if "trusted" in data:
        services = trusted(data["trusted"])
        if "states" not in services and role.machines.exists():
            raise ApiError("RoleInUse", "State machines use this role: it must keep trusting states.",
                           status=409, field="trusted")
        role.trusted = services
    if "max_session_duration" in data:
        role.max_session_duration = validation.integer(data["max_session_duration"], "max_session_duration",
                                                       3600, 43200)
    role.save()
    return role


@transaction.atomic
def delete_role(role: Role) -> None:
    """Deletes a role and its inline policies; refused while a state machine (or a version) uses it."""
    used = list(role.machines.values_list("name", flat=True))
    if used:
        raise ApiError("RoleInUse", f"State machines use this role: {', '.join(used)}.", status=409)
    if role.__class__.objects.filter(pk=role.pk).exists() and _versions_use(role):
        raise ApiError("RoleInUse", "Published state machine versions use this role.", status=409)
    role.delete()


def _versions_use(role: Role) -> bool:
    from editor.models import StateMachineVersion

    return StateMachineVersion.objects.filter(role=role).exists()


def get_role_policy(role: Role, name) -> RolePolicy:
    """Returns the role's inline policy `name`, or a 404."""
    found = role.inline_policies.filter(name=name).first() if isinstance(name, str) else None
    if found is None:
        raise not_found("Policy")
    return found


def _size(document: dict) -> int:
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))


@transaction.atomic
def put_role_policy(role: Role, name, document) -> RolePolicy:
    """Creates or replaces the role's inline policy `name` (a valid policy document, its object or
    JSON text); all of a role's inline policies together stay within IAM's 10,240 characters."""
    name = policy_name(name, "name")
    role = Role.objects.select_for_update().get(pk=role.pk)
    others = sum(_size(p.document) for p in role.inline_policies.exclude(name=name))
    try:
        parsed = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        parsed = None   # policy_document says where the text goes wrong
    if parsed is not None and others + _size(parsed) > INLINE_POLICIES_LIMIT:
        raise ApiError("LimitExceeded", f"Maximum policy size of {INLINE_POLICIES_LIMIT} bytes exceeded for role "
                       f"{role.name}", status=409, field="document")
    document = policy_document(document, "document")
    found, _created = RolePolicy.objects.update_or_create(role=role, name=name, defaults={"document": document})
    role.save(update_fields=["updated_at"])
    return found


@transaction.atomic
def delete_role_policy(role: Role, name) -> None:
    get_role_policy(role, name).delete()
    role.save(update_fields=["updated_at"])
