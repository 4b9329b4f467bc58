"""S3's multipart uploads."""

from __future__ import annotations

from editor.aws.errors import AwsError
from editor.aws.providers.s3.base import S3Base, kept_headers
from editor.aws.providers.s3.objects import CHECKSUMS, check_upload
from editor.models import MultipartUpload
from editor.services import multipart as service

MAX_PARTS_LISTED = 1000


class MultipartOperations(S3Base):
    def CreateMultipartUpload(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:PutObject", params["Key"])
        upload = service.create_upload(bucket, params["Key"], content_type=params.get("ContentType"),
                                       metadata=params.get("Metadata") or {}, headers=kept_headers(params))
        return {"Bucket": bucket.name, "Key": upload.key, "UploadId": upload.upload_id,
                "ChecksumAlgorithm": params.get("ChecksumAlgorithm")}

    def UploadPart(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:PutObject", params["Key"])
        body = params.get("Body") or b""
        md5 = check_upload(params, body)
        part = service.upload_part(bucket, params["UploadId"], params["Key"], params["PartNumber"], [body],
                                   content_md5=md5)
        return {"ETag": part.etag, **{m: params[m] for m in CHECKSUMS if params.get(m) is not None}}

    def CompleteMultipartUpload(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:PutObject", params["Key"])
        listed = [(p.get("PartNumber"), p.get("ETag") or "")
                  for p in (params.get("MultipartUpload") or {}).get("Parts") or []]
        if any(number is None for number, _etag in listed):
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                                           "published schema: every Part needs a PartNumber.", 400)
        found = service.complete_upload(bucket, params["UploadId"], params["Key"], listed)
        return {"Location": f"/{bucket.name}/{found.key}", "Bucket": bucket.name, "Key": found.key,
                "ETag": found.etag}

    def AbortMultipartUpload(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:AbortMultipartUpload", params["Key"])
        service.abort_upload(bucket, params["UploadId"], params["Key"])
        return {}

    def ListParts(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:ListMultipartUploadParts", params["Key"])
        upload = service.find_upload(bucket, params["UploadId"], params["Key"])
        after = params.get("PartNumberMarker") or 0
        limit = min(params.get("MaxParts") or MAX_PARTS_LISTED, MAX_PARTS_LISTED)
        parts = list(upload.parts.filter(number__gt=after).order_by("number")[:limit + 1])
        more = len(parts) > limit
        parts = parts[:limit]
        owner = self.owner_shape()
        return {"Bucket": bucket.name, "Key": upload.key, "UploadId": upload.upload_id,
                "PartNumberMarker": after, "MaxParts": limit, "IsTruncated": more,
                "NextPartNumberMarker": parts[-1].number if parts else None,
                "Parts": [{"PartNumber": p.number, "LastModified": p.last_modified, "ETag": p.etag, "Size": p.size}
                          for p in parts] or None,
                "Initiator": {"ID": self.principal.arn, "DisplayName": owner["DisplayName"]}, "Owner": owner,
                "StorageClass": "STANDARD"}

    def ListMultipartUploads(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:ListBucketMultipartUploads")
        rows = MultipartUpload.objects.filter(bucket=bucket, key__startswith=params.get("Prefix") or "")
        limit = min(params.get("MaxUploads") or 1000, 1000)
        found = list(rows.order_by("key", "initiated")[:limit + 1])
        owner = self.owner_shape()
        return {"Bucket": bucket.name, "Prefix": params.get("Prefix"), "MaxUploads": limit,
                "IsTruncated": len(found) > limit,
                "Uploads": [{"UploadId": u.upload_id, "Key": u.key, "Initiated": u.initiated, "Owner": owner,
                             "Initiator": {"ID": self.principal.arn, "DisplayName": owner["DisplayName"]},
                             "StorageClass": "STANDARD"} for u in found[:limit]] or None}
