"""Objects in buckets: put, read, copy and delete, the one writer of StoredObject rows.

    put_object(bucket, "a/b.txt", [b"..."], content_type="text/plain", metadata={"k": "v"})
    find_object(bucket, "a/b.txt")          -> StoredObject (NoSuchKey)
    copy_object(source, bucket, key, ...)   -> StoredObject, a copy of the bytes
    delete_object(bucket, key)              -> whether there was one

The bytes are saved to a blob first; the row that names them is written in one transaction that
also drops the blob the key named before (deleted once that commits) and records the bucket
notifications the change calls for (editor.services.notifications). Refusals are ApiErrors with
S3's codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from editor.errors import ApiError
from editor.models import Bucket, StoredObject
from editor.services.object_store import forget_blobs, read_blob, save_blob

__all__ = ["key_problem", "check_key", "put_object", "save_upload", "write_condition", "store_blob", "find_object", "copy_object", "delete_object"]

MAX_KEY_BYTES = 1024
DEFAULT_TYPE = "binary/octet-stream"


def key_problem(key: str) -> str | None:
    """Returns why `key` cannot name an object, or None."""
    if not key:
        return "A key must not be empty."
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"Your key is too long: a key is at most {MAX_KEY_BYTES} bytes of UTF-8."
    if "\x00" in key:
        return "A key must not contain the NUL character."
    return None


def check_key(key: str) -> None:
    why = key_problem(key)
    if why:
        raise ApiError("KeyTooLongError" if "too long" in why else "InvalidArgument", why, 400, field="Key")


def _announce(event: str, bucket: Bucket, key: str, found: StoredObject | None) -> None:
    """Records the bucket notifications the change calls for, in the change's transaction."""
    from editor.services.notifications import notify

    notify(bucket, event, key, found)


def store_blob(bucket: Bucket, key: str, blob: str, size: int, etag: str, *, content_type: str | None,
               metadata: dict[str, str], headers: dict[str, Any], event: str,
               condition: Callable[[StoredObject | None], None] | None = None) -> StoredObject:
    """Returns the object `key` of `bucket`, now naming the saved `blob` (the blob it named before
    is deleted once this commits); `condition`, given the object the key names now (or None), may
    refuse the write, decided under the row's lock. Called inside no transaction or an outer one."""
    values = {"size": size, "etag": etag, "content_type": content_type or DEFAULT_TYPE, "metadata": metadata,
              "headers": headers, "blob": blob, "last_modified": timezone.now()}
    try:
        for attempt in (1, 2):
            try:
                return _name_blob(bucket, key, values, event, condition)
            except IntegrityError:
                if attempt == 2:   # created by another request at the same moment twice over: give up cleanly
                    raise
    except BaseException:
        forget_blobs([blob])   # outside the rolled-back block, so it is not forgotten with it
        raise
    raise AssertionError("unreachable")


def _name_blob(bucket: Bucket, key: str, values: dict, event: str, condition) -> StoredObject:
    with transaction.atomic():
        if not Bucket.objects.filter(pk=bucket.pk).exists():
            raise ApiError("NoSuchBucket", "The specified bucket does not exist", 404, field="Bucket")
        found = StoredObject.objects.select_for_update().filter(bucket=bucket, key=key).first()
        if condition is not None:
            condition(found)
        if found is None:
            found = StoredObject.objects.create(bucket=bucket, key=key, **values)
        else:
            forget_blobs([found.blob])
            for name, value in values.items():
                setattr(found, name, value)
            found.save()
        _announce(event, bucket, key, found)
        return found


