"""S3's objects through boto3 against the live server: bytes, metadata and content type kept as
sent, ETags as S3 computes them, ranges, conditional reads, copies, deletes, and keys that look
like paths never reaching outside the store."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.aws.s3_support import bucket_name, error_of


def test_an_object_keeps_its_bytes_type_metadata_and_headers(s3_bucket):
    s3, name = s3_bucket
    body = os.urandom(70_000)
    put = s3.put_object(Bucket=name, Key="photos/cat.jpg", Body=body, ContentType="image/jpeg",
                        Metadata={"camera": "Pentax", "taken-by": "Ann"}, CacheControl="max-age=60",
                        ContentDisposition='attachment; filename="cat.jpg"')
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=name, Key="photos/cat.jpg")
    assert got["Body"].read() == body
    assert got["ContentType"] == "image/jpeg" and got["ContentLength"] == len(body)
    assert got["Metadata"] == {"camera": "Pentax", "taken-by": "Ann"}
    assert got["CacheControl"] == "max-age=60" and got["ContentDisposition"] == 'attachment; filename="cat.jpg"'
    assert got["ETag"] == put["ETag"]
    head = s3.head_object(Bucket=name, Key="photos/cat.jpg")
    assert head["ContentLength"] == len(body) and head["Metadata"]["camera"] == "Pentax"
    assert abs(head["LastModified"] - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert s3.put_object(Bucket=name, Key="empty", Body=b"")["ETag"] == f'"{hashlib.md5(b"").hexdigest()}"'
    assert s3.get_object(Bucket=name, Key="empty")["Body"].read() == b""
    assert s3.head_object(Bucket=name, Key="empty")["ContentType"] == "binary/octet-stream"


def test_putting_a_key_again_replaces_the_object(s3_bucket):
    s3, name = s3_bucket
    s3.put_object(Bucket=name, Key="k", Body=b"first", Metadata={"v": "1"})
    s3.put_object(Bucket=name, Key="k", Body=b"second")
    got = s3.get_object(Bucket=name, Key="k")
    assert got["Body"].read() == b"second" and got["Metadata"] == {}
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["k"]


def test_ranges_are_served_as_s3_serves_them(s3_bucket):
    s3, name = s3_bucket
    body = bytes(range(256)) * 4
    s3.put_object(Bucket=name, Key="r", Body=body)
    cases = {"bytes=0-9": body[:10], "bytes=1000-": body[1000:], "bytes=-24": body[-24:],
             "bytes=1020-5000": body[1020:]}
    for header, expected in cases.items():
        got = s3.get_object(Bucket=name, Key="r", Range=header)
        assert got["Body"].read() == expected, header
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"].endswith(f"/{len(body)}") and got["ContentLength"] == len(expected)
    whole = s3.get_object(Bucket=name, Key="r", Range="bytes=9-3")   # S3 ignores a range it cannot read
    assert whole["Body"].read() == body and whole["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as beyond:
        s3.get_object(Bucket=name, Key="r", Range=f"bytes={len(body)}-")
    assert error_of(beyond) == ("InvalidRange", 416)


def test_conditional_reads_answer_not_modified_and_precondition_failed(s3_bucket):
    s3, name = s3_bucket
    etag = s3.put_object(Bucket=name, Key="c", Body=b"cached")["ETag"]
    with pytest.raises(ClientError) as same:
        s3.get_object(Bucket=name, Key="c", IfNoneMatch=etag)
    assert same.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert s3.get_object(Bucket=name, Key="c", IfNoneMatch='"other"')["Body"].read() == b"cached"
    assert s3.get_object(Bucket=name, Key="c", IfMatch=etag)["Body"].read() == b"cached"
    with pytest.raises(ClientError) as changed:
        s3.get_object(Bucket=name, Key="c", IfMatch='"0000"')
    assert error_of(changed) == ("PreconditionFailed", 412)
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    with pytest.raises(ClientError) as unchanged:
        s3.get_object(Bucket=name, Key="c", IfModifiedSince=later)
    assert unchanged.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304


def test_a_copy_has_its_own_bytes_and_keeps_or_replaces_metadata(s3_bucket, aws, alice):
    s3, name = s3_bucket
    s3.put_object(Bucket=name, Key="src/a b.txt", Body=b"original", ContentType="text/plain", Metadata={"m": "1"})
    other = bucket_name("dst")
    s3.create_bucket(Bucket=other)
    copied = s3.copy_object(Bucket=other, Key="copy.txt", CopySource={"Bucket": name, "Key": "src/a b.txt"})
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"original").hexdigest()}"'
    got = s3.get_object(Bucket=other, Key="copy.txt")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (b"original", "text/plain", {"m": "1"})
    s3.copy_object(Bucket=name, Key="src/a b.txt", CopySource=f"{name}/src/a b.txt", MetadataDirective="REPLACE",
                   ContentType="text/markdown", Metadata={"m": "2"})
    replaced = s3.head_object(Bucket=name, Key="src/a b.txt")
    assert (replaced["ContentType"], replaced["Metadata"]) == ("text/markdown", {"m": "2"})
    s3.delete_object(Bucket=name, Key="src/a b.txt")
    assert s3.get_object(Bucket=other, Key="copy.txt")["Body"].read() == b"original"
    with pytest.raises(ClientError) as itself:
        s3.copy_object(Bucket=other, Key="copy.txt", CopySource=f"{other}/copy.txt")
    assert error_of(itself) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as missing:
        s3.copy_object(Bucket=other, Key="x", CopySource=f"{name}/nothing-here")
    assert error_of(missing) == ("NoSuchKey", 404)


def test_deletes_one_at_a_time_and_many_at_once(s3_bucket):
    s3, name = s3_bucket
    for key in ("a", "b", "c", "d"):
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    assert s3.delete_object(Bucket=name, Key="a")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=name, Key="never-was")["ResponseMetadata"]["HTTPStatusCode"] == 204
    answer = s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "b"}, {"Key": "c"}, {"Key": "zzz"}]})
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["b", "c", "zzz"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["d"]
    quiet = s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "d"}], "Quiet": True})
    assert "Deleted" not in quiet and s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=name, Key="a")
    assert error_of(missing) == ("NoSuchKey", 404)


def test_keys_that_look_like_paths_are_names_and_never_reach_outside_the_store(s3_bucket, server):
    s3, name = s3_bucket
    keys = ["../../../../etc/passwd", "/leading/slash", "a//b", "./dot", "..", "%2e%2e/encoded", "back\\slash",
            "sp ace/ü?#&=+.txt"]
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=f"value of {key}".encode())
    for key in keys:
        assert s3.get_object(Bucket=name, Key=key)["Body"].read() == f"value of {key}".encode(), key
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]]
    assert sorted(listed) == sorted(keys)
    store = server["data"] / "objects"
    # the bytes are kept under names the store makes, never under a key
    blobs = [p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()]
    assert blobs and all(re.fullmatch(r"blobs/[0-9a-f]{2}/[0-9a-f]{32}", b) for b in blobs), blobs
    for base in (server["data"], server["data"].parent, store.parent):
        assert not (base / "etc").exists() and not (base / "leading").exists()


def test_a_wrong_content_md5_or_checksum_is_refused_and_nothing_is_stored(s3_bucket):
    s3, name = s3_bucket
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as bad:
        s3.put_object(Bucket=name, Key="md5", Body=b"payload", ContentMD5=wrong)
    assert error_of(bad) == ("BadDigest", 400)
    with pytest.raises(ClientError) as bad_crc:
        s3.put_object(Bucket=name, Key="crc", Body=b"payload", ChecksumCRC32="AAAAAA==")
    assert error_of(bad_crc) == ("BadDigest", 400)
    assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
    right = base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    assert s3.put_object(Bucket=name, Key="md5", Body=b"payload", ContentMD5=right)["ETag"]


def test_a_key_over_1024_bytes_is_refused(s3_bucket):
    s3, name = s3_bucket
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=name, Key="é" * 513, Body=b"x")
    assert error_of(refused) == ("KeyTooLongError", 400)


def test_conditional_writes_put_only_when_the_key_is_as_expected(s3_bucket):
    s3, name = s3_bucket
    first = s3.put_object(Bucket=name, Key="room.json", Body=b'["a"]', IfNoneMatch="*")["ETag"]
    with pytest.raises(ClientError) as taken:
        s3.put_object(Bucket=name, Key="room.json", Body=b'["b"]', IfNoneMatch="*")
    assert error_of(taken) == ("PreconditionFailed", 412)
    second = s3.put_object(Bucket=name, Key="room.json", Body=b'["a", "b"]', IfMatch=first)["ETag"]
    with pytest.raises(ClientError) as stale:
        s3.put_object(Bucket=name, Key="room.json", Body=b'["a", "c"]', IfMatch=first)
    assert error_of(stale) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=name, Key="room.json")["Body"].read() == b'["a", "b"]'
    assert s3.head_object(Bucket=name, Key="room.json")["ETag"] == second
    with pytest.raises(ClientError) as missing:
        s3.put_object(Bucket=name, Key="nothing-yet.json", Body=b"{}", IfMatch=first)
    assert error_of(missing) == ("NoSuchKey", 404)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["room.json"]
