"""Signature Version 4, checked: the signature a request carries (in its Authorization header, or
in its query string for a presigned URL) is recomputed with botocore's own signer from the secret
of its access key and compared in constant time.

    signed = signature_of(request)         # None when unsigned; Signed(key id, scope, ...)
    check(request, signed, secret, now)    # raises the refusal AWS gives, else returns

The request is rebuilt as a botocore AWSRequest from what the client sent: method, raw path, the
query string (less X-Amz-Signature), exactly the headers it signed and the body's SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from editor.aws import chunked
from editor.aws.errors import refusal
from editor.aws.http import Request

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
AMZ_DATE = "%Y%m%dT%H%M%SZ"
# How far a request's time may be from the server's, as AWS allows.
SKEW = timedelta(minutes=15)
_CREDENTIAL = re.compile(r"^(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request$")


@dataclass(frozen=True)
class Signed:
    """What a signed request says of its signature."""

    access_key_id: str
    date: str            # the credential scope's YYYYMMDD
    region: str
    service: str         # the scope's service: the signing name of the service called
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str        # X-Amz-Date, YYYYMMDDTHHMMSSZ
    session_token: str | None
    expires: int | None  # presigned URLs: seconds after amz_date (S3's older query signature: the epoch second)
    version: int = 4     # 2: S3's older query signature (editor.aws.sigv2)


def is_signed(request: Request) -> bool:
    return request.headers.get("authorization", "").startswith("AWS4-") or "X-Amz-Algorithm" in request.query_dict


def scope_service(request: Request) -> str | None:
    """Returns the service the signature's credential scope names, without checking anything."""
    if request.headers.get("authorization", "").startswith(ALGORITHM):
        found = re.search(r"Credential=([^,\s]+)", request.headers["authorization"])
        credential = found.group(1) if found else ""
    else:
        credential = request.query_dict.get("X-Amz-Credential", "")
    match = _CREDENTIAL.match(credential)
    return match["service"] if match else None


def _parse_credential(credential: str) -> re.Match:
    match = _CREDENTIAL.match(credential or "")
    if match is None:
        raise refusal("incomplete_signature", f"Credential should be scoped to a valid region and service, "
                                              f"as <key>/<YYYYMMDD>/<region>/<service>/aws4_request: {credential!r}.")
    return match


def signature_of(request: Request) -> Signed | None:
    """Returns the request's signature, None when it carries none; a signature missing one of
    its parts is refused (IncompleteSignature), one of another algorithm likewise."""
    header = request.headers.get("authorization")
    query = request.query_dict
    if header is not None:
        algorithm, _, rest = header.partition(" ")
        if algorithm != ALGORITHM:
            raise refusal("incomplete_signature", f"Unsupported signature algorithm {algorithm!r}: sign requests with "
                                                  f"{ALGORITHM} (Signature Version 4).")
        parts = dict(p.strip().partition("=")[::2] for p in rest.split(",") if "=" in p)
        missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not parts.get(name)]
        amz_date = request.headers.get("x-amz-date", "")
        if missing or not amz_date:
            sentences = [f"Authorization header requires '{name}' parameter." for name in missing]
            if not amz_date:
                sentences.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
            raise refusal("incomplete_signature", " ".join(sentences) + f" Authorization={header[:200]}")
        credential = _parse_credential(parts["Credential"])
        return Signed(credential["key"], credential["date"], credential["region"], credential["service"],
                      tuple(parts["SignedHeaders"].split(";")), parts["Signature"], amz_date,
                      request.headers.get("x-amz-security-token"), None)
    if "X-Amz-Algorithm" not in query:
        return None
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise refusal("incomplete_signature", f"X-Amz-Algorithm must be {ALGORITHM}.")
    missing = [name for name in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
               if not query.get(name)]
    if missing:
        raise refusal("incomplete_signature", f"The query string requires the {', '.join(missing)} parameter"
                                              f"{'s' if len(missing) > 1 else ''}.")
    expires = query.get("X-Amz-Expires")
    if expires is not None and not expires.isdigit():
        raise refusal("incomplete_signature", "X-Amz-Expires must be a number of seconds.")
    credential = _parse_credential(query["X-Amz-Credential"])
    return Signed(credential["key"], credential["date"], credential["region"], credential["service"],
                  tuple(query["X-Amz-SignedHeaders"].split(";")), query["X-Amz-Signature"], query["X-Amz-Date"],
                  query.get("X-Amz-Security-Token"), int(expires) if expires is not None else None)


