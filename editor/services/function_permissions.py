"""A function's resource-based policy (Lambda's AddPermission, RemovePermission, GetPolicy): the
only code that writes it, and the one question Flowbench asks of it.

Statements are kept in the policy's own JSON shape. Flowbench decides one thing with them: a
function URL whose AuthType is NONE answers only when a statement lets everyone (`"Principal":
"*"`) call lambda:InvokeFunctionUrl (or lambda:*) on the URL's function or alias, as on AWS
(`aws lambda add-permission --action lambda:InvokeFunctionUrl --principal "*"
--function-url-auth-type NONE`). The studio's Function URL panel adds that statement when it makes
a NONE URL, as Lambda's console does.

And a service invokes a function only when a statement lets it: a bucket's notification needs one
that lets s3.amazonaws.com call lambda:InvokeFunction on the function (or on the alias or version
the notification names), with its conditions on AWS:SourceArn (the bucket's ARN) and
AWS:SourceAccount (the bucket owner's account) met, as Lambda evaluates them:

    allows_service(function, "", "s3.amazonaws.com", source_arn="arn:aws:s3:::photos",
                   source_account="123456789012")
"""

from __future__ import annotations

import json
import re
import uuid

from django.db import IntegrityError, transaction

from editor.errors import ApiError
from editor.models import Function, FunctionPermission
from editor.services.accounts import function_arn
from editor.services.policy import matches

__all__ = ["add_permission", "remove_permission", "policy_of", "policy_revision", "allows_public_url",
           "allow_public_url", "PUBLIC_URL_SID", "allows_service", "allow_service"]

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


# Condition operators a statement may use, as IAM reads them: (compare, negated). Arn* compare
# with wildcards (case-sensitive), String*Like with wildcards, the others exactly.
_OPERATORS = {
    "StringEquals": (lambda pattern, value: pattern == value, False),
    "StringNotEquals": (lambda pattern, value: pattern == value, True),
    "StringEqualsIgnoreCase": (lambda pattern, value: pattern.lower() == value.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda pattern, value: pattern.lower() == value.lower(), True),
    "StringLike": (lambda pattern, value: matches(pattern, value, False), False),
    "StringNotLike": (lambda pattern, value: matches(pattern, value, False), True),
    "ArnEquals": (lambda pattern, value: matches(pattern, value, False), False),
    "ArnLike": (lambda pattern, value: matches(pattern, value, False), False),
    "ArnNotEquals": (lambda pattern, value: matches(pattern, value, False), True),
    "ArnNotLike": (lambda pattern, value: matches(pattern, value, False), True),
}


def _condition_met(condition, context: dict[str, str]) -> bool:
    """Returns whether every test of a statement's Condition holds for the request's context keys
    (lower-cased names). A key the request lacks fails a test unless it is negated or ...IfExists;
    an operator Flowbench does not know fails (a policy is trusted no further than it is read)."""
    if condition in (None, {}):
        return True
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        base = operator[:-len("IfExists")] if operator.endswith("IfExists") else operator
        if base not in _OPERATORS or not isinstance(tests, dict):
            return False
        compare, negated = _OPERATORS[base]
        for key, patterns in tests.items():
            value = context.get(key.lower())
            if value is None:
                if negated or base != operator:
                    continue
                return False
            patterns = [patterns] if isinstance(patterns, str) else patterns
            if not isinstance(patterns, list):
                return False
            hit = any(isinstance(p, str) and compare(p, value) for p in patterns)
            if hit == negated:
                return False
    return True


def _names_service(principal, service: str) -> bool:
    if principal in ("*", {"AWS": "*"}):
        return True
    if not isinstance(principal, dict):
        return False
    services = principal.get("Service")
    services = [services] if isinstance(services, str) else services or []
    return service in services


def allows_service(function: Function, qualifier: str | None, service: str, *, source_arn: str,
                   source_account: str, action: str = "lambda:InvokeFunction") -> bool:
    """Returns whether the policy of the function (or of its alias or version `qualifier`) lets the
    AWS service `service` call `action` for the resource `source_arn` of `source_account`: an
    Allow statement naming the service (or everyone), the action and the function, whose conditions
    hold, and no Deny that matches."""
    name = "" if qualifier in (None, "", "$LATEST") else qualifier
    resource = function_arn(function.owner_id, function.name, name or None)
    context = {"aws:sourcearn": source_arn, "aws:sourceaccount": source_account}
    allowed = False
    for statement in _statements(function, name):
        if not (_names_service(statement.get("Principal"), service) and matches(statement.get("Action"), action, True)
                and matches(statement.get("Resource"), resource, False)
                and _condition_met(statement.get("Condition"), context)):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def allow_service(function: Function, qualifier: str | None, service: str, *, source_arn: str,
                  source_account: str, statement_prefix: str) -> dict | None:
    """Adds the statement that lets `service` invoke the function for `source_arn` of
    `source_account` (as the consoles do when they wire a trigger), unless the policy allows it
    already; returns the statement added, or None."""
    if allows_service(function, qualifier, service, source_arn=source_arn, source_account=source_account):
        return None
    sid = f"{statement_prefix}-{uuid.uuid4().hex[:12]}"
    return add_permission(function, statement_id=sid, action="lambda:InvokeFunction", principal=service,
                          qualifier=qualifier or None, source_arn=source_arn, source_account=source_account)
