"""Buckets in the distributed mode: PostgreSQL holds the rows and, with FLOWBENCH_OBJECT_STORAGE
=database, the bytes, so any web process serves any object; keys list in S3's byte order (not the
database's language-aware collation, when it has one); a notification's invocation runs on a Celery worker."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from botocore.config import Config

from tests.aws.lambda_kit import TRUST_LAMBDA, echo_zip, unique
from tests.aws.s3_support import allow_s3
from tests.integration.cluster import PG_HOST, PG_PORT, PG_USER, Cluster, wait_until
from tests.integration.conftest import require_services


@pytest.fixture(scope="module")
def s3_cluster():
    require_services()
    started = Cluster(workers=1, lease_seconds=8, threads=4, env={"FLOWBENCH_OBJECT_STORAGE": "database"}).start()
    try:
        lines = dict(line.split("=", 1) for line in started.manage("create_access_key", "admin").split())
        session = boto3.session.Session(aws_access_key_id=lines["AWS_ACCESS_KEY_ID"],
                                        aws_secret_access_key=lines["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
        config = Config(retries={"max_attempts": 1}, read_timeout=120)
        yield started, {name: session.client(name, endpoint_url=started.base_url, config=config)
                        for name in ("s3", "lambda", "iam")}
    finally:
        started.stop()


def _language_aware_keys(cluster) -> None:
    """Gives the key column a language-aware collation (en-US, ICU), as a database created with an
    en_US locale has by default; this machine's server defaults to C.UTF-8, which is byte order."""
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=cluster.database, autocommit=True) as db:
        db.execute('ALTER TABLE editor_storedobject ALTER COLUMN "key" TYPE varchar(1024) COLLATE "en-US-x-icu"')


def test_objects_live_in_postgresql_and_list_in_byte_order(s3_cluster):
    cluster, clients = s3_cluster
    _language_aware_keys(cluster)
    s3 = clients["s3"]
    name = unique("it-bucket")
    s3.create_bucket(Bucket=name)
    keys = ["a", "B", "_under", "é", "z", "A/b", "ä", "a b", "a-b", "a.b", "Z"]
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode("utf-8"))
    paged = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=name, Delimiter="/", PaginationConfig={"PageSize": 3}) for o in page.get("Contents", [])]
    assert paged == [k for k in listed if "/" not in k]
    body = os.urandom(3 * 1024 * 1024 + 7)
    s3.put_object(Bucket=name, Key="big.bin", Body=body)
    assert s3.get_object(Bucket=name, Key="big.bin", Range="bytes=1048570-1048580")["Body"].read() == \
        body[1048570:1048581]
    assert not (cluster.data_dir / "objects").exists()


def test_a_notification_is_delivered_once_by_a_worker(s3_cluster):
    cluster, clients = s3_cluster
    s3, lam, iam = clients["s3"], clients["lambda"], clients["iam"]
    role = iam.create_role(RoleName=unique("it-role"), AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]["Arn"]
    function = lam.create_function(FunctionName=unique("it-notified"), Runtime="python3.11", Handler="app.handler",
                                   Role=role, Code={"ZipFile": echo_zip()})
    name = unique("it-notify")
    s3.create_bucket(Bucket=name)
    allow_s3(lam, function["FunctionArn"], name)
    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"LambdaFunctionConfigurations": [
        {"Id": "all", "LambdaFunctionArn": function["FunctionArn"], "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket=name, Key="in/event.json", Body=b"{}")
    admin = cluster.client()

    def finished():
        found = admin.ok("GET", f"/api/functions/{function['FunctionName']}/invocations")["invocations"]
        return found if found and all(i["status"] != "running" for i in found) else None

    invocations = wait_until(finished, 90, "the notification's invocation on the worker")
    assert [(i["source"], i["status"]) for i in invocations] == [("bucket", "succeeded")]
    detail = admin.ok("GET", f"/api/functions/{function['FunctionName']}/invocations/{invocations[0]['id']}")
    record = detail["request"]["Records"][0]
    assert (record["eventName"], record["s3"]["object"]["key"]) == ("ObjectCreated:Put", "in/event.json")
    assert json.loads(json.dumps(detail["response"]))["echo"] == detail["request"]
