"""What the S3 API's live tests share: unique bucket names and the error a boto3 call raised."""

from __future__ import annotations

import uuid


def bucket_name(tag: str = "b") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}"


def error_of(excinfo) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def allow_s3(lam, function_arn: str, bucket: str, statement_id: str = "s3-invoke") -> None:
    """Lets S3 invoke the function for `bucket` (its resource-based policy), as S3 requires of a
    notification's destination: `aws lambda add-permission --principal s3.amazonaws.com`."""
    lam.add_permission(FunctionName=function_arn, StatementId=statement_id, Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}",
                       SourceAccount=function_arn.split(":")[4])
