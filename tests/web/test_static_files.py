"""/static/ served by the ASGI application (local mode): files, and 404 for what is not one."""

import pytest

from flowbench.asgi import http_app
from tests.web.asgi_calls import asgi_call

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]


async def get(path: str, raw_path: bytes) -> tuple[int, bytes]:
    """Returns the status and body the ASGI HTTP application answers to GET `path`."""
    status, _, body = await asgi_call(http_app, "GET", path, raw_path=raw_path)
    return status, body


async def test_a_static_file_is_served():
    status, body = await get("/static/js/api.js", b"/static/js/api.js")
    assert status == 200
    assert b"export async function api" in body


@pytest.mark.parametrize("path, raw_path", [
    ("/static/../x", b"/static/%2e%2e/x"),
    ("/static/../flowbench/settings.py", b"/static/%2e%2e/flowbench/settings.py"),
    ("/static/js/../../manage.py", b"/static/js/%2e%2e/%2e%2e/manage.py"),
    ("/static//etc/passwd", b"/static//etc/passwd"),
    ("/static/no-such-file.js", b"/static/no-such-file.js"),
])
async def test_a_path_outside_the_static_folders_is_not_found(path, raw_path):
    status, body = await get(path, raw_path)
    assert status == 404
    assert b"SECRET_KEY" not in body and b"root:" not in body
