"""What S3's operations share: ARNs, the caller's bucket behind its authorization, S3's refusals
and the object headers kept beside the bytes."""

from __future__ import annotations

from editor.aws.errors import AwsError
from editor.aws.providers.base import Provider
from editor.errors import ApiError
from editor.models import Bucket
from editor.services.buckets import owned_bucket

# Input members kept with an object and given back on GetObject/HeadObject as they came.
KEPT_HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "Expires")


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def kept_headers(params: dict) -> dict:
    """Returns the object headers of a PutObject-like request, as text, to keep with the object."""
    found = {}
    for name in KEPT_HEADERS:
        value = params.get(name)
        if value is None:
            continue
        if name == "ContentEncoding":
            # aws-chunked names the transfer of the body, not the object's encoding
            value = ",".join(p for p in (s.strip() for s in value.split(",")) if p and p != "aws-chunked")
            if not value:
                continue
        found[name] = value if isinstance(value, str) else value.isoformat()
    return found


class S3Base(Provider):
    def translate(self, error: ApiError) -> AwsError:
        # editor/services speak S3's codes for buckets and objects already
        return AwsError(error.code, error.message, error.status)

    def bucket(self, name: str, action: str, key: str | None = None) -> Bucket:
        """Returns the caller's bucket `name` once `action` on it (or on its object `key`) is allowed."""
        self.authorize(action, bucket_arn(name) if key is None else object_arn(name, key))
        return owned_bucket(self.owner, name)

    def owner_shape(self) -> dict:
        return {"ID": self.principal.account_id, "DisplayName": getattr(self.owner, "username", "")}
