"""A function's aliases (Lambda's: `prod` -> version 3): the only code that writes them. An alias
points at a published version or at $LATEST; invoking `function:prod` runs the version it points at."""

from __future__ import annotations

import re
import uuid

from django.db import IntegrityError, transaction

from editor.errors import ApiError
from editor.models import EventInvokeConfig, Function, FunctionAlias, FunctionVersion

__all__ = ["ALIAS_NAME", "create_alias", "update_alias", "delete_alias", "get_alias"]

# Lambda's alias names: letters, digits, - and _, not only digits (those name versions).
ALIAS_NAME = re.compile(r"^(?!\d+$)[A-Za-z0-9_-]{1,128}$")


def _name(value) -> str:
    if not isinstance(value, str) or not ALIAS_NAME.match(value):
        raise ApiError("InvalidParameterValue", "An alias name has 1 to 128 letters, digits, hyphens or underscores, "
                       "and is not a number.", field="Name")
    return value


def _description(value) -> str:
    if not isinstance(value, str) or len(value) > 256:
        raise ApiError("InvalidParameterValue", "Description has at most 256 characters.", field="Description")
    return value


def get_alias(function: Function, name: str) -> FunctionAlias:
    """Returns the function's alias `name`, or 404."""
    found = function.aliases.select_related("version").filter(name=name).first() if isinstance(name, str) else None
    if found is None:
        raise ApiError("ResourceNotFound", f"Alias not found: {name}", status=404)
    return found


@transaction.atomic
def create_alias(function: Function, name, version: FunctionVersion, description="") -> FunctionAlias:
    """Creates the alias `name` of `function` pointing at `version`; refuses a name it has."""
    name = _name(name)
    if function.aliases.filter(name=name).exists():
        raise ApiError("ResourceConflict", f"Alias already exists: {name}", status=409, field="Name")
    try:
        with transaction.atomic():
            return FunctionAlias.objects.create(function=function, name=name, version=version,
                                                description=_description(description))
    except IntegrityError:
        raise ApiError("ResourceConflict", f"Alias already exists: {name}", status=409, field="Name") from None


@transaction.atomic
def update_alias(alias: FunctionAlias, *, version: FunctionVersion | None = None,
                 description: str | None = None) -> FunctionAlias:
    """Points the alias at `version` and/or changes its description; its revision changes."""
    alias = FunctionAlias.objects.select_for_update().select_related("version").get(pk=alias.pk)
    if version is not None:
        alias.version = version
    if description is not None:
        alias.description = _description(description)
    alias.revision = uuid.uuid4()
    alias.save()
    return alias


@transaction.atomic
def delete_alias(alias: FunctionAlias) -> None:
    """Deletes the alias with its asynchronous invocation config."""
    with transaction.atomic():
        EventInvokeConfig.objects.filter(function_id=alias.function_id, qualifier=alias.name).delete()
        alias.delete()
