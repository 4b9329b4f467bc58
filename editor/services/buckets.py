"""Buckets of a user and the listing of their objects, as S3 names and refuses them.

    create_bucket(user, "photos", "us-east-1")   -> Bucket (BucketAlreadyOwnedByYou, BucketAlreadyExists)
    owned_bucket(user, "photos")                 -> Bucket (NoSuchBucket, or AccessDenied: another's)
    list_objects(bucket, prefix="a/", delimiter="/", after="", limit=1000) -> Listing

Bucket names are one namespace, as on S3; a bucket of another user is refused as S3 refuses it
(AccessDenied), never shown. Refusals are ApiErrors whose code is S3's.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import Collate

from editor.errors import ApiError
from editor.models import Bucket, StoredObject
from editor.services.object_store import forget_blobs

__all__ = ["bucket_name_problem", "create_bucket", "owned_bucket", "list_buckets", "list_buckets_with_totals",
           "delete_bucket",
           "list_objects", "Listing"]

_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# After a common prefix, the listing goes on past every key starting with it.
_PAST = "\U0010ffff"


def bucket_name_problem(name: str) -> str | None:
    """Returns why `name` is not a bucket name by S3's rules for new buckets, or None."""
    if not 3 <= len(name) <= 63:
        return "Bucket names must be between 3 (min) and 63 (max) characters long."
    if not _NAME.fullmatch(name):
        return ("Bucket names can consist only of lowercase letters, numbers, dots (.) and hyphens (-), and must "
                "begin and end with a letter or number.")
    if ".." in name or ".-" in name or "-." in name:
        return "Bucket names must not contain two adjacent periods, nor a period next to a hyphen."
    try:
        ipaddress.IPv4Address(name)
        return "Bucket names must not be formatted as an IP address (for example, 192.168.5.4)."
    except ValueError:
        pass
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            return f"Bucket names must not start with the prefix {prefix}."
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            return f"Bucket names must not end with the suffix {suffix}."
    return None


def _invalid_name(name: str, why: str) -> ApiError:
    return ApiError("InvalidBucketName", f"The specified bucket is not valid: {name!r}. {why}", 400, field="Bucket")


def create_bucket(user, name: str, region: str) -> Bucket:
    """Returns the new bucket `name` of `user`."""
    why = bucket_name_problem(name)
    if why:
        raise _invalid_name(name, why)
    try:
        with transaction.atomic():
            return Bucket.objects.create(owner=user, name=name, region=region)
    except IntegrityError:
        owner_id = Bucket.objects.filter(name=name).values_list("owner_id", flat=True).first()
        if owner_id == user.pk:
            raise ApiError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded "
                                                      "and you already own it.", 409, field="Bucket") from None
        raise ApiError("BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is "
                                              "shared by all users of the system. Please select a different name "
                                              "and try again.", 409, field="Bucket") from None


def owned_bucket(user, name: str, *, lock: bool = False) -> Bucket:
    """Returns the bucket `name` if `user` owns it; NoSuchBucket when nobody does, AccessDenied
    when someone else does (as S3 answers a bucket of another account)."""
    rows = Bucket.objects.select_for_update() if lock else Bucket.objects
    bucket = rows.filter(name=name).first()
    if bucket is None:
        raise ApiError("NoSuchBucket", "The specified bucket does not exist", 404, field="Bucket")
    if bucket.owner_id != user.pk:
        raise ApiError("AccessDenied", "Access Denied", 403, field="Bucket")
    return bucket


def list_buckets(user) -> list[Bucket]:
    return list(Bucket.objects.filter(owner=user).order_by("name"))


def list_buckets_with_totals(user) -> list[Bucket]:
    """Returns the user's buckets, each with `object_count` and `total_size` (bytes, or None)."""
    return list(Bucket.objects.filter(owner=user).annotate(object_count=Count("stored_objects"),
                                                           total_size=Sum("stored_objects__size")).order_by("name"))


def delete_bucket(user, name: str) -> None:
    """Deletes the empty bucket `name` (its unfinished multipart uploads with it)."""
    from editor.models import UploadedPart

    with transaction.atomic():
        bucket = owned_bucket(user, name, lock=True)
        if bucket.stored_objects.exists():
            raise ApiError("BucketNotEmpty", "The bucket you tried to delete is not empty", 409, field="Bucket")
        forget_blobs(UploadedPart.objects.filter(upload__bucket=bucket).values_list("blob", flat=True))
        bucket.delete()


@dataclass
class Listing:
    """A page of a bucket's listing: objects and common prefixes in key order, whether more
    follow, and the last key or prefix of the page (where the next page starts after)."""

    objects: list[StoredObject] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str = ""


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return key[:at + len(delimiter)] if at >= 0 else None


def _in_key_order(rows):
    """Returns (rows, the field to compare and order keys by): S3 lists keys in the order of their
    UTF-8 bytes, which SQLite's text comparison is; PostgreSQL compares them in that order under the
    "C" collation, not in its database's (language-aware) one."""
    if connection.vendor == "postgresql":
        return rows.annotate(key_bytes=Collate("key", "C")), "key_bytes"
    return rows, "key"


def list_objects(bucket: Bucket, *, prefix: str = "", delimiter: str = "", after: str = "",
                 limit: int = 1000) -> Listing:
    """Returns the page of the bucket's keys starting with `prefix` and after `after`, at most
    `limit` entries, keys sharing a part up to `delimiter` past the prefix rolled into one
    common prefix (S3's ListObjects)."""
    found = Listing()
    cursor = after
    rolled = _common_prefix(after, prefix, delimiter) if after.startswith(prefix) else None
    if rolled:
        cursor = rolled + _PAST   # that common prefix was on an earlier page
    rows, key = _in_key_order(StoredObject.objects.filter(bucket=bucket))
    if prefix:
        rows = rows.filter(key__startswith=prefix)
    batch = max(limit, 1) + 1
    while True:
        page = list(rows.filter(**{f"{key}__gt": cursor}).order_by(key)[:batch]) if cursor else \
            list(rows.order_by(key)[:batch])
        if not page:
            return found
        for row in page:
            if row.key <= cursor:
                continue
            if len(found.objects) + len(found.prefixes) >= limit:
                found.truncated = True
                return found
            common = _common_prefix(row.key, prefix, delimiter)
            if common is None:
                found.objects.append(row)
                found.last = cursor = row.key
                continue
            if not found.prefixes or found.prefixes[-1] != common:
                found.prefixes.append(common)
            found.last = common
            cursor = common + _PAST
            break   # ask again past the whole common prefix
        else:
            if len(page) < batch:
                return found
