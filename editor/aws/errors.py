"""AWS errors are data: one exception carrying AWS's code, message and HTTP status, raised by the
signature check, the parsers and the providers, and written in each protocol's error shape by its
serializer (`__type` and `x-amzn-ErrorType` for JSON, `<ErrorResponse><Error>` for Query).

    AwsError                      code, message, status, sender fault, extra members of its shape
    └── Refusal                   a refusal every service makes, whose code depends on the protocol
                                  family: refusal("validation", ...) is ValidationException for
                                  JSON services and ValidationError for Query ones

Providers raise AwsError with their service's own codes (`NoSuchEntity`, `ResourceNotFoundException`)
and the generic refusals through `refusal(kind, message)`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AwsError", "Refusal", "refusal", "validation_error", "KINDS"]

# kind -> {protocol family: (code, HTTP status)}. The families: "json" (JSON 1.0/1.1 and REST-JSON)
# "query" (Query) and "s3" (REST-XML, S3's own codes).
KINDS: dict[str, dict[str, tuple[str, int]]] = {
    "missing_authentication": {"json": ("MissingAuthenticationTokenException", 403),
                               "query": ("MissingAuthenticationToken", 403),
                               "s3": ("AccessDenied", 403)},
    "incomplete_signature": {"json": ("IncompleteSignatureException", 400),
                             "query": ("IncompleteSignature", 400),
                             "s3": ("AuthorizationHeaderMalformed", 400)},
    "unrecognized_client": {"json": ("UnrecognizedClientException", 403),
                            "query": ("InvalidClientTokenId", 403),
                            "s3": ("InvalidAccessKeyId", 403)},
    "invalid_signature": {"json": ("InvalidSignatureException", 403),
                          "query": ("SignatureDoesNotMatch", 403),
                          "s3": ("SignatureDoesNotMatch", 403)},
    "expired_token": {"json": ("ExpiredTokenException", 403), "query": ("ExpiredToken", 403),
                      "s3": ("ExpiredToken", 400)},
    # A presigned URL past its X-Amz-Expires, and a request signed too far from now.
    "expired_request": {"json": ("InvalidSignatureException", 403), "query": ("SignatureDoesNotMatch", 403),
                        "s3": ("AccessDenied", 403)},
    "skewed_time": {"json": ("InvalidSignatureException", 403), "query": ("SignatureDoesNotMatch", 403),
                    "s3": ("RequestTimeTooSkewed", 403)},
    "content_sha256_mismatch": {"json": ("InvalidSignatureException", 403),
                                "query": ("SignatureDoesNotMatch", 403),
                                "s3": ("XAmzContentSHA256Mismatch", 400)},
    "access_denied": {"json": ("AccessDeniedException", 403), "query": ("AccessDenied", 403),
                      "s3": ("AccessDenied", 403)},
    "validation": {"json": ("ValidationException", 400), "query": ("ValidationError", 400),
                   "s3": ("InvalidArgument", 400)},
    "malformed": {"json": ("SerializationException", 400), "query": ("MalformedInput", 400),
                  "s3": ("MalformedXML", 400)},
    "unknown_operation": {"json": ("UnknownOperationException", 400), "query": ("InvalidAction", 400),
                          "s3": ("NotImplemented", 501)},
    "too_large": {"json": ("RequestEntityTooLargeException", 413), "query": ("RequestEntityTooLarge", 413),
                  "s3": ("EntityTooLarge", 400)},
    "internal": {"json": ("InternalFailure", 500), "query": ("InternalFailure", 500),
                 "s3": ("InternalError", 500)},
}


class AwsError(Exception):
    """An answer AWS gives instead of a result: `code` (e.g. "NoSuchEntity"), a sentence, the HTTP
    status, whether the caller is at fault (Sender) or the service (Receiver), and `fields`, more
    members of the error's shape (Lambda's `Type`, a `Retry-After`...) its serializer writes."""

    def __init__(self, code: str, message: str, status: int = 400, *, sender: bool = True,
                 fields: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender
        self.fields = fields or {}

    def resolve(self, family: str) -> tuple[str, int]:
        """Returns (code, HTTP status) as a service of the protocol family `family` answers."""
        return self.code, self.status


class Refusal(AwsError):
    """A refusal named by its kind (a key of KINDS); its code is the protocol family's."""

    def __init__(self, kind: str, message: str):
        code, status = KINDS[kind]["json"]
        super().__init__(code, message, status, sender=kind != "internal")
        self.kind = kind

    def resolve(self, family: str) -> tuple[str, int]:
        return KINDS[self.kind].get(family, KINDS[self.kind]["json"])


def refusal(kind: str, message: str) -> Refusal:
    """Returns the generic refusal `kind` ("validation", "unknown_operation", ...) with `message`."""
    return Refusal(kind, message)


def validation_error(problems: list[str]) -> Refusal:
    """Returns the validation refusal listing `problems` as AWS words them:
    "2 validation errors detected: Value null at 'roleName' failed to satisfy constraint: ...; ..."."""
    count = len(problems)
    return Refusal("validation", f"{count} validation error{'s' if count > 1 else ''} detected: "
                                 + "; ".join(problems))
