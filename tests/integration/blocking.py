"""A function that blocks until the test lets it answer, for tests that must find a Task running.

    gate = Gate()                          # listens on 127.0.0.1:gate.port
    deploy_blocker(client)                 # the function `it-blocker`: connects to event["port"]
    gate.wait_for(2)                       # two calls are running now
    gate.open()                            # they answer, and every later call at once
"""

from __future__ import annotations

import socket
import threading

BLOCKER = "it-blocker"
BLOCKS = (
    "import socket\n\n"
    "def lambda_handler(event, context):\n"
    "    connection = socket.create_connection(('127.0.0.1', event['port']))\n"
    "    connection.recv(1)\n"
    "    return {'item': event.get('item'), 'answered': True}\n"
)


def deploy_blocker(client) -> None:
    """Creates (or updates) and deploys the blocking function, with network on and time to wait."""
    created = client.post("/api/functions", {"name": BLOCKER, "runtime": "python"})
    assert created.status_code in (201, 409), created.text
    client.ok("PUT", f"/api/functions/{BLOCKER}/code", {"files": {"lambda_function.py": BLOCKS}})
    client.ok("PUT", f"/api/functions/{BLOCKER}/configuration", {"timeout": 60, "network": True})
    client.ok("POST", f"/api/functions/{BLOCKER}/deploy")


class Gate:
    """The other end of the blocking function: accepts each call's connection and holds it until
    opened; once open, it answers every held and later call at once."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.calls = 0
        self.opened = False
        self.condition = threading.Condition()
        threading.Thread(target=self._accept, name="gate", daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with self.condition:
                self.calls += 1
                if self.opened:
                    self._answer(connection)
                else:
                    self.held.append(connection)
                self.condition.notify_all()

    @staticmethod
    def _answer(connection):
        try:
            connection.sendall(b"x")
        except OSError:
            pass   # the caller died with its process
        connection.close()

    def wait_for(self, calls: int, timeout: float = 90) -> None:
        with self.condition:
            if not self.condition.wait_for(lambda: self.calls >= calls, timeout):
                raise AssertionError(f"{self.calls} function calls reached the test, not {calls}")

    def open(self) -> None:
        with self.condition:
            self.opened = True
            for connection in self.held:
                self._answer(connection)
            self.held.clear()

    def close(self) -> None:
        self.listener.close()
        self.open()