def check_time(signed: Signed, now: datetime) -> None:
    """Refuses a request signed more than 15 minutes from now (or a presigned URL past its expiry)."""
    try:
        when = datetime.strptime(signed.amz_date, AMZ_DATE).replace(tzinfo=timezone.utc)
    except ValueError:
        raise refusal("incomplete_signature", f"X-Amz-Date must be written YYYYMMDDTHHMMSSZ, not "
                                              f"{signed.amz_date[:40]!r}.") from None
    if signed.date != signed.amz_date[:8]:
        raise refusal("invalid_signature", f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                                           f"of date from HTTP: '{signed.date}' != '{signed.amz_date[:8]}', from "
                                           f"ISO-8601 string: '{signed.amz_date}'.")
    stamp = now.strftime(AMZ_DATE)
    if signed.expires is not None:
        if now > when + timedelta(seconds=signed.expires):
            raise refusal("expired_request", f"Signature expired: {signed.amz_date} is now earlier than "
                                               f"{(now - timedelta(seconds=signed.expires)).strftime(AMZ_DATE)} "
                                               f"({stamp} - {signed.expires} sec.)")
        return
    if when < now - SKEW:
        raise refusal("skewed_time", f"Signature expired: {signed.amz_date} is now earlier than "
                                           f"{(now - SKEW).strftime(AMZ_DATE)} ({stamp} - 15 min.)")
    if when > now + SKEW:
        raise refusal("skewed_time", f"Signature not yet current: {signed.amz_date} is still later than "
                                           f"{(now + SKEW).strftime(AMZ_DATE)} ({stamp} + 15 min.)")


class _Recomputer(SigV4Auth):
    """botocore's SigV4 signer, signing exactly the headers the client said it signed (botocore
    would choose its own list, leaving out some a client may have signed). For S3 it signs the
    path as sent (S3 does not normalize it) and a presigned URL's payload as UNSIGNED-PAYLOAD."""

    def __init__(self, credentials, service, region, signed_headers, *, presigned: bool):
        super().__init__(credentials, service, region)
        self._signed_headers = signed_headers
        self._s3 = service == "s3"
        self._presigned = presigned

    def headers_to_sign(self, request):
        found = HTTPHeaders()
        for name in self._signed_headers:
            found[name] = request.headers.get(name, "")
        return found

    def _normalize_url_path(self, path):
        return path if self._s3 else super()._normalize_url_path(path)

    def payload(self, request):
        if self._s3 and self._presigned:
            return UNSIGNED_PAYLOAD
        return super().payload(request)


def expected_signature(request: Request, signed: Signed, secret: str) -> str:
    """Returns the signature botocore's signer makes for this request with `secret`."""
    query = "&".join(pair for pair in request.raw_query.split("&")
                     if pair and not pair.startswith("X-Amz-Signature="))
    host = request.headers.get("host", "localhost")
    rebuilt = AWSRequest(method=request.method, url=f"http://{host}{request.raw_path}" + (f"?{query}" if query else ""),
                         data=request.body)
    for name in signed.signed_headers:
        if name in request.headers:
            rebuilt.headers[name] = request.headers[name]
    rebuilt.context["timestamp"] = signed.amz_date
    signer = _Recomputer(Credentials(signed.access_key_id, secret), signed.service, signed.region,
                         signed.signed_headers, presigned=signed.expires is not None or "authorization" not in
                         request.headers)
    canonical = signer.canonical_request(rebuilt)
    return signer.signature(signer.string_to_sign(rebuilt, canonical), rebuilt)


def check_signature(request: Request, signed: Signed, secret: str) -> tuple[bytes, dict[str, str]]:
    """Refuses the request unless its signature is the one its key's secret makes; returns its
    payload and trailing headers: the body and {}, or what an aws-chunked body (S3's streamed
    uploads) carries, every chunk's signature checked."""
    if "host" not in signed.signed_headers:
        raise refusal("invalid_signature", "The host header must be signed.")
    declared = request.headers.get("x-amz-content-sha256")
    if declared is not None and declared != UNSIGNED_PAYLOAD and declared not in chunked.MODES \
            and declared != hashlib.sha256(request.body).hexdigest():
        raise refusal("content_sha256_mismatch", "The provided 'x-amz-content-sha256' header does not match what "
                                                 "was computed.")
    expected = expected_signature(request, signed, secret)
    if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
        raise refusal("invalid_signature", "The request signature we calculated does not match the signature you "
                                           "provided. Check your AWS Secret Access Key and signing method. Consult "
                                           "the service documentation for details.")
    if declared not in chunked.MODES:
        return request.body, {}
    chain = chunked.Chain(chunked.signing_key(secret, signed.date, signed.region, signed.service), signed.amz_date,
                          f"{signed.date}/{signed.region}/{signed.service}/aws4_request", signed.signature)
    payload, trailers = chunked.decode(request.body, declared, chain)
    length = request.headers.get("x-amz-decoded-content-length")
    if length is not None and length.strip() != str(len(payload)):
        raise refusal("incomplete_signature", f"The aws-chunked body carries {len(payload)} bytes, not the "
                                              f"{length.strip()} its x-amz-decoded-content-length says.")
    return payload, trailers
