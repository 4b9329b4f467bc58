"""State machine aliases: a name routing executions to one or two published versions by weight
(Step Functions' aliases). The only code that writes them; StartExecution on an alias asks
`pick_version` which version runs.

    create_alias(machine, "prod", [{"version": 3, "weight": 90}, {"version": 4, "weight": 10}])
"""

from __future__ import annotations

import random
import re

from django.db import IntegrityError, transaction

from editor.errors import ApiError, not_found
from editor.models import StateMachine, StateMachineAlias, StateMachineVersion
from editor.services import validation

# AWS's alias names: letters, digits, - _ . with at least one non-digit (a number is a version).
ALIAS_NAME = re.compile(r"^(?=.*[a-zA-Z_.-])[a-zA-Z0-9_.-]{1,80}$")


def alias_name(value, field: str = "name") -> str:
    if not isinstance(value, str) or not ALIAS_NAME.match(value):
        raise ApiError("InvalidName", "An alias name has 1 to 80 letters, digits, hyphens, underscores or "
                                      "periods, and is not a number.", field=field)
    return value


def get_alias(machine: StateMachine, name) -> StateMachineAlias:
    found = machine.aliases.filter(name=name).first() if isinstance(name, str) else None
    if found is None:
        raise not_found("Alias")
    return found


def routing(machine: StateMachine, value, field: str = "routingConfiguration") -> list[dict]:
    """Returns the routing [{"version": n, "weight": w}] checked: one or two distinct published
    versions of `machine` whose weights (0-100) add up to 100."""
    if not isinstance(value, list) or not 1 <= len(value) <= 2:
        raise ApiError("InvalidRouting", "An alias routes to one or two versions.", field=field)
    found = []
    for item in value:
        version, weight = item.get("version"), item.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            raise ApiError("InvalidRouting", "A weight is a whole number from 0 to 100.", field=field)
        if not machine.versions.filter(number=version).exists():
            raise ApiError("VersionNotFound", f"Version {version} of {machine.name} does not exist.",
                           status=404, field=field)
        found.append({"version": version, "weight": weight})
    if len({r["version"] for r in found}) != len(found):
        raise ApiError("InvalidRouting", "An alias routes to two different versions.", field=field)
    if sum(r["weight"] for r in found) != 100:
        raise ApiError("InvalidRouting", "The weights of an alias's versions add up to 100.", field=field)
    return found


def create_alias(machine: StateMachine, name, routes, description=None) -> StateMachineAlias:
    name = alias_name(name)
    description = validation.text(description, "description", max_length=256)
    try:
        with transaction.atomic():
            if machine.aliases.filter(name=name).exists():
                raise IntegrityError
            return StateMachineAlias.objects.create(machine=machine, name=name, description=description,
                                                    routing=routing(machine, routes))
    except IntegrityError:
        raise ApiError("ResourceConflict", f"{machine.name} already has an alias called {name}.", status=409,
                       field="name") from None


@transaction.atomic
def update_alias(alias: StateMachineAlias, routes=None, description=None) -> StateMachineAlias:
    if routes is not None:
        alias.routing = routing(alias.machine, routes)
    if description is not None:
        alias.description = validation.text(description, "description", max_length=256)
    alias.save()
    return alias


def delete_alias(alias: StateMachineAlias) -> None:
    alias.delete()


def pick_version(alias: StateMachineAlias, chance: random.Random | None = None) -> StateMachineVersion:
    """Returns the version an execution started on `alias` runs, drawn by the routing's weights."""
    numbers = [r["version"] for r in alias.routing]
    weights = [r["weight"] for r in alias.routing]
    number = (chance or random).choices(numbers, weights=weights)[0]
    return alias.machine.versions.get(number=number)
