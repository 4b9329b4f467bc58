"""Which bucket and key an S3 request names, in either of S3's addressing styles:

    path style          http://<studio>/<bucket>/<key>                   (what clients given an IP use)
    virtual-host style  http://<bucket>.<studio host>/<key>              (Host: photos.localhost:8000)

The studio's host is FLOWBENCH_BASE_URL's, and `localhost` (whose subdomains resolve to the loopback
address on most systems), so a client given `endpoint_url=http://localhost:8000` may use either.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings

from editor.aws.http import Request

__all__ = ["Address", "address_of", "studio_hosts"]


@dataclass(frozen=True)
class Address:
    """The bucket ("" for the service itself: ListBuckets) and the key ("" for the bucket), decoded."""

    bucket: str
    key: str
    virtual_host: bool

    @property
    def level(self) -> str:
        return "object" if self.key else "bucket" if self.bucket else "service"


def studio_hosts() -> set[str]:
    """Returns the host names under which a bucket may be named as a subdomain."""
    found = {"localhost"}
    base = urlsplit(settings.FLOWBENCH_BASE_URL).hostname
    if base:
        found.add(base.lower())
    return found


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.rpartition(":")[0] if ":" in host else host


def address_of(request: Request) -> Address:
    """Returns the bucket and key of an S3 request."""
    hostname = _hostname(request.headers.get("host", ""))
    for studio in studio_hosts():
        if hostname.endswith("." + studio):
            bucket = hostname[:-len(studio) - 1]
            return Address(bucket, unquote(request.raw_path[1:]), True)
    bucket, _, key = request.raw_path.lstrip("/").partition("/")
    return Address(unquote(bucket), unquote(key), False)
