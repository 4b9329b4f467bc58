"""S3's `aws-chunked` bodies, decoded and checked: what a client sends when it signs an upload as it
streams it (`x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, each chunk signed in a chain
from the request's own signature) or streams it unsigned with a trailing checksum
(`STREAMING-UNSIGNED-PAYLOAD-TRAILER`).

    <hex size>;chunk-signature=<signature>\\r\\n<bytes>\\r\\n ... 0;chunk-signature=<signature>\\r\\n
    [<trailer name>:<value>\\r\\n ... x-amz-trailer-signature:<signature>\\r\\n]\\r\\n

    payload = decode(body, mode, key=signing_key, seed=signature, amz_date=..., scope=...)
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from editor.aws.errors import AwsError, refusal

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
MODES = (SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER)
EMPTY = hashlib.sha256(b"").hexdigest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """Returns SigV4's signing key for the day, region and service."""
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@dataclass(frozen=True)
class Chain:
    """What each chunk's signature is computed from: the signing key, X-Amz-Date, the credential
    scope and the signature before it (the request's own, for the first chunk)."""

    key: bytes
    amz_date: str
    scope: str
    seed: str

    def sign(self, kind: str, previous: str, digest: str, chunk_hash: str | None) -> str:
        lines = [kind, self.amz_date, self.scope, previous] + ([digest, chunk_hash] if chunk_hash else [digest])
        return hmac.new(self.key, "\n".join(lines).encode(), hashlib.sha256).hexdigest()


def _bad(message: str) -> AwsError:
    return refusal("incomplete_signature", f"The aws-chunked body is malformed: {message}")


def _mismatch() -> AwsError:
    return refusal("invalid_signature", "The request signature we calculated does not match the signature you "
                                        "provided (a chunk of the streamed body).")


def decode(body: bytes, mode: str, chain: Chain | None) -> tuple[bytes, dict[str, str]]:
    """Returns (the payload, the trailing headers) of an aws-chunked `body`, each chunk's
    signature checked along `chain` when `mode` signs them; raises the refusal AWS gives."""
    signed = mode in (SIGNED, SIGNED_TRAILER)
    previous = chain.seed if chain else ""
    position = 0
    payload = bytearray()
    while True:
        end = body.find(b"\r\n", position)
        if end < 0:
            raise _bad("a chunk header has no end of line.")
        header = body[position:end].decode("latin-1")
        size_text, _, extension = header.partition(";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise _bad(f"{size_text[:20]!r} is not a chunk size.") from None
        start, stop = end + 2, end + 2 + size
        chunk = body[start:stop]
        if len(chunk) != size:
            raise _bad("a chunk is shorter than its size says.")
        if signed:
            name, _, given = extension.partition("=")
            if name.strip() != "chunk-signature" or chain is None:
                raise _bad("a chunk carries no chunk-signature.")
            expected = chain.sign("AWS4-HMAC-SHA256-PAYLOAD", previous, EMPTY, hashlib.sha256(chunk).hexdigest())
            if not hmac.compare_digest(expected, given.strip()):
                raise _mismatch()
            previous = expected
        payload += chunk
        if size == 0:
            position = start
            break
        if body[stop:stop + 2] != b"\r\n":
            raise _bad("a chunk does not end with CRLF.")
        position = stop + 2
    trailers = _trailers(body[position:], mode, chain, previous)
    return bytes(payload), trailers


def _trailers(rest: bytes, mode: str, chain: Chain | None, previous: str) -> dict[str, str]:
    """Returns the trailing headers after the last chunk, its trailer signature checked."""
    lines = rest.decode("latin-1").split("\r\n")
    found: dict[str, str] = {}
    given = None
    for line in lines:
        if not line:
            continue
        name, _, value = line.partition(":")
        if name.strip().lower() == "x-amz-trailer-signature":
            given = value.strip()
        else:
            found[name.strip().lower()] = value.strip()
    if mode == SIGNED_TRAILER and found:
        canonical = "".join(f"{name}:{value}\n" for name, value in found.items())
        expected = chain.sign("AWS4-HMAC-SHA256-TRAILER", previous, hashlib.sha256(canonical.encode()).hexdigest(),
                              None)
        if given is None or not hmac.compare_digest(expected, given):
            raise _mismatch()
    return found
