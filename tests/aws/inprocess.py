"""Real boto3 clients whose requests go to Django's test client instead of a socket: every byte
botocore prepares (serialized, signed) reaches the AWS middleware as it would over HTTP, and
botocore parses the answer, while the test keeps its database transaction and its ORM."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import boto3
from asgiref.sync import async_to_sync
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from django.test import Client

ENDPOINT = "http://testserver"


class _Raw(io.BytesIO):
    """What botocore reads a response body from."""

    def stream(self, **_kwargs):
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


async def _joined(pieces) -> bytes:
    return b"".join([piece async for piece in pieces])


def _body(response) -> bytes:
    """Returns the whole body of a response, streamed (from an async iterator: GetObject) or not."""
    if not response.streaming:
        return response.content
    if response.is_async:
        return async_to_sync(_joined)(response.streaming_content)
    return b"".join(response.streaming_content)


def send_to(django_client: Client):
    """Returns a botocore `before-send` handler answering each request through `django_client`."""
    def send(request, **_kwargs):
        parts = urlsplit(request.url)
        headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        headers.setdefault("Host", parts.netloc)   # what urllib3 would send (botocore signs it)
        content_type = headers.pop("Content-Type", "")
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = django_client.generic(request.method, path, body, content_type=content_type, headers=headers)
        content = _body(response)
        return AWSResponse(request.url, response.status_code, dict(response.items()), _Raw(content))
    return send


def aws_client(service: str, key_id: str, secret: str, django_client: Client | None = None, *, validate=True):
    """Returns a boto3 client for `service` signing with the key, answered in process
    (`validate=False` lets boto3 send what its own checks would stop)."""
    client = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                                   region_name="us-east-1").client(
        service, endpoint_url=ENDPOINT, config=Config(retries={"max_attempts": 1}, parameter_validation=validate))
    client.meta.events.register("before-send", send_to(django_client or Client()))
    return client
