"""S3's object operations: put, get (ranges, conditions), head, copy, delete."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import zlib
from datetime import datetime
from urllib.parse import unquote

from editor.aws.errors import AwsError
from editor.aws.providers.s3.base import S3Base, kept_headers
from editor.errors import ApiError
from editor.models import StoredObject
from editor.services import objects as service
from editor.services.object_store import open_blob

MAX_DELETE = 1000
OPEN_ATTEMPTS = 5          # lookups of a GET whose object is replaced each time before its bytes open
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _crc32(body: bytes) -> str:
    return base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


# Checksums a client may send with an upload, which Flowbench can compute (CRC32C and CRC64NVME
# would need another library: those are taken on trust).
CHECKSUMS = {
    "ChecksumCRC32": ("CRC32", _crc32),
    "ChecksumSHA1": ("SHA1", lambda body: base64.b64encode(hashlib.sha1(body).digest()).decode()),
    "ChecksumSHA256": ("SHA256", lambda body: base64.b64encode(hashlib.sha256(body).digest()).decode()),
}


def check_upload(params: dict, body: bytes) -> str | None:
    """Refuses a body whose Content-MD5 or checksum is not the one sent (BadDigest, InvalidDigest);
    returns the Content-MD5 as hex, or None."""
    for member, (name, compute) in CHECKSUMS.items():
        given = params.get(member)
        if given is not None and given != compute(body):
            raise AwsError("BadDigest", f"The {name} you specified did not match the calculated checksum.", 400)
    given = params.get("ContentMD5")
    if given is None:
        return None
    try:
        digest = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
    return digest.hex()


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Returns (start, end exclusive) of a `Range: bytes=...` header, None for the whole object
    (no header, or one S3 ignores); raises InvalidRange when nothing of the object is in it."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            raise _invalid_range(size)
        return max(0, size - length), size
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        raise _invalid_range(size)
    return start, end


def _invalid_range(size: int) -> AwsError:
    return AwsError("InvalidRange", "The requested range is not satisfiable", 416,
                    fields={"ActualObjectSize": size})


def _check_conditions(params: dict, found: StoredObject) -> None:
    """Answers as S3 does when the request's If-* headers say not to send the object."""
    etag = found.etag.strip('"')
    modified = found.last_modified.replace(microsecond=0)

    def matches(header: str) -> bool:
        return any(t.strip().strip('"') in (etag, "*") for t in header.split(","))

    if params.get("IfMatch") is not None and not matches(params["IfMatch"]):
        raise AwsError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                       fields={"Condition": "If-Match"})
    if params.get("IfMatch") is None and isinstance(params.get("IfUnmodifiedSince"), datetime) \
            and modified > params["IfUnmodifiedSince"]:
        raise AwsError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                       fields={"Condition": "If-Unmodified-Since"})
    if params.get("IfNoneMatch") is not None:
        if matches(params["IfNoneMatch"]):
            raise AwsError("NotModified", "Not Modified", 304)
    elif isinstance(params.get("IfModifiedSince"), datetime) and modified <= params["IfModifiedSince"]:
        raise AwsError("NotModified", "Not Modified", 304)


def _copy_source(text: str) -> tuple[str, str]:
    """Returns (bucket, key) of an `x-amz-copy-source` header ("/bucket/key", URL-encoded)."""
    path = unquote(text.split("?versionId=")[0]).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise AwsError("InvalidArgument", "Copy Source must mention the source bucket and key: "
                                          "sourcebucket/sourcekey", 400)
    return bucket, key


