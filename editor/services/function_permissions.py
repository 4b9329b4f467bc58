"""A function's resource-based policy (Lambda's AddPermission, RemovePermission, GetPolicy): the
only code that writes it, and the one question Flowbench asks of it.

Statements are kept in the policy's own JSON shape. Flowbench decides one thing with them: a
function URL whose AuthType is NONE answers only when a statement lets everyone (`"Principal":
"*"`) call lambda:InvokeFunctionUrl (or lambda:*) on the URL's function or alias, as on AWS
(`aws lambda add-permission --action lambda:InvokeFunctionUrl --principal "*"
--function-url-auth-type NONE`). The studio's Function URL panel adds that statement when it makes
a NONE URL, as Lambda's console does. Other statements (a bucket or an API allowed to invoke) are
stored and returned; since every person is an account of their own and nothing crosses accounts,
Flowbench grants nothing by them.
"""

from __future__ import annotations

import json
import re
import uuid

from django.db import IntegrityError, transaction

from editor.errors import ApiError
from editor.models import Function, FunctionPermission
from editor.services.accounts import function_arn

__all__ = ["add_permission", "remove_permission", "policy_of", "policy_revision", "allows_public_url",
           "allow_public_url", "PUBLIC_URL_SID"]

PUBLIC_URL_SID = "FunctionURLAllowPublicAccess"
SID = re.compile(r"^[a-zA-Z0-9_-]{1,100}$")
ACTION = re.compile(r"^(lambda:[*]|lambda:[a-zA-Z]+|[*])$")
PRINCIPAL = re.compile(r"^[^\s]+$")
_REVISIONS = uuid.UUID("0d3f5b8e-7a61-4f0b-9c2e-8b1f6a4d2c90")
_URL_ACTIONS = {"lambda:invokefunctionurl", "lambda:*", "*"}


def _principal(value: str):
    """Returns the statement's Principal for AddPermission's: "*", a service, an account or an ARN."""
    if value == "*":
        return "*"
    if value.endswith(".amazonaws.com") or value.endswith(".amazon.com"):
        return {"Service": value}
    if re.fullmatch(r"\d{12}", value):
        return {"AWS": f"arn:aws:iam::{value}:root"}
    return {"AWS": value}


def _condition(source_arn=None, source_account=None, url_auth_type=None, via_url=None) -> dict:
    found: dict = {}
    if source_arn:
        found.setdefault("ArnLike", {})["AWS:SourceArn"] = source_arn
    if source_account:
        found.setdefault("StringEquals", {})["AWS:SourceAccount"] = source_account
    if url_auth_type:
        found.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = url_auth_type
    if via_url:
        found.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = "true"
    return found


def _qualifier(function: Function, qualifier: str | None) -> str:
    """Returns "" for the unqualified function, else the version or alias it names (which must exist)."""
    if qualifier in (None, "", "$LATEST"):
        return ""
    exists = (function.versions.filter(number=int(qualifier)).exists() if qualifier.isdigit()
              else function.aliases.filter(name=qualifier).exists())
    if not exists:
        raise ApiError("ResourceNotFound", f"Function not found: {function_arn(function.owner_id, function.name, qualifier)}",
                       status=404, field="Qualifier")
    return qualifier


