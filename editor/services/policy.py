"""IAM identity policies in pure Python: validate a document, decide whether it allows an action.

    evaluate(policy, "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:f")
      -> "allow" | "deny" (explicit Deny) | "implicit-deny" (nothing allowed it)

As IAM decides: an explicit Deny beats any Allow; without an Allow the answer is no. Action patterns
take `*` and `?` and match case-insensitively; Resource patterns take `*` and `?` case-sensitively.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from runtime.json_pointer import child

VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal"}
SID = re.compile(r"^[A-Za-z0-9]*$")
ACTION = re.compile(r"^(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)$")
POLICY_LIMIT_BYTES = 10 * 1024


def default_policy(user) -> dict:
    """Returns the policy a new role of `user` gets: invoke any of their functions."""
    from editor.services.accounts import function_arn

    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "InvokeFunctions",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": function_arn(user, "*"),
        }],
    }


def _diag(code: str, message: str, pointer: str) -> dict:
    return {"code": code, "message": message, "pointer": pointer}


def validate_policy(document: Any) -> list[dict]:
    """Returns the problems of a policy document (an object, or its JSON text), each with the JSON
    pointer of where it is; an empty list when the document is a valid policy."""
    if isinstance(document, str):
        if len(document.encode("utf-8")) > POLICY_LIMIT_BYTES:
            return [_diag("PolicyTooLarge", "A policy is limited to 10 KB.", "")]
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            return [_diag("InvalidJson", f"Invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.", "")]
    if not isinstance(document, dict):
        return [_diag("InvalidType", "A policy is a JSON object with Version and Statement.", "")]
    found = []
    for key in document:
        if key not in ("Version", "Statement", "Id"):
            found.append(_diag("UnknownField", f"{key} is not a policy element.", child("", key)))
    if "Version" not in document:
        found.append(_diag("Required", 'Version is required: use "2012-10-17".', "/Version"))
    elif document["Version"] not in VERSIONS:
        found.append(_diag("InvalidVersion", 'Version must be "2012-10-17" (or "2008-10-17").', "/Version"))
    if "Statement" not in document:
        found.append(_diag("Required", "Statement is required.", "/Statement"))
        return found
    statements = document["Statement"]
    if isinstance(statements, dict):
        found += _statement_problems(statements, "/Statement")
    elif isinstance(statements, list):
        if not statements:
            found.append(_diag("Required", "Statement needs at least one statement.", "/Statement"))
        sids = set()
        for index, statement in enumerate(statements):
            where = f"/Statement/{index}"
            found += _statement_problems(statement, where)
            if isinstance(statement, dict) and isinstance(statement.get("Sid"), str) and statement["Sid"]:
                if statement["Sid"] in sids:
                    found.append(_diag("DuplicateSid", f"Sid {statement['Sid']} is used twice.", f"{where}/Sid"))
                sids.add(statement["Sid"])
    else:
        found.append(_diag("InvalidType", "Statement is a list of statements (or one statement).", "/Statement"))
    return found


def _statement_problems(statement: Any, where: str) -> list[dict]:
    if not isinstance(statement, dict):
        return [_diag("InvalidType", "A statement is an object with Effect, Action and Resource.", where)]
    found = []
    for key in statement:
        if key not in STATEMENT_KEYS:
            found.append(_diag("UnknownField", f"{key} is not a statement element.", where + child("", key)))
        elif key in ("Principal", "Condition", "NotAction", "NotResource"):
            found.append(_diag("Unsupported", f"{key} is not supported in Flowbench identity policies.",
                               where + child("", key)))
    if "Sid" in statement and (not isinstance(statement["Sid"], str) or not SID.match(statement["Sid"])):
        found.append(_diag("InvalidSid", "Sid has only letters and digits.", f"{where}/Sid"))
    effect = statement.get("Effect")
    if effect is None:
        found.append(_diag("Required", "Effect is required: Allow or Deny.", f"{where}/Effect"))
    elif effect not in ("Allow", "Deny"):
        found.append(_diag("InvalidEffect", "Effect must be Allow or Deny.", f"{where}/Effect"))
    for key, check, what in (("Action", _action_problem, "an action such as lambda:InvokeFunction"),
                             ("Resource", _resource_problem, "an ARN pattern or *")):
        if key not in statement:
            found.append(_diag("Required", f"{key} is required.", f"{where}/{key}"))
            continue
        value = statement[key]
        if isinstance(value, str):
            problem = check(value)
            if problem:
                found.append(_diag(problem[0], problem[1], f"{where}/{key}"))
        elif isinstance(value, list):
            if not value:
                found.append(_diag("Required", f"{key} needs at least one entry.", f"{where}/{key}"))
            for index, item in enumerate(value):
                problem = check(item) if isinstance(item, str) else ("InvalidType", f"Each {key} is {what}.")
                if problem:
                    found.append(_diag(problem[0], problem[1], f"{where}/{key}/{index}"))
        else:
            found.append(_diag("InvalidType", f"{key} is {what}, or a list of them.", f"{where}/{key}"))
    return found


def _action_problem(value: str):
    if not ACTION.match(value):
        return ("InvalidAction", f"{value!r} is not an action: use service:Action, e.g. lambda:InvokeFunction, "
                                 "lambda:* or *.")
    return None


def _resource_problem(value: str):
    if value == "*":
        return None
    if not value.startswith("arn:") or value.count(":") < 5:
        return ("InvalidResource", f"{value!r} is not an ARN: arn:partition:service:region:account:resource, or *.")
    return None


@lru_cache(maxsize=1024)
def _pattern(text: str, ignore_case: bool) -> re.Pattern:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _matches(patterns, value: str, ignore_case: bool) -> bool:
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list):
        return False
    return any(isinstance(p, str) and _pattern(p, ignore_case).match(value) for p in patterns)


def matches(patterns, value: str, ignore_case: bool) -> bool:
    """Returns whether `value` matches one of `patterns` (a pattern or a list; `*` and `?` wildcards)."""
    return _matches(patterns, value, ignore_case)


def evaluate(policy: Any, action: str, resource: str) -> str:
    """Returns "allow", "deny" (an explicit Deny matched) or "implicit-deny" (no Allow matched).

    A malformed document allows nothing (it is never stored, but a stored one is trusted no further).
    """
    if not isinstance(policy, dict):
        return "implicit-deny"
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return "implicit-deny"
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict) or set(statement) & {"NotAction", "NotResource", "Condition"}:
            continue
        if not (_matches(statement.get("Action"), action, True)
                and _matches(statement.get("Resource"), resource, False)):
            continue
        if statement.get("Effect") == "Deny":
            return "deny"
        if statement.get("Effect") == "Allow":
            allowed = True
    return "allow" if allowed else "implicit-deny"


def is_allowed(policy: Any, action: str, resource: str) -> bool:
    return evaluate(policy, action, resource) == "allow"
