"""The studio's ASGI handler (flowbench.asgi.StudioHandler): Django's middleware chain runs as one
synchronous call on the request's thread, and answers as Django's own handler does: the studio's
pages and API, the sign-in wall, the AWS APIs' door."""

import json

import pytest
from asgiref.sync import iscoroutinefunction

from flowbench.asgi import django_asgi
from tests.web.asgi_calls import asgi_call

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def call(method: str, path: str, headers: list | None = None, body: bytes = b"") -> tuple[int, dict, bytes]:
    return await asgi_call(django_asgi, method, path, headers=headers, body=body)


async def test_the_middleware_chain_is_one_synchronous_call():
    assert not iscoroutinefunction(django_asgi._middleware_chain)


async def test_the_api_answers_401_json_to_a_request_without_a_session():
    status, headers, body = await call("GET", "/api/state-machines")
    assert status == 401
    assert json.loads(body)["error"]["code"] == "NotSignedIn"


async def test_a_page_redirects_to_the_sign_in_page_with_its_security_headers():
    status, headers, _ = await call("GET", "/")
    assert status == 302
    assert headers["location"].startswith("/login")
    assert "content-security-policy" in headers
    status, headers, body = await call("GET", headers["location"].split("?")[0])
    assert status == 200
    assert b"<form" in body


async def test_an_unsigned_aws_request_is_answered_by_the_aws_door():
    status, _, body = await call("POST", "/", [(b"x-amz-target", b"AWSStepFunctions.ListStateMachines"),
                                               (b"content-type", b"application/x-amz-json-1.0")], b"{}")
    assert status == 403
    assert json.loads(body) == {"__type": "MissingAuthenticationTokenException",
                                "message": "Missing Authentication Token"}
