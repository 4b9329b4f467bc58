"""A second live server keeping objects in the database (FLOWBENCH_OBJECT_STORAGE=database, the
distributed mode's store) with small limits: objects go in and come back whole, in ranges and
in parts, nothing lands in the data folder, and what passes the limits is EntityTooLarge."""

from __future__ import annotations

import hashlib
import os
import uuid
from unittest import mock

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws.s3_support import bucket_name, error_of
from tests.live_server import manage, new_person, running_server

MB = 1024 * 1024
LIMITS = {"FLOWBENCH_OBJECT_STORAGE": "database", "FLOWBENCH_OBJECT_MAX_REQUEST_BYTES": str(6 * MB),
          "FLOWBENCH_OBJECT_MAX_BYTES": str(8 * MB)}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    with mock.patch.dict(os.environ, LIMITS), running_server(tmp_path_factory.mktemp("s3-db")) as found:
        person = new_person(found["env"], f"db-{uuid.uuid4().hex[:6]}")
        session = boto3.session.Session(aws_access_key_id=person["key"], aws_secret_access_key=person["secret"],
                                        region_name="us-east-1")
        s3 = session.client("s3", endpoint_url=found["base"], config=Config(retries={"max_attempts": 1}))
        name = bucket_name("db")
        s3.create_bucket(Bucket=name)
        yield found, s3, name


def test_objects_kept_in_the_database_come_back_whole_and_in_ranges(small):
    server, s3, name = small
    body = os.urandom(3 * MB + 12345)   # several of the storage's 1 MB chunks
    s3.put_object(Bucket=name, Key="in/db.bin", Body=body, Metadata={"where": "database"})
    got = s3.get_object(Bucket=name, Key="in/db.bin")
    assert got["Body"].read() == body and got["Metadata"] == {"where": "database"}
    across = s3.get_object(Bucket=name, Key="in/db.bin", Range=f"bytes={MB - 5}-{2 * MB + 5}")
    assert across["Body"].read() == body[MB - 5:2 * MB + 6]
    assert not (server["data"] / "objects").exists()
    chunks = manage(server["env"], code="from editor.models import BlobChunk; print(BlobChunk.objects.count())")
    assert int(chunks.strip().splitlines()[-1]) == 4
    s3.delete_object(Bucket=name, Key="in/db.bin")
    chunks = manage(server["env"], code="from editor.models import BlobChunk; print(BlobChunk.objects.count())")
    assert int(chunks.strip().splitlines()[-1]) == 0   # the bytes go with the object


def test_a_multipart_object_is_put_together_in_the_database(small):
    _server, s3, name = small
    parts = [os.urandom(5 * MB), b"end"]
    uid = s3.create_multipart_upload(Bucket=name, Key="mp.bin")["UploadId"]
    etags = [s3.upload_part(Bucket=name, Key="mp.bin", UploadId=uid, PartNumber=n + 1, Body=p)["ETag"]
             for n, p in enumerate(parts)]
    s3.complete_multipart_upload(Bucket=name, Key="mp.bin", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]})
    assert hashlib.sha256(s3.get_object(Bucket=name, Key="mp.bin")["Body"].read()).digest() == \
        hashlib.sha256(b"".join(parts)).digest()


def test_an_object_over_the_limits_is_entity_too_large_and_nothing_is_kept(small):
    _server, s3, name = small
    with pytest.raises(ClientError) as single:
        s3.put_object(Bucket=name, Key="too/big.bin", Body=b"x" * (6 * MB + 1))
    assert error_of(single) == ("EntityTooLarge", 400)
    uid = s3.create_multipart_upload(Bucket=name, Key="too/big-mp.bin")["UploadId"]
    etags = [s3.upload_part(Bucket=name, Key="too/big-mp.bin", UploadId=uid, PartNumber=n, Body=b"y" * (5 * MB))
             ["ETag"] for n in (1, 2)]
    with pytest.raises(ClientError) as combined:
        s3.complete_multipart_upload(Bucket=name, Key="too/big-mp.bin", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    assert error_of(combined) == ("EntityTooLarge", 400)
    assert s3.list_objects_v2(Bucket=name, Prefix="too/")["KeyCount"] == 0
    assert len(s3.list_parts(Bucket=name, Key="too/big-mp.bin", UploadId=uid)["Parts"]) == 2
