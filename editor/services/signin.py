"""One-time sign-in links, like a notebook server's token link: single use and expiring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from editor.models import SignInLink


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_signin_link(user, *, lifetime_seconds: int | None = None) -> str:
    """Returns a new token for `user`; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    seconds = lifetime_seconds or getattr(settings, "FLOWBENCH_SIGNIN_LINK_SECONDS", 86400)
    SignInLink.objects.create(user=user, token_sha256=_digest(token),
                              expires_at=timezone.now() + timedelta(seconds=seconds))
    return token


@transaction.atomic
def use_signin_link(token: str):
    """Returns the user the token signs in (marking it used), or None when unknown, used or expired."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    link = (SignInLink.objects.select_for_update().select_related("user")
            .filter(token_sha256=_digest(token)).first())
    if link is None or link.used_at is not None or link.expires_at <= timezone.now():
        return None
    if not link.user.is_active:
        return None
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return link.user


@transaction.atomic
def ensure_administrator(username: str = "admin"):
    """Returns (the first superuser, created?) creating one without a password on first run."""
    User = get_user_model()
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is not None:
        return admin, False
    admin = User(username=username, is_staff=True, is_superuser=True)
    admin.set_unusable_password()
    admin.save()
    return admin, True
