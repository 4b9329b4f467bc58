"""What the S3 API's live tests share: unique bucket names and the error a boto3 call raised."""

from __future__ import annotations

import uuid


def bucket_name(tag: str = "b") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}"


def error_of(excinfo) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]
