"""Creating, editing and deleting roles: the only code that writes them."""

from __future__ import annotations

import json
import re

from django.db import IntegrityError, transaction

from editor.errors import ApiError, not_found
from editor.models import Role
from editor.services import validation
from editor.services.policy import default_policy, validate_policy

ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
TRUSTED = ("states", "lambda")


def role_name(value, field: str = "name") -> str:
    if not isinstance(value, str) or not ROLE_NAME.match(value):
        raise ApiError("InvalidName", "A role name has 1 to 64 letters, digits or + = , . @ _ -.", field=field)
    return value


def trusted(value, field: str = "trusted") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError("InvalidType", 'trusted is a list of services: "states", "lambda".', field=field)
    for index, item in enumerate(value):
        if item not in TRUSTED:
            raise ApiError("InvalidTrustedService", f'{item!r} is not a service: use "states" or "lambda".',
                           field=f"{field}/{index}")
    return [t for t in TRUSTED if t in value]


def policy_document(value, field: str = "policy") -> dict:
    """Returns the policy (an object or its JSON text) once valid; else 400 at its first problem."""
    problems = validate_policy(value)
    if problems:
        first = problems[0]
        raise ApiError("InvalidPolicy", first["message"], field=f"{field}{first['pointer']}")
    return json.loads(value) if isinstance(value, str) else value


def get_role(user, name) -> Role:
    if not isinstance(name, str) or not ROLE_NAME.match(name):
        raise not_found("Role")
    try:
        return Role.objects.get(owner=user, name=name)
    except Role.DoesNotExist:
        raise not_found("Role") from None


def create_role(user, data) -> Role:
    if not isinstance(data, dict):
        raise ApiError("InvalidType", "A role is a JSON object with name, trusted and policy.")
    unknown = set(data) - {"name", "description", "trusted", "policy"}
    if unknown:
        field = sorted(unknown)[0]
        raise ApiError("UnknownField", f"{field} is not a role setting.", field=field)
    name = role_name(data.get("name"))
    description = validation.text(data.get("description"), "description", max_length=1000)
    services = trusted(data.get("trusted", ["states"]))
    policy = policy_document(data["policy"]) if data.get("policy") is not None else default_policy(user)
    try:
        with transaction.atomic():
            if Role.objects.filter(owner=user, name=name).exists():
                raise IntegrityError
            return Role.objects.create(owner=user, name=name, description=description, trusted=services,
                                       policy=policy)
    except IntegrityError:
        raise ApiError("ResourceConflict", f"You already have a role called {name}.", status=409,
                       field="name") from None


@transaction.atomic
def update_role(role: Role, data) -> Role:
    if not isinstance(data, dict):
        raise ApiError("InvalidType", "A role is a JSON object with description, trusted and policy.")
    unknown = set(data) - {"description", "trusted", "policy", "name"}
    if unknown:
        field = sorted(unknown)[0]
        raise ApiError("UnknownField", f"{field} is not a role setting.", field=field)
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
    if "policy" in data:
        role.policy = policy_document(data["policy"])
    role.save()
    return role


@transaction.atomic
def delete_role(role: Role) -> None:
    used = list(role.machines.values_list("name", flat=True))
    if used:
        raise ApiError("RoleInUse", f"State machines use this role: {', '.join(used)}.", status=409)
    if role.__class__.objects.filter(pk=role.pk).exists() and _versions_use(role):
        raise ApiError("RoleInUse", "Published state machine versions use this role.", status=409)
    role.delete()


def _versions_use(role: Role) -> bool:
    from editor.models import StateMachineVersion

    return StateMachineVersion.objects.filter(role=role).exists()
