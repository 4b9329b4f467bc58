"""S3's bucket operations and listings."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

from editor.aws.errors import AwsError
from editor.aws.providers.s3.base import S3Base, bucket_arn
from editor.services import buckets as service
from editor.services import notifications

MAX_KEYS = 1000


def _token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode("utf-8")).decode()


def _after(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8")
    except (binascii.Error, ValueError):
        raise AwsError("InvalidArgument", "The continuation token provided is incorrect", 400) from None


def _encoder(params: dict):
    """Returns how keys and prefixes are written: URL-encoded when EncodingType=url asks (botocore
    asks, and decodes them), as they are otherwise."""
    encoding = params.get("EncodingType")
    if encoding is None:
        return lambda text: text
    if encoding != "url":
        raise AwsError("InvalidArgument", "Invalid Encoding Method specified in Request", 400)
    return lambda text: quote(text, safe="/~") if text else text


class BucketOperations(S3Base):
    def CreateBucket(self, params: dict) -> dict:
        name = params["Bucket"]
        self.authorize("s3:CreateBucket", bucket_arn(name))
        wanted = (params.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
        if wanted and wanted != self.context.region:
            raise AwsError("IllegalLocationConstraintException", f"The {wanted} location constraint is incompatible "
                                                                 f"for the region specific endpoint this request was "
                                                                 f"sent to ({self.context.region}).", 400)
        bucket = service.create_bucket(self.owner, name, self.context.region)
        return {"Location": f"/{bucket.name}", "BucketArn": bucket_arn(bucket.name)}

    def ListBuckets(self, params: dict) -> dict:
        self.authorize("s3:ListAllMyBuckets", "arn:aws:s3:::*")
        found = service.list_buckets(self.owner)
        prefix = params.get("Prefix") or ""
        found = [b for b in found if b.name.startswith(prefix)]
        if params.get("ContinuationToken"):
            after = _after(params["ContinuationToken"])
            found = [b for b in found if b.name > after]
        limit = params.get("MaxBuckets") or 10000
        page, more = found[:limit], len(found) > limit
        return {"Buckets": [{"Name": b.name, "CreationDate": b.created_at, "BucketRegion": b.region,
                             "BucketArn": bucket_arn(b.name)} for b in page],
                "Owner": self.owner_shape(), "Prefix": params.get("Prefix"),
                "ContinuationToken": _token(page[-1].name) if more else None}

    def DeleteBucket(self, params: dict) -> dict:
        self.authorize("s3:DeleteBucket", bucket_arn(params["Bucket"]))
        service.delete_bucket(self.owner, params["Bucket"])
        return {}

    def HeadBucket(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:ListBucket")
        return {"BucketRegion": bucket.region, "BucketArn": bucket_arn(bucket.name)}

    def GetBucketLocation(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:GetBucketLocation")
        # S3 says nothing (null) for us-east-1, its first region
        return {"LocationConstraint": None if bucket.region == "us-east-1" else bucket.region}

    def _listing(self, params: dict, after: str):
        bucket = self.bucket(params["Bucket"], "s3:ListBucket")
        limit = params.get("MaxKeys", MAX_KEYS)
        if limit < 0:
            raise AwsError("InvalidArgument", "max-keys cannot be negative", 400)
        listing = service.list_objects(bucket, prefix=params.get("Prefix") or "",
                                       delimiter=params.get("Delimiter") or "", after=after,
                                       limit=min(limit, MAX_KEYS))
        encode = _encoder(params)
        owner = self.owner_shape()
        contents = [{"Key": encode(o.key), "LastModified": o.last_modified, "ETag": o.etag, "Size": o.size,
                     "StorageClass": "STANDARD", "Owner": owner if params.get("FetchOwner", True) else None}
                    for o in listing.objects]
        common = [{"Prefix": encode(p)} for p in listing.prefixes]
        shared = {"Name": bucket.name, "Prefix": encode(params.get("Prefix") or ""),
                  "Delimiter": encode(params.get("Delimiter")) if params.get("Delimiter") else None,
                  "MaxKeys": limit, "IsTruncated": listing.truncated, "EncodingType": params.get("EncodingType"),
                  "Contents": contents or None, "CommonPrefixes": common or None}
        return listing, shared, encode

    def ListObjectsV2(self, params: dict) -> dict:
        token = params.get("ContinuationToken")
        after = _after(token) if token else params.get("StartAfter") or ""
        params.setdefault("FetchOwner", False)
        listing, shared, encode = self._listing(params, after)
        return {**shared, "KeyCount": len(listing.objects) + len(listing.prefixes), "ContinuationToken": token,
                "StartAfter": encode(params["StartAfter"]) if params.get("StartAfter") else None,
                "NextContinuationToken": _token(listing.last) if listing.truncated else None}

    def ListObjects(self, params: dict) -> dict:
        marker = params.get("Marker") or ""
        listing, shared, encode = self._listing(params, marker)
        return {**shared, "Marker": encode(marker),
                "NextMarker": encode(listing.last) if listing.truncated else None}

    def PutBucketNotificationConfiguration(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:PutBucketNotification")
        configuration = params["NotificationConfiguration"]
        for other in ("TopicConfigurations", "QueueConfigurations", "EventBridgeConfiguration"):
            if configuration.get(other):
                raise AwsError("InvalidArgument", f"Flowbench delivers bucket notifications to functions "
                                                  f"(LambdaFunctionConfigurations), not {other}.", 400)
        try:
            notifications.set_notifications(bucket, configuration.get("LambdaFunctionConfigurations") or [])
        except notifications.DestinationRefused as refused:   # S3 names each destination and why
            fields = {}
            for number, (arn, why) in enumerate(refused.refused, start=1):
                fields[f"ArgumentName{number}"] = arn
                fields[f"ArgumentValue{number}"] = why
            raise AwsError("InvalidArgument", refused.SUMMARY, 400, fields=fields) from None
        return {}

    def GetBucketNotificationConfiguration(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:GetBucketNotification")
        return {"LambdaFunctionConfigurations": notifications.public(bucket.notifications) or None}
