"""/static/ served by the ASGI application (local mode): files, and 404 for what is not one."""

import pytest
from asgiref.testing import ApplicationCommunicator

from flowbench.asgi import http_app

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]


async def get(path: str, raw_path: bytes) -> tuple[int, bytes]:
    """Returns the status and body the ASGI HTTP application answers to GET `path`."""
    communicator = ApplicationCommunicator(http_app, {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": raw_path, "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000")], "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)})
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout=10)
    body = b""
    while True:
        message = await communicator.receive_output(timeout=10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    return start["status"], body


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