class ObjectOperations(S3Base):
    def PutObject(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:PutObject", params["Key"])
        body = params.get("Body") or b""
        md5 = check_upload(params, body)
        found = service.put_object(bucket, params["Key"], [body], content_type=params.get("ContentType"),
                                   metadata=params.get("Metadata") or {}, headers=kept_headers(params),
                                   content_md5=md5, if_match=params.get("IfMatch"),
                                   if_none_match=params.get("IfNoneMatch"))
        return {"ETag": found.etag, "Size": found.size,
                **{m: params[m] for m in CHECKSUMS if params.get(m) is not None}}

    def _described(self, params: dict) -> tuple[StoredObject, dict, tuple[int, int] | None]:
        bucket = self.bucket(params["Bucket"], "s3:GetObject", params["Key"])
        found = service.find_object(bucket, params["Key"])
        _check_conditions(params, found)
        span = _byte_range(params.get("Range"), found.size)
        start, end = span or (0, found.size)
        described = {"ETag": found.etag, "LastModified": found.last_modified, "ContentLength": end - start,
                     "ContentType": found.content_type, "Metadata": found.metadata or None, "AcceptRanges": "bytes",
                     **found.headers}
        if span is not None:
            described["ContentRange"] = f"bytes {start}-{end - 1}/{found.size}"
        for member in ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "ContentType",
                       "Expires"):
            if params.get(f"Response{member}") is not None:   # a presigned URL's response-content-type=...
                described[member] = params[f"Response{member}"]
        return found, described, span

    def GetObject(self, params: dict) -> dict:
        # The object found may be replaced (its blob deleted) before its bytes are opened: then the
        # key is looked up again, as a GET that came after the write would find it.
        for _attempt in range(OPEN_ATTEMPTS):
            found, described, span = self._described(params)
            start, end = span or (0, found.size)
            try:
                return {**described, "Body": open_blob(found.blob, start, end)}
            except FileNotFoundError:
                continue
        raise AwsError("SlowDown", "Please reduce your request rate: the object changed while it was read.", 503)

    def HeadObject(self, params: dict) -> dict:
        return self._described(params)[1]

    def DeleteObject(self, params: dict) -> dict:
        bucket = self.bucket(params["Bucket"], "s3:DeleteObject", params["Key"])
        service.delete_object(bucket, params["Key"])
        return {}

    def DeleteObjects(self, params: dict) -> dict:
        listed = params["Delete"].get("Objects") or []
        if len(listed) > MAX_DELETE:
            raise AwsError("MalformedXML", f"The XML you provided was not well-formed or did not validate against "
                                           f"our published schema: at most {MAX_DELETE} keys per request.", 400)
        bucket = self.bucket(params["Bucket"], "s3:ListBucket")
        deleted, errors = [], []
        for item in listed:
            key = item["Key"]
            try:
                self.bucket(bucket.name, "s3:DeleteObject", key)
                service.delete_object(bucket, key)
                deleted.append({"Key": key})
            except AwsError as error:
                errors.append({"Key": key, "Code": error.resolve("s3")[0], "Message": error.message})
            except ApiError as error:
                errors.append({"Key": key, "Code": error.code, "Message": error.message})
        return {"Deleted": None if params["Delete"].get("Quiet") else deleted or None, "Errors": errors or None}

    def CopyObject(self, params: dict) -> dict:
        source_bucket, source_key = _copy_source(params["CopySource"])
        source = service.find_object(self.bucket(source_bucket, "s3:GetObject", source_key), source_key)
        conditions = {"IfMatch": params.get("CopySourceIfMatch"), "IfNoneMatch": params.get("CopySourceIfNoneMatch"),
                      "IfModifiedSince": params.get("CopySourceIfModifiedSince"),
                      "IfUnmodifiedSince": params.get("CopySourceIfUnmodifiedSince")}
        try:
            _check_conditions(conditions, source)
        except AwsError as error:   # S3 answers a copy's failed condition as 412 either way
            raise AwsError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                           412) from error
        bucket = self.bucket(params["Bucket"], "s3:PutObject", params["Key"])
        directive = params.get("MetadataDirective") or "COPY"
        copied = service.copy_object(source, bucket, params["Key"], replace=directive == "REPLACE",
                                     content_type=params.get("ContentType"), metadata=params.get("Metadata"),
                                     headers=kept_headers(params))
        return {"CopyObjectResult": {"ETag": copied.etag, "LastModified": copied.last_modified}}
