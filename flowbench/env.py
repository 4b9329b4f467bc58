"""Reads settings from the environment; every helper names the variable it refuses.

Kept apart from settings.py so the parsing (booleans, integers, secrets, DATABASE_URL, REDIS_URL)
can be tested without reloading Django's settings.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Returns the variable's value, or `default` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """Returns the variable as a boolean (1/true/yes/on, 0/false/no/off)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false, 1/0, yes/no), not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Returns the variable as an integer within [minimum, maximum]."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Returns a comma-separated variable as a list of non-empty, stripped items."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, keep_in: Path) -> str:
    """Returns the variable, or a secret generated on first use and kept in the file `keep_in`.

    The file is created with mode 0600 and never leaves the data folder (which git ignores).
    """
    raw = os.environ.get(name)
    if raw is not None:
        if len(raw) < 32:
            raise ImproperlyConfigured(f"{name} must be at least 32 characters long")
        return raw
    if keep_in.exists():
        value = keep_in.read_text().strip()
        if len(value) >= 32:
            return value
    keep_in.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(50)
    fd = os.open(keep_in, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def private_dir(path: Path) -> Path:
    """Returns `path` after making it a directory only its owner may enter (0700), creating it
    (and its parents) if need be: what the server keeps there is no one else's to read."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Returns `path` after making it a file only its owner may read or write (0600), creating it
    empty if need be (an empty file is a new SQLite database), and the same for SQLite's
    companions beside it that exist (SQLite gives the ones it creates the database's mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for each in (path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
        if each.exists():
            each.chmod(0o600)
    return path


def parse_database_url(name: str, url: str, pool_size: int = 16) -> dict:
    """Returns Django's DATABASES entry for a postgres:// or sqlite:/// URL held by `name`.

    PostgreSQL connections come from a pool of at most `pool_size` per process: execution
    threads, Map iterations and checkpoints take one for each piece of database work and give it
    back, so a worker's many threads share a few connections."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme in {"postgres", "postgresql", "pgsql"}:
        if not parsed.path.strip("/"):
            raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://user:pass@host:5432/flowbench")
        try:
            port = parsed.port
        except ValueError:
            raise ImproperlyConfigured(f"{name} has an invalid port") from None
        options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": {**options, "pool": {"min_size": 1, "max_size": pool_size, "timeout": 60}},
            "CONN_MAX_AGE": 0,
        }
    if scheme == "sqlite":
        path = unquote(parsed.path)
        if not path:
            raise ImproperlyConfigured(f"{name} must give a file path, e.g. sqlite:////var/lib/flowbench/db.sqlite3")
        return {"ENGINE": "flowbench.sqlite", "NAME": path}
    raise ImproperlyConfigured(f"{name} must start with postgres:// or sqlite://, not {scheme or 'nothing'}://")


def parse_redis_url(name: str, url: str) -> str:
    """Returns the Redis URL held by `name` after checking its scheme and host."""
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"{name} must start with redis://, rediss:// or unix://")
    if parsed.scheme != "unix" and not parsed.hostname:
        raise ImproperlyConfigured(f"{name} must name a host, e.g. redis://127.0.0.1:6379/0")
    return url
