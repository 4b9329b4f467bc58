"""A server killed (SIGKILL) in the middle of writing an object: after a restart the key still
names the object it named before, nothing half written is listed or served, and `manage.py
sweep_blobs` removes the piece the killed write left."""

from __future__ import annotations

import json
import os
import threading
import uuid
from unittest import mock

import boto3
from botocore.config import Config

from tests.integration.cluster import wait_until
from tests.live_server import manage, new_person, running_server

STORE = {"FLOWBENCH_OBJECT_STORAGE": "tests.aws.stalling_storage.StallingStorage"}


def client(server, person):
    session = boto3.session.Session(aws_access_key_id=person["key"], aws_secret_access_key=person["secret"],
                                    region_name="us-east-1")
    return session.client("s3", endpoint_url=server["base"], config=Config(retries={"max_attempts": 0},
                                                                            read_timeout=120))


def test_a_write_killed_half_way_leaves_the_old_object_and_only_an_unnamed_piece(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    objects = data / "objects"
    env = {**STORE, "FLOWBENCH_OBJECT_STORAGE_OPTIONS": json.dumps({"location": str(objects)})}
    with mock.patch.dict(os.environ, env), running_server(data) as server:
        person = new_person(server["env"], f"k-{uuid.uuid4().hex[:6]}")
        s3 = client(server, person)
        s3.create_bucket(Bucket="killed-mid-write")
        s3.put_object(Bucket="killed-mid-write", Key="report.txt", Body=b"the old report")
        failures = []

        def upload():
            try:
                s3.put_object(Bucket="killed-mid-write", Key="report.txt", Body=b"STALL" + b"x" * 3_000_000)
            except Exception as exc:   # the server dies under it
                failures.append(exc)

        writer = threading.Thread(target=upload)
        writer.start()
        wait_until(lambda: (objects / "stalled").exists(), 60, "the server to stall mid-write")
        server["process"].kill()
        server["process"].wait(timeout=30)
        writer.join(timeout=60)
        assert failures, "the upload should have failed with its server"
    blobs = [p for p in (objects / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 2   # the old object's, and the half-written piece

    with mock.patch.dict(os.environ, env), running_server(data) as server:
        s3 = client(server, person)
        assert s3.get_object(Bucket="killed-mid-write", Key="report.txt")["Body"].read() == b"the old report"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="killed-mid-write")["Contents"]] == ["report.txt"]
        assert "1 unnamed blob deleted" in manage(server["env"], "sweep_blobs", "--hours", "0")
        assert len([p for p in (objects / "blobs").rglob("*") if p.is_file()]) == 1
        assert s3.get_object(Bucket="killed-mid-write", Key="report.txt")["Body"].read() == b"the old report"
