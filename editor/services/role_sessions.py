"""Role sessions: the temporary credentials of a role, as STS gives them (AssumeRole's
Credentials). A function's invocations get one for its execution role and sign their AWS calls
with it; the only code that writes them.

    session, secret, token = issue_session(role, "my-function", seconds=3600)
    session.access_key_id      # "ASIA" + 16 characters, as STS's temporary key ids
    found, secret = active_session("ASIA...", token)     # for the signature check, or raises

A session acts as arn:aws:sts::ACCOUNT:assumed-role/ROLE/NAME, and what it may do is decided by
the role's inline policies as they are when each request arrives (a policy changed after the
credentials were given takes effect at once). Its secret is encrypted as an access key's is, its
token kept only as a SHA-256. Expired sessions are refused (ExpiredToken) and deleted a day later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import timedelta

from cryptography.fernet import InvalidToken
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from editor.models import Role, RoleSession
from editor.services.access_keys import ID_ALPHABET, _cipher, _new_secret

__all__ = ["issue_session", "active_session", "execution_role", "function_credentials", "SessionRefused", "SessionExpired", "MAX_SECONDS",
           "session_arn", "session_user_id"]

MAX_SECONDS = 12 * 3600       # the longest session STS gives (a role's MaxSessionDuration)
# The role a studio-made function runs with (editor/services/samples.py makes it; importing that
# module from here would close an import cycle through functions.py and invocations.py).
SAMPLE_ROLE = "flowbench-sample-role"
KEPT_AFTER_EXPIRY = timedelta(days=1)   # an expired token is answered ExpiredToken this long


class SessionRefused(Exception):
    """The key id is no session's, or the token is not the session's (answered as an unknown key)."""


class SessionExpired(SessionRefused):
    """The session's credentials have expired (answered ExpiredToken, as STS's are)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def session_arn(account: str, role_name: str, session_name: str) -> str:
    """Returns the ARN a session acts as: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION."""
    return f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"


def session_user_id(session: RoleSession) -> str:
    """Returns the UserId GetCallerIdentity answers for a session: the role's id and the name."""
    return f"{session.role.role_id}:{session.name}"


def issue_session(role: Role, name: str, *, seconds: int) -> tuple[RoleSession, str, str]:
    """Creates a session of `role` named `name` valid for `seconds` (at most 12 hours); returns it
    with its secret and session token (the only time either is in clear)."""
    seconds = max(1, min(int(seconds), MAX_SECONDS))
    secret, token = _new_secret(), secrets.token_urlsafe(120)
    now = timezone.now()
    RoleSession.objects.filter(expires_at__lt=now - KEPT_AFTER_EXPIRY).delete()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                session = RoleSession.objects.create(
                    role=role, name=name[:64], access_key_id="ASIA" + "".join(
                        secrets.choice(ID_ALPHABET) for _ in range(16)),
                    secret_encrypted=_cipher().encrypt(secret.encode()).decode(),
                    token_sha256=_digest(token), expires_at=now + timedelta(seconds=seconds))
            return session, secret, token
        except IntegrityError:
            continue   # the id is taken (36^16 ids: practically never)
    raise RuntimeError("could not find a free session key id")


def active_session(access_key_id: str, token: str) -> tuple[RoleSession, str]:
    """Returns the session with this key id and token, and its secret; raises SessionExpired when
    it has expired, SessionRefused when there is no such session (or the token is not its own, or
    its owner is deactivated, or its secret no longer decrypts)."""
    session = (RoleSession.objects.select_related("role", "role__owner")
               .filter(access_key_id=access_key_id).first())
    if session is None or not hmac.compare_digest(session.token_sha256, _digest(token)):
        raise SessionRefused("no such session")
    if not session.role.owner.is_active:
        raise SessionRefused("the role's owner is deactivated")
    if session.expires_at <= timezone.now():
        raise SessionExpired("the session has expired")
    try:
        return session, _cipher().decrypt(session.secret_encrypted.encode()).decode()
    except InvalidToken:   # SECRET_KEY changed since it was issued
        raise SessionRefused("the secret does not decrypt") from None


def _in_own_thread(work):
    """Returns work()'s result, computed on a thread of its own whose database connection is
    closed after: the runner calls `give` on its pool's long-lived threads, which hold none.
    Inside a transaction (a caller's, or a test's) it runs where it is: another connection would
    neither see what the transaction holds nor, on SQLite, be let write beside it."""
    if connection.in_atomic_block:
        return work()
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as exc:   # raised again in the caller's thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="flowbench-role-session")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def execution_role(function) -> Role | None:
    """Returns the role `function` runs with: its Role, else its owner's sample role (a function
    made in the studio names none; every Lambda function has one), else None (no credentials)."""
    if function.role_id is not None:
        return function.role
    return Role.objects.filter(owner_id=function.owner_id, name=SAMPLE_ROLE).first()


def function_credentials(function, role: Role, endpoint: str):
    """Returns what gives a new worker of `function` the credentials of `role`: a callable making
    a session named after the function and returning (its environment variables, its expiry as a
    Unix time). The worker's AWS SDK reaches Flowbench at `endpoint` with them."""
    def give() -> tuple[dict, float]:
        session, secret, token = _in_own_thread(
            lambda: issue_session(role, function.name, seconds=role.max_session_duration))
        return {
            "AWS_ACCESS_KEY_ID": session.access_key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_SESSION_TOKEN": token,
            "AWS_ENDPOINT_URL": endpoint,
            # StartSyncExecution's "sync-" host prefix would make an unresolvable name of it.
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        }, session.expires_at.timestamp()
    return give