def write_condition(if_match: str | None, if_none_match: str | None):
    """Returns the condition of a conditional write (S3's If-Match: the ETag the key must have now;
    If-None-Match: "*", the key must name nothing yet), or None."""
    if if_match is None and if_none_match is None:
        return None
    if if_none_match is not None and if_none_match.strip() != "*":
        raise ApiError("NotImplemented", "A header you provided implies functionality that is not implemented: "
                                         "If-None-Match takes only *.", 501, field="If-None-Match")

    def condition(found: StoredObject | None) -> None:
        if if_none_match is not None and found is not None:
            raise ApiError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                           412, field="If-None-Match")
        if if_match is not None:
            if found is None:
                raise ApiError("NoSuchKey", "The specified key does not exist.", 404, field="Key")
            if found.etag.strip('"') != if_match.strip().strip('"'):
                raise ApiError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                               412, field="If-Match")
    return condition


def put_object(bucket: Bucket, key: str, pieces: Iterable[bytes], *, content_type: str | None = None,
               metadata: dict[str, str] | None = None, headers: dict[str, Any] | None = None,
               content_md5: str | None = None, if_match: str | None = None,
               if_none_match: str | None = None) -> StoredObject:
    """Returns the object `key` of `bucket` holding the bytes `pieces` yields (replacing any; only
    when the key names nothing yet with `if_none_match="*"`, only an object of that ETag with
    `if_match`)."""
    check_key(key)
    condition = write_condition(if_match, if_none_match)
    blob, size, md5 = save_upload(pieces, content_md5)
    return store_blob(bucket, key, blob, size, f'"{md5}"', content_type=content_type, metadata=metadata or {},
                      headers=headers or {}, event="ObjectCreated:Put", condition=condition)


def save_upload(pieces: Iterable[bytes], content_md5: str | None) -> tuple[str, int, str]:
    """Returns (blob, size, MD5 hex) of the bytes one request uploads (an object or a part), within
    the object and request limits, refused (nothing kept) unless its MD5 is `content_md5` if given."""
    limit = min(settings.FLOWBENCH_OBJECT_MAX_BYTES, settings.FLOWBENCH_OBJECT_MAX_REQUEST_BYTES)
    blob, size, md5 = save_blob(pieces, limit)
    if content_md5 is not None and content_md5 != md5:
        forget_blobs([blob])
        raise ApiError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400,
                       field="Content-MD5")
    return blob, size, md5


def find_object(bucket: Bucket, key: str) -> StoredObject:
    found = StoredObject.objects.filter(bucket=bucket, key=key).first()
    if found is None:
        raise ApiError("NoSuchKey", "The specified key does not exist.", 404, field="Key")
    return found


def copy_object(source: StoredObject, bucket: Bucket, key: str, *, replace: bool, content_type: str | None,
                metadata: dict[str, str] | None, headers: dict[str, Any] | None) -> StoredObject:
    """Returns the object `key` of `bucket`, a copy of `source`'s bytes with its metadata (or the
    given ones when `replace`, S3's MetadataDirective=REPLACE)."""
    check_key(key)
    if source.bucket_id == bucket.pk and source.key == key and not replace:
        raise ApiError("InvalidRequest", "This copy request is illegal because it is trying to copy an object to "
                                         "itself without changing the object's metadata, storage class, website "
                                         "redirect location or encryption attributes.", 400)
    blob, size, md5 = save_blob(read_blob(source.blob), settings.FLOWBENCH_OBJECT_MAX_BYTES)
    if replace:
        kept_type, kept_metadata, kept_headers = content_type, metadata or {}, headers or {}
    else:
        kept_type, kept_metadata, kept_headers = source.content_type, source.metadata, source.headers
    return store_blob(bucket, key, blob, size, f'"{md5}"', content_type=kept_type, metadata=kept_metadata,
                      headers=kept_headers, event="ObjectCreated:Copy")


def delete_object(bucket: Bucket, key: str) -> bool:
    """Deletes the object `key` of `bucket`; returns whether there was one (S3 answers alike)."""
    with transaction.atomic():
        found = StoredObject.objects.select_for_update().filter(bucket=bucket, key=key).first()
        if found is None:
            return False
        forget_blobs([found.blob])
        found.delete()
        _announce("ObjectRemoved:Delete", bucket, key, None)
    return True
