"""A package server of the tests' own: one small pure-Python wheel served over HTTP on 127.0.0.1,
held back until the test opens its gate, so that a Deploy's pip install lasts exactly as long as a
test needs (to Deploy again meanwhile, to kill the installer's process mid-install).

    with WheelServer() as wheels:
        files["requirements.txt"] = wheels.requirements()    # unique: never in the package cache
        ... Deploy ...
        wheels.wait_for_download()    # pip is fetching it now
        wheels.open()                 # pip gets it and finishes
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIST, VERSION = "flowbench_probe", "1.0"
WHEEL = f"{DIST}-{VERSION}-py3-none-any.whl"


def build_wheel(value: str = "probe") -> bytes:
    """Returns a wheel of the package `flowbench_probe` whose VALUE is `value`."""
    info = f"{DIST}-{VERSION}.dist-info"
    members = {
        f"{DIST}/__init__.py": f"VALUE = {value!r}\n".encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: flowbench-probe\nVersion: {VERSION}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: flowbench-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    members[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class WheelServer:
    """Serves WHEEL at http://127.0.0.1:<port>/WHEEL once the gate is open (`hold=False`: at once)."""

    def __init__(self, hold: bool = True, value: str = "probe", gate_timeout: float = 300):
        self.wheel = build_wheel(value)
        self.gate = threading.Event()
        if not hold:
            self.gate.set()
        self.downloads = 0
        self.arrived = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != f"/{WHEEL}":
                    self.send_error(404)
                    return
                with server.arrived:
                    server.downloads += 1
                    server.arrived.notify_all()
                if not server.gate.wait(gate_timeout):
                    self.send_error(503)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(server.wheel)))
                self.end_headers()
                try:
                    self.wfile.write(server.wheel)
                except OSError:   # the installer that asked was killed meanwhile
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def requirements(self) -> str:
        """Returns a requirements.txt naming the wheel, unique to this call (never cached yet)."""
        return f"flowbench-probe @ http://127.0.0.1:{self.port}/{WHEEL}\n# {uuid.uuid4().hex}\n"

    def wait_for_download(self, count: int = 1, timeout: float = 120) -> None:
        """Waits until pip asked for the wheel `count` times (it is installing now)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: self.downloads >= count, timeout):
                raise AssertionError(f"pip did not ask for the wheel {count} time(s) within {timeout} s "
                                     f"(it asked {self.downloads})")

    def open(self) -> None:
        self.gate.set()

    def __enter__(self) -> "WheelServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()
