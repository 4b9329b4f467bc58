"""Who is calling and what they may do.

    principal = authenticate(request, now)     # checks SigV4; Principal or the refusal AWS gives
    authorize(principal, "iam:GetRole", arn)   # every provider, for every action on a resource

A call signed with a person's access key acts as the root of that person's account: everything in
the account, nothing outside it (other accounts' resources are not found, whatever ARN names them;
providers look them up in the caller's account only). A Principal with a `policy` is decided by it
instead: issue 12's role sessions (temporary credentials of a function's execution role) will be
one more credential source giving such Principals, and nothing here changes for them.

A call signed with a role session's temporary key (ASIA..., with its X-Amz-Security-Token) acts as
arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, whose policy is the role's inline policies as they
are now: an Allow is needed, an explicit Deny wins. An expired session is ExpiredToken(Exception).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from editor.aws import sigv2
from editor.aws.errors import refusal
from editor.aws.http import Request
from editor.aws.sigv4 import Signed, check_signature, check_time, signature_of
from editor.services import access_keys, role_sessions
from editor.services.accounts import account_id
from editor.services.policy import evaluate

__all__ = ["Principal", "Credentials", "authenticate", "authorize", "CREDENTIAL_SOURCES"]

INVALID_TOKEN = "The security token included in the request is invalid."


@dataclass(frozen=True)
class Principal:
    """The caller of an AWS request: the person (`user`) whose account it acts in, its account id,
    its ARN and UserId (what GetCallerIdentity answers), and the identity policy deciding its
    actions, or None for the account's root (allowed everything in the account)."""

    user: Any
    account_id: str
    arn: str
    user_id: str
    policy: dict | None = None
    access_key_id: str = ""


@dataclass(frozen=True)
class Credentials:
    """What a credential source knows of an access key id: its secret, the Principal it signs
    as, and what to note once a request signed with it is accepted."""

    secret: str
    principal: Principal
    used: Callable[[str, str], None] = lambda service, region: None


def _access_keys(signed: Signed) -> Credentials | None:
    """A person's long-term access key (AKIA...): the root of their account."""
    if signed.session_token is not None:
        return None   # long-term keys carry no session token
    try:
        key, secret = access_keys.active_key(signed.access_key_id)
    except access_keys.KeyRefused:
        return None
    number = account_id(key.user)
    principal = Principal(user=key.user, account_id=number, arn=f"arn:aws:iam::{number}:root", user_id=number,
                          access_key_id=key.access_key_id)
    return Credentials(secret, principal, lambda service, region: access_keys.record_use(key, service, region))


def _role_sessions(signed: Signed) -> Credentials | None:
    """A role session's temporary key (ASIA...), which signs with its session token."""
    if signed.session_token is None:
        return None
    try:
        session, secret = role_sessions.active_session(signed.access_key_id, signed.session_token)
    except role_sessions.SessionExpired:
        raise refusal("expired_token", "The security token included in the request is expired") from None
    except role_sessions.SessionRefused:
        return None
    role = session.role
    number = account_id(role.owner)
    principal = Principal(user=role.owner, account_id=number,
                          arn=role_sessions.session_arn(number, role.name, session.name),
                          user_id=role_sessions.session_user_id(session), policy=role.policy,
                          access_key_id=session.access_key_id)
    return Credentials(secret, principal)


# Where access key ids are looked up, in order; each returns Credentials or None (not one of its own).
CREDENTIAL_SOURCES: list[Callable[[Signed], Credentials | None]] = [_access_keys, _role_sessions]


def authenticate(request: Request, now: datetime) -> Principal:
    """Returns who signed the request; refuses an unsigned request, an unknown or inactive key, a
    request signed at another time than now (15 minutes either way) and a wrong signature."""
    signed = signature_of(request) or sigv2.signature_of(request)
    if signed is None:
        raise refusal("missing_authentication", "Missing Authentication Token")
    (sigv2.check_time if signed.version == 2 else check_time)(signed, now)
    credentials = next(filter(None, (source(signed) for source in CREDENTIAL_SOURCES)), None)
    if credentials is None:
        raise refusal("unrecognized_client", INVALID_TOKEN)
    if signed.version == 2:
        sigv2.check_signature(request, signed, credentials.secret)
    else:
        # An aws-chunked upload's payload replaces its body once every chunk is checked, and its
        # trailing checksum is read as the header it stands for.
        request.body, trailers = check_signature(request, signed, credentials.secret)
        request.headers.update(trailers)
    credentials.used(signed.service, signed.region)
    return credentials.principal


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if arn.startswith("arn:") and len(parts) > 5 else None


def authorize(principal: Principal, action: str, resource: str) -> None:
    """Returns when `principal` may perform `action` ("iam:CreateRole") on the resource ARN (or
    "*"); raises AccessDenied otherwise, worded as AWS words it."""
    account = _account_of(resource)
    decision = "allow" if account in (None, "", principal.account_id) else "implicit-deny"
    if decision == "allow" and principal.policy is not None:
        decision = evaluate(principal.policy, action, resource)
    if decision != "allow":
        why = ("with an explicit deny in an identity-based policy" if decision == "deny" else
               f"because no identity-based policy allows the {action} action")
        raise refusal("access_denied", f"User: {principal.arn} is not authorized to perform: {action} on resource: "
                                       f"{resource} {why}")
