"""Access keys: what the AWS CLI and SDKs sign their requests with. The only code that writes them.

    key, secret = create_access_key(user)   # key.access_key_id "AKIA" + 16; secret: 40 characters
    found = active_key("AKIA...")           # (AccessKey, secret) for the signature check, or raises

A person has at most two keys, as IAM allows. The secret is shown once, when the key is created;
the server keeps it encrypted (Fernet, with a key derived from SECRET_KEY by HKDF) because SigV4's
check recomputes the signature from it. Changing SECRET_KEY therefore invalidates every key: their
secrets no longer decrypt and their requests are refused as signed with an unknown key.
"""

from __future__ import annotations

import base64
import secrets
import string
from datetime import timedelta
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from editor.errors import ApiError, not_found
from editor.models import AccessKey

__all__ = ["create_access_key", "list_access_keys", "get_access_key", "set_status", "delete_access_key",
           "active_key", "record_use", "KeyRefused", "KEYS_PER_USER"]

KEYS_PER_USER = 2
ID_ALPHABET = string.ascii_uppercase + string.digits
SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
# The last-used time is written at most this often per key: not a database write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class KeyRefused(Exception):
    """The access key id is unknown, deactivated, or its secret no longer decrypts (`reason` says
    which, for the server's own logs; callers answer all three alike, as AWS does)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"flowbench access key secrets").derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


def _cipher() -> Fernet:
    return _fernet(settings.SECRET_KEY)


def _new_key_id() -> str:
    return "AKIA" + "".join(secrets.choice(ID_ALPHABET) for _ in range(16))


def _new_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(40))


def create_access_key(user) -> tuple[AccessKey, str]:
    """Creates an active key for `user`; returns it with its secret (the only time it is shown).

    A third key is refused (409 LimitExceeded), as IAM refuses it."""
    secret = _new_secret()
    with transaction.atomic():
        # Locks the person's row so that two requests at once cannot both make a second key.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if AccessKey.objects.filter(user=user).count() >= KEYS_PER_USER:
            raise ApiError("LimitExceeded", f"Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}. Delete "
                           "a key you no longer use first.", status=409)
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    key = AccessKey.objects.create(user=user, access_key_id=_new_key_id(),
                                                   secret_encrypted=_cipher().encrypt(secret.encode()).decode())
                return key, secret
            except IntegrityError:
                continue   # the id is taken (36^16 ids: practically never)
    raise RuntimeError("could not find a free access key id")


def list_access_keys(user) -> list[AccessKey]:
    return list(AccessKey.objects.filter(user=user))


def get_access_key(user, access_key_id) -> AccessKey:
    """Returns `user`'s key with this id; someone else's key is a 404 like an unknown one."""
    found = (AccessKey.objects.filter(user=user, access_key_id=access_key_id).first()
             if isinstance(access_key_id, str) else None)
    if found is None:
        raise not_found("Access key")
    return found


def set_status(key: AccessKey, status) -> AccessKey:
    """Activates or deactivates a key ("Active" / "Inactive"): an inactive key signs nothing."""
    if status not in AccessKey.Status.values:
        raise ApiError("InvalidStatus", "status is Active or Inactive.", field="status")
    key.status = status
    key.save(update_fields=["status"])
    return key


def delete_access_key(key: AccessKey) -> None:
    key.delete()


def active_key(access_key_id: str) -> tuple[AccessKey, str]:
    """Returns the active key with this id and its secret; raises KeyRefused otherwise."""
    key = AccessKey.objects.select_related("user").filter(access_key_id=access_key_id).first()
    if key is None:
        raise KeyRefused("unknown access key id")
    if key.status != AccessKey.Status.ACTIVE or not key.user.is_active:
        raise KeyRefused("inactive access key or person")
    try:
        return key, _cipher().decrypt(key.secret_encrypted.encode()).decode()
    except InvalidToken:
        raise KeyRefused("the secret does not decrypt (SECRET_KEY changed)") from None


def record_use(key: AccessKey, service: str, region: str) -> None:
    """Notes when, where and for which service the key was last used (IAM's "Last used")."""
    now = timezone.now()
    if (key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION
            and key.last_used_service == service and key.last_used_region == region):
        return
    AccessKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_service=service[:64],
                                               last_used_region=region[:32])
