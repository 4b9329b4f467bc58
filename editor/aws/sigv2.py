"""S3's older presigned URLs, checked: `?AWSAccessKeyId=...&Expires=<epoch>&Signature=...`, the HMAC-SHA1
query signature boto3's `generate_presigned_url` still makes for S3 unless told to use SigV4. Only
S3 accepts them, as on AWS.

    signed = signature_of(request)          # None unless the query string carries one
    check_time(signed, now); check_signature(request, signed, secret)

The string signed is S3's: the method, Content-MD5, Content-Type, Expires, the request's x-amz-*
headers, and the resource (/bucket/key as sent, with the sub-resources S3 names).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from urllib.parse import unquote

from editor.aws.addressing import address_of
from editor.aws.errors import refusal
from editor.aws.http import Request
from editor.aws.sigv4 import Signed

__all__ = ["is_signed", "signature_of", "check_time", "check_signature"]

# Query keys that are part of the resource signed.
SUB_RESOURCES = frozenset({
    "accelerate", "acl", "analytics", "cors", "delete", "inventory", "lifecycle", "location", "logging", "metrics",
    "notification", "object-lock", "partNumber", "policy", "replication", "requestPayment", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "response-content-language",
    "response-content-type", "response-expires", "restore", "select", "select-type", "storageClass", "tagging",
    "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website",
})


def is_signed(request: Request) -> bool:
    query = request.query_dict
    return "AWSAccessKeyId" in query and "Signature" in query


def signature_of(request: Request) -> Signed | None:
    """Returns the query signature the request carries (its service S3), or None."""
    if not is_signed(request):
        return None
    query = request.query_dict
    expires = query.get("Expires", "")
    if not expires.isdigit():
        raise refusal("incomplete_signature", "Query-string authentication requires the Signature, Expires and "
                                              "AWSAccessKeyId parameters, Expires in seconds since the epoch.")
    return Signed(query["AWSAccessKeyId"], "", "", "s3", (), query["Signature"], "",
                  query.get("x-amz-security-token"), int(expires), version=2)


def check_time(signed: Signed, now: datetime) -> None:
    if now.timestamp() > signed.expires:
        raise refusal("expired_request", f"Request has expired: it was valid until {signed.expires} "
                                         f"(seconds since the epoch), it is now {int(now.timestamp())}.")


def _resource(request: Request) -> str:
    address = address_of(request)
    path = f"/{address.bucket}{request.raw_path}" if address.virtual_host else request.raw_path
    kept = []
    for pair in request.raw_query.split("&"):
        key, equals, value = pair.partition("=")
        if key in SUB_RESOURCES:
            kept.append((key, f"{key}={unquote(value)}" if equals and value else key))
    return path + ("?" + "&".join(text for _key, text in sorted(kept)) if kept else "")


def string_to_sign(request: Request, signed: Signed) -> str:
    headers = request.headers
    amz = sorted((name, value.strip()) for name, value in headers.items() if name.startswith("x-amz-"))
    lines = [request.method.upper(), headers.get("content-md5", ""), headers.get("content-type", ""),
             str(signed.expires)] + [f"{name}:{value}" for name, value in amz]
    return "\n".join(lines) + "\n" + _resource(request)


def check_signature(request: Request, signed: Signed, secret: str) -> None:
    digest = hmac.new(secret.encode(), string_to_sign(request, signed).encode(), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), signed.signature):
        raise refusal("invalid_signature", "The request signature we calculated does not match the signature you "
                                           "provided. Check your key and signing method.")
