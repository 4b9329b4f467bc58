"""The way to Flowbench's API from a sandbox whose network is off: a unix socket of the host,
bound into the sandbox, whose every connection is relayed to the API's address and nowhere else.

    bridge = ApiBridge(os.path.join(work_dir, "api.sock"), "http://127.0.0.1:8000")
    bridge.start()      # relays until close()

Inside the sandbox the worker listens on 127.0.0.1:BRIDGE_PORT of its own network namespace and
relays each connection to the socket (bootstrap/api_relay.py in the Python and custom-runtime
workers, node_worker.cjs, ruby_worker.rb), so the SDK's AWS_ENDPOINT_URL is an ordinary http://
address; nothing else outside is reachable, as the network switch says.
"""

from __future__ import annotations

import os
import socket
import threading
from urllib.parse import urlsplit

from .bootstrap.api_relay import pump as _pump

__all__ = ["ApiBridge", "BRIDGE_PORT", "SOCKET_MOUNT", "RELAY_FAMILIES"]

BRIDGE_PORT = 9009                              # the worker's relay, on the sandbox's own loopback
SOCKET_MOUNT = "/var/run/flowbench-api.sock"    # where a bubblewrap sandbox sees the socket
RELAY_FAMILIES = ("python", "nodejs", "ruby", "provided")   # the runtimes whose workers run the relay


class ApiBridge:
    """Relays connections made to the unix socket at `path` to the host and port of `api_url`."""

    def __init__(self, path: str, api_url: str):
        parts = urlsplit(api_url)
        self.path = path
        self.address = (parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80))
        self._server: socket.socket | None = None

    def start(self) -> None:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(self.path)
        os.chmod(self.path, 0o666)   # workers run under uids of their own
        server.listen(64)
        self._server = server
        threading.Thread(target=self._serve, name="flowbench-api-bridge", daemon=True).start()

    def _serve(self) -> None:
        server = self._server
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return   # closed
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.address, timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        back.start()
        _pump(client, upstream)
        back.join()
        client.close()
        upstream.close()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
