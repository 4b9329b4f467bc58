"""Multipart uploads: an object sent in parts (up to 10,000), put together once on completion.

    upload = create_upload(bucket, key, content_type=..., metadata=...)
    part = upload_part(bucket, upload.upload_id, key, 1, [b"..."])
    complete_upload(bucket, upload.upload_id, key, [(1, part.etag), ...])   -> StoredObject
    abort_upload(bucket, upload_id, key)

The object's ETag is S3's: the MD5 of the parts' MD5s (binary, in order), a dash and the count.
Completing writes the whole object's blob first, then, in one transaction that finds the upload
still there, names it and drops the upload, so an upload completes once.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from editor.errors import ApiError
from editor.models import Bucket, MultipartUpload, StoredObject, UploadedPart
from editor.services.object_store import blob_pieces, forget_blobs, save_blob
from editor.services.objects import check_key, save_upload, store_blob

__all__ = ["create_upload", "find_upload", "upload_part", "complete_upload", "abort_upload", "MIN_PART_BYTES",
           "MAX_PARTS"]

MIN_PART_BYTES = 5 * 1024 * 1024   # every part but the last, as S3 requires
MAX_PARTS = 10_000


def _no_such_upload() -> ApiError:
    return ApiError("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload "
                                    "may have been aborted or completed.", 404, field="UploadId")


def create_upload(bucket: Bucket, key: str, *, content_type: str | None, metadata: dict[str, str],
                  headers: dict[str, Any]) -> MultipartUpload:
    check_key(key)
    return MultipartUpload.objects.create(bucket=bucket, key=key, upload_id=uuid.uuid4().hex + uuid.uuid4().hex,
                                          content_type=content_type or "binary/octet-stream",
                                          metadata=metadata, headers=headers)


def find_upload(bucket: Bucket, upload_id: str, key: str, *, lock: bool = False) -> MultipartUpload:
    rows = MultipartUpload.objects.select_for_update() if lock else MultipartUpload.objects
    found = rows.filter(bucket=bucket, upload_id=upload_id, key=key).first()
    if found is None:
        raise _no_such_upload()
    return found


def upload_part(bucket: Bucket, upload_id: str, key: str, number: int, pieces, *,
                content_md5: str | None = None) -> UploadedPart:
    """Returns the part `number` of the upload, holding the bytes `pieces` yields (replacing any)."""
    if not 1 <= number <= MAX_PARTS:
        raise ApiError("InvalidArgument", f"Part number must be an integer between 1 and {MAX_PARTS}, inclusive",
                       400, field="PartNumber")
    find_upload(bucket, upload_id, key)
    blob, size, md5 = save_upload(pieces, content_md5)
    values = {"size": size, "etag": f'"{md5}"', "blob": blob, "last_modified": timezone.now()}
    try:
        with transaction.atomic():
            upload = MultipartUpload.objects.select_for_update().filter(upload_id=upload_id).first()
            if upload is None:
                raise _no_such_upload()
            old = UploadedPart.objects.filter(upload=upload, number=number).first()
            if old is not None:
                forget_blobs([old.blob])
                old.delete()
            return UploadedPart.objects.create(upload=upload, number=number, **values)
    except (ApiError, IntegrityError):
        forget_blobs([blob])
        raise


def complete_upload(bucket: Bucket, upload_id: str, key: str, listed: list[tuple[int, str]]) -> StoredObject:
    """Returns the object made of the listed parts ((number, ETag) in ascending order)."""
    upload = find_upload(bucket, upload_id, key)
    if not listed:
        raise ApiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                                       "published schema: a completion lists at least one part.", 400)
    numbers = [number for number, _etag in listed]
    if numbers != sorted(set(numbers)):
        raise ApiError("InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be "
                                           "specified in order by part number.", 400)
    parts = {p.number: p for p in upload.parts.filter(number__in=numbers)}
    chosen = []
    for number, etag in listed:
        part = parts.get(number)
        if part is None or part.etag.strip('"') != etag.strip('"'):
            raise ApiError("InvalidPart", "One or more of the specified parts could not be found. The part may not "
                                          "have been uploaded, or the specified entity tag may not match the part's "
                                          f"entity tag (part {number}).", 400)
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < MIN_PART_BYTES:
            raise ApiError("EntityTooSmall", f"Your proposed upload is smaller than the minimum allowed size: part "
                                             f"{part.number} has {part.size} bytes, every part but the last needs "
                                             f"{MIN_PART_BYTES}.", 400)
    digest = hashlib.md5(b"".join(bytes.fromhex(p.etag.strip('"')) for p in chosen)).hexdigest()
    blob, size, _md5 = save_blob(blob_pieces(p.blob for p in chosen), settings.FLOWBENCH_OBJECT_MAX_BYTES)
    try:
        with transaction.atomic():
            if not MultipartUpload.objects.select_for_update().filter(pk=upload.pk).exists():
                raise _no_such_upload()   # completed or aborted meanwhile
            forget_blobs(UploadedPart.objects.filter(upload=upload).values_list("blob", flat=True))
            upload.delete()
            return store_blob(bucket, key, blob, size, f'"{digest}-{len(chosen)}"', content_type=upload.content_type,
                              metadata=upload.metadata, headers=upload.headers,
                              event="ObjectCreated:CompleteMultipartUpload")
    except BaseException:
        forget_blobs([blob])   # outside the rolled-back block, so it is not forgotten with it
        raise


def abort_upload(bucket: Bucket, upload_id: str, key: str) -> None:
    with transaction.atomic():
        upload = find_upload(bucket, upload_id, key, lock=True)
        forget_blobs(upload.parts.values_list("blob", flat=True))
        upload.delete()