@transaction.atomic
def add_permission(function: Function, *, statement_id, action, principal, qualifier=None, source_arn=None,
                   source_account=None, url_auth_type=None, via_url=None) -> dict:
    """Adds a statement to the function's policy; returns it. Refuses a statement id it has."""
    if not isinstance(statement_id, str) or not SID.match(statement_id):
        raise ApiError("InvalidParameterValue", "StatementId has 1 to 100 letters, digits, hyphens or underscores.",
                       field="StatementId")
    if not isinstance(action, str) or not ACTION.match(action):
        raise ApiError("InvalidParameterValue", f"Action {action!r} is not a Lambda action (lambda:InvokeFunction, "
                       "lambda:InvokeFunctionUrl, lambda:*).", field="Action")
    if not isinstance(principal, str) or not PRINCIPAL.match(principal):
        raise ApiError("InvalidParameterValue", "Principal is \"*\", an account id, an ARN or a service "
                       "(s3.amazonaws.com).", field="Principal")
    if url_auth_type not in (None, "NONE", "AWS_IAM"):
        raise ApiError("InvalidParameterValue", "FunctionUrlAuthType must be NONE or AWS_IAM.",
                       field="FunctionUrlAuthType")
    name = _qualifier(function, qualifier)
    statement = {"Sid": statement_id, "Effect": "Allow", "Principal": _principal(principal), "Action": action,
                 "Resource": function_arn(function.owner_id, function.name, name or None)}
    condition = _condition(source_arn, source_account, url_auth_type, via_url)
    if condition:
        statement["Condition"] = condition
    conflict = ApiError("ResourceConflict", f"The statement id ({statement_id}) provided already exists. Please "
                        "provide a new statement id, or remove the existing statement.", status=409,
                        field="StatementId")
    if function.permissions.filter(qualifier=name, statement_id=statement_id).exists():
        raise conflict
    try:
        with transaction.atomic():
            FunctionPermission.objects.create(function=function, qualifier=name, statement_id=statement_id,
                                              statement=statement)
    except IntegrityError:
        raise conflict from None
    return statement


@transaction.atomic
def remove_permission(function: Function, statement_id: str, qualifier=None) -> None:
    name = _qualifier(function, qualifier)
    deleted, _ = function.permissions.filter(qualifier=name, statement_id=statement_id).delete()
    if not deleted:
        raise ApiError("ResourceNotFound", f"Statement {statement_id} is not found in resource policy.", status=404,
                       field="StatementId")


def _statements(function: Function, qualifier: str) -> list[dict]:
    return [p.statement for p in function.permissions.filter(qualifier=qualifier)]


def policy_of(function: Function, qualifier=None) -> dict:
    """Returns the function's (or its alias's or version's) policy document; 404 when it has no statement."""
    statements = _statements(function, _qualifier(function, qualifier))
    if not statements:
        raise ApiError("ResourceNotFound", "The resource you requested does not exist.", status=404)
    return {"Version": "2012-10-17", "Id": "default", "Statement": statements}


def policy_revision(policy: dict) -> str:
    """Returns a RevisionId that changes whenever the policy's statements change."""
    return str(uuid.uuid5(_REVISIONS, json.dumps(policy, sort_keys=True)))


def _lets_everyone_call_url(statement: dict) -> bool:
    principal = statement.get("Principal")
    if statement.get("Effect") != "Allow" or principal not in ("*", {"AWS": "*"}):
        return False
    actions = statement.get("Action")
    actions = [actions] if isinstance(actions, str) else actions or []
    if not any(a.lower() in _URL_ACTIONS for a in actions if isinstance(a, str)):
        return False
    auth = (statement.get("Condition") or {}).get("StringEquals", {}).get("lambda:FunctionUrlAuthType")
    return auth in (None, "NONE")


def allows_public_url(function: Function, qualifier: str) -> bool:
    """Returns whether the policy lets everyone invoke the function's NONE URL for `qualifier`."""
    return any(_lets_everyone_call_url(s) for s in _statements(function, qualifier))


def allow_public_url(function: Function, qualifier: str) -> None:
    """Adds the statement that makes a NONE URL public (once: an existing one is kept)."""
    if not allows_public_url(function, qualifier):
        sid = PUBLIC_URL_SID
        if function.permissions.filter(qualifier=qualifier, statement_id=sid).exists():
            sid = f"{PUBLIC_URL_SID}-{uuid.uuid4().hex[:8]}"
        add_permission(function, statement_id=sid, action="lambda:InvokeFunctionUrl", principal="*",
                       qualifier=qualifier or None, url_auth_type="NONE")
