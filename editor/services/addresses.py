"""The addresses of HTTP endpoints on the studio's own (function URLs, HTTP APIs): each has a path
form on FLOWBENCH_BASE_URL, which works without DNS, and a host form as AWS names its endpoints.

    path_form("/lambda-url/", id)       -> "http://127.0.0.1:8000/lambda-url/<id>"
    host_form(f"{id}.lambda-url")       -> "http://<id>.lambda-url.localhost:8000"   (an IP host becomes localhost)
    matcher(r"[a-z0-9]{32}", "lambda-url", "/lambda-url/")(host, raw_path) -> (id, the path under it) or None
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings

__all__ = ["path_form", "host_form", "matcher"]

_IP = re.compile(r"[\d.]+|[0-9a-fA-F:]+")


def path_form(prefix: str, endpoint_id: str) -> str:
    return f"{settings.FLOWBENCH_BASE_URL}{prefix}{endpoint_id}"


def host_form(subdomain: str) -> str:
    base = urlsplit(settings.FLOWBENCH_BASE_URL)
    host = base.hostname or "localhost"
    if _IP.fullmatch(host):
        host = "localhost"   # browsers resolve *.localhost to this machine themselves
    return f"{base.scheme}://{subdomain}.{host}{f':{base.port}' if base.port else ''}"


def matcher(id_pattern: str, host_label: str, path_prefix: str):
    """Returns match(host, raw_path) -> (endpoint id, the path under the endpoint) or None, for a
    request whose Host is <id>.<host_label>.<anything> or whose path is <path_prefix><id>[/...]."""
    by_host = re.compile(rf"^(?P<id>{id_pattern})\.{re.escape(host_label)}\.", re.IGNORECASE)
    by_path = re.compile(rf"^{re.escape(path_prefix)}(?P<id>{id_pattern})(?P<rest>/.*)?$", re.DOTALL)

    def match(host: str, raw_path: str) -> tuple[str, str] | None:
        found = by_host.match(host or "")
        if found:
            return found["id"].lower(), raw_path or "/"
        found = by_path.match(raw_path or "")
        if found:
            return found["id"], found["rest"] or "/"
        return None

    return match
