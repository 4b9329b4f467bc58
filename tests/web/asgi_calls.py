"""One HTTP request to an ASGI application, in-process (asgiref's ApplicationCommunicator)."""

from asgiref.testing import ApplicationCommunicator


async def asgi_call(app, method: str, path: str, *, raw_path: bytes | None = None, headers: list | None = None,
                    body: bytes = b"") -> tuple[int, dict, bytes]:
    """Returns the status, headers (lower-case names) and body `app` answers."""
    communicator = ApplicationCommunicator(app, {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": raw_path or path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *(headers or [])], "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000)})
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(timeout=10)
    content = b""
    while True:
        message = await communicator.receive_output(timeout=10)
        content += message.get("body", b"")
        if not message.get("more_body"):
            break
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, content
