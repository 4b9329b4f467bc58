"""S3's buckets and listings through boto3 against the live server: names as S3 validates them,
one namespace shared by everyone but each bucket its owner's alone, listings with prefixes,
delimiters and pages."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.aws.s3_support import bucket_name, error_of


def test_a_bucket_is_created_listed_headed_and_deleted(aws, alice):
    s3 = aws(alice, "s3")
    name = bucket_name()
    created = s3.create_bucket(Bucket=name)
    assert created["Location"] == f"/{name}"
    listed = s3.list_buckets()
    assert name in [b["Name"] for b in listed["Buckets"]]
    assert listed["Owner"]["ID"] == alice["account"]
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.delete_bucket(Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as gone:
        s3.head_bucket(Bucket=name)
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_creating_a_bucket_twice_or_someone_elses_name_is_refused(aws, alice, bob):
    name = bucket_name()
    aws(alice, "s3").create_bucket(Bucket=name)
    with pytest.raises(ClientError) as again:
        aws(alice, "s3").create_bucket(Bucket=name)
    assert error_of(again) == ("BucketAlreadyOwnedByYou", 409)
    with pytest.raises(ClientError) as taken:
        aws(bob, "s3").create_bucket(Bucket=name)
    assert error_of(taken) == ("BucketAlreadyExists", 409)


@pytest.mark.parametrize("name", ["ab", "a" * 64, "Upper-case", "under_score", "-leading", "trailing-",
                                  "two..dots", "dot-.hyphen", "192.168.5.4", "xn--punycode", "name-s3alias"])
def test_bucket_names_s3_refuses_are_refused_and_nothing_is_made(aws, alice, name):
    s3 = aws(alice, "s3", validate=False)
    with pytest.raises(ClientError) as refused:
        s3.create_bucket(Bucket=name)
    assert error_of(refused) == ("InvalidBucketName", 400)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_a_location_other_than_the_endpoints_region_is_refused(aws, alice):
    with pytest.raises(ClientError) as refused:
        aws(alice, "s3").create_bucket(Bucket=bucket_name(),
                                       CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error_of(refused) == ("IllegalLocationConstraintException", 400)


def test_a_bucket_with_objects_is_not_deleted(aws, alice):
    s3 = aws(alice, "s3")
    name = bucket_name()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as refused:
        s3.delete_bucket(Bucket=name)
    assert error_of(refused) == ("BucketNotEmpty", 409)
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"x"
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)


def test_another_persons_bucket_is_neither_listed_nor_touched(aws, alice, bob):
    name = bucket_name()
    alices = aws(alice, "s3")
    alices.create_bucket(Bucket=name)
    alices.put_object(Bucket=name, Key="secret.txt", Body=b"alice's")
    bobs = aws(bob, "s3")
    assert name not in [b["Name"] for b in bobs.list_buckets()["Buckets"]]
    attempts = [
        lambda: bobs.list_objects_v2(Bucket=name),
        lambda: bobs.get_object(Bucket=name, Key="secret.txt"),
        lambda: bobs.put_object(Bucket=name, Key="planted.txt", Body=b"bob's"),
        lambda: bobs.delete_object(Bucket=name, Key="secret.txt"),
        lambda: bobs.delete_bucket(Bucket=name),
        lambda: bobs.copy_object(Bucket=bucket_name(), Key="stolen", CopySource=f"{name}/secret.txt"),
        lambda: bobs.create_multipart_upload(Bucket=name, Key="planted.bin"),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError) as refused:
            attempt()
        assert error_of(refused)[0] in ("AccessDenied", "NoSuchBucket"), error_of(refused)
    with pytest.raises(ClientError) as head:
        bobs.head_object(Bucket=name, Key="secret.txt")
    assert head.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert [o["Key"] for o in alices.list_objects_v2(Bucket=name)["Contents"]] == ["secret.txt"]
    assert alices.get_object(Bucket=name, Key="secret.txt")["Body"].read() == b"alice's"


def test_a_missing_bucket_is_no_such_bucket(aws, alice):
    with pytest.raises(ClientError) as missing:
        aws(alice, "s3").list_objects_v2(Bucket=bucket_name("missing"))
    assert error_of(missing) == ("NoSuchBucket", 404)


@pytest.fixture(scope="module")
def tree(aws, alice):
    """A bucket of keys in folders, odd characters included."""
    s3 = aws(alice, "s3")
    name = bucket_name("tree")
    s3.create_bucket(Bucket=name)
    keys = ["a.txt", "docs/one.txt", "docs/two.txt", "docs/deep/three.txt", "photos/2024/x.jpg",
            "photos/2025/y.jpg", "photos/readme", "z z+plus&amp%.txt", "ünï/cödé.txt"]
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    return name, sorted(keys, key=lambda k: k.encode())


def test_a_listing_with_a_prefix_and_delimiter_rolls_folders_into_common_prefixes(aws, alice, tree):
    name, keys = tree
    s3 = aws(alice, "s3")
    top = s3.list_objects_v2(Bucket=name, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["a.txt", "z z+plus&amp%.txt"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["docs/", "photos/", "ünï/"]
    assert top["KeyCount"] == 5
    docs = s3.list_objects_v2(Bucket=name, Prefix="docs/", Delimiter="/")
    assert [o["Key"] for o in docs["Contents"]] == ["docs/one.txt", "docs/two.txt"]
    assert [p["Prefix"] for p in docs["CommonPrefixes"]] == ["docs/deep/"]
    everything = s3.list_objects_v2(Bucket=name)
    assert [o["Key"] for o in everything["Contents"]] == keys
    first = everything["Contents"][0]
    assert first["Size"] == len(first["Key"].encode()) and first["ETag"].startswith('"')


def test_a_listing_pages_with_continuation_tokens_and_starts_after_a_key(aws, alice, tree):
    name, keys = tree
    s3 = aws(alice, "s3")
    seen, token = [], None
    while True:
        page = s3.list_objects_v2(Bucket=name, MaxKeys=2, **({"ContinuationToken": token} if token else {}))
        seen += [o["Key"] for o in page.get("Contents", [])]
        assert page["KeyCount"] <= 2
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == keys
    after = s3.list_objects_v2(Bucket=name, StartAfter="docs/two.txt")
    assert [o["Key"] for o in after["Contents"]] == keys[keys.index("docs/two.txt") + 1:]
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=name, Delimiter="/", PaginationConfig={"PageSize": 1})
    rolled = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
    assert rolled == ["docs/", "photos/", "ünï/"]


def test_the_first_listing_version_pages_with_markers(aws, alice, tree):
    name, keys = tree
    s3 = aws(alice, "s3")
    pages = s3.get_paginator("list_objects").paginate(Bucket=name, PaginationConfig={"PageSize": 3})
    assert [o["Key"] for page in pages for o in page.get("Contents", [])] == keys
    with pytest.raises(ClientError) as negative:
        aws(alice, "s3", validate=False).list_objects_v2(Bucket=name, MaxKeys=-1)
    assert error_of(negative) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as bad_token:
        s3.list_objects_v2(Bucket=name, ContinuationToken="%%%not-a-token")
    assert error_of(bad_token) == ("InvalidArgument", 400)
