"""The AWS API's live tests: people with access keys on the real server (tests/conftest.py's
`server`), real boto3 clients for them, and signed requests built by hand with botocore's signer
for what boto3 would never send."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from unittest import mock

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.live_server import new_person

TRUST_STATES = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
                '{"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')


@pytest.fixture(scope="session")
def alice(server):
    return new_person(server["env"], f"alice-{uuid.uuid4().hex[:6]}")


@pytest.fixture(scope="session")
def bob(server):
    return new_person(server["env"], f"bob-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def fresh(server):
    """A person of this test's own (with the samples and a key), for listings nobody else adds to."""
    return new_person(server["env"], f"p-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session")
def aws(server):
    """Returns a boto3 client factory: aws(person, "iam", validate=True) signs with the person's key."""
    def make(person, service, *, validate=True, secret=None, key=None):
        session = boto3.session.Session(aws_access_key_id=key or person["key"],
                                        aws_secret_access_key=secret or person["secret"], region_name="us-east-1")
        return session.client(service, endpoint_url=server["base"], config=Config(
            retries={"max_attempts": 1}, parameter_validation=validate))
    return make


def signed(person, method, url, *, service, body=b"", headers=None, when: datetime | None = None,
           secret=None) -> httpx.Response:
    """Sends a request signed by botocore's SigV4 signer for `service` (at `when`, with `secret`)."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    credentials = Credentials(person["key"], secret or person["secret"])
    with mock.patch("botocore.auth.get_current_datetime", return_value=when or datetime.now(timezone.utc)):
        SigV4Auth(credentials, service, "us-east-1").add_auth(request)
    return httpx.request(method, url, content=body, headers=dict(request.headers.items()))


@pytest.fixture
def s3_bucket(aws, alice):
    """Returns (alice's boto3 S3 client, the name of a new bucket of hers)."""
    from tests.aws.s3_support import bucket_name

    s3 = aws(alice, "s3")
    name = bucket_name()
    s3.create_bucket(Bucket=name)
    return s3, name
