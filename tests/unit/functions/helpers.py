"""Helpers shared by the function runner's tests: specs from source text, unique names, the
processes a function left."""

import os

from runtime.functions import FunctionSpec


def python_function(source: str, name: str = "py-fn", **config) -> FunctionSpec:
    """Returns a Python FunctionSpec with `source` as handler.py (handler `handler.handler`)."""
    config.setdefault("handler", "handler.handler")
    files = config.pop("files", {})
    return FunctionSpec(name=name, runtime="python", files={"handler.py": source, **files},
                        **config)


def node_function(source: str, name: str = "js-fn", file: str = "index.js",
                  **config) -> FunctionSpec:
    """Returns a Node.js FunctionSpec with `source` as `file` (handler `index.handler`)."""
    config.setdefault("handler", "index.handler")
    files = config.pop("files", {})
    return FunctionSpec(name=name, runtime="nodejs", files={file: source, **files}, **config)


def unique(name: str) -> str:
    """Returns a function name no other test uses, so warm workers are never shared by
    accident."""
    unique.counter += 1
    return f"{name}-{os.getpid()}-{unique.counter}"


unique.counter = 0


def processes_with_marker(marker: str) -> list[int]:
    """Returns the pids whose environment holds `marker` (every process a worker starts
    inherits its environment)."""
    found = []
    needle = marker.encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read()
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in environ and state not in (b"Z", b"X"):
            found.append(int(pid))
    return found


def hostile(source: str, marker: str, language: str = "python", **config):
    """Returns a spec for hostile `source`, its processes tagged with `marker` in their env."""
    config.setdefault("timeout", 1)
    config["env"] = {"FLOWBENCH_TEST_MARKER": marker, **config.get("env", {})}
    make = python_function if language == "python" else node_function
    return make(source, name=unique("hostile"), **config)


class Gate:
    """A TCP gate on 127.0.0.1 that a function can wait at: `GATE_CODE` (Python) connects and
    blocks until the test calls `open()`. It lets a test act while a function is provably still
    running, with no sleeping and no timing."""

    def __init__(self):
        import socket
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = []

    def open(self, count: int = 1) -> None:
        """Accepts `count` waiting functions and lets them go on."""
        for _ in range(count):
            conn, _ = self.server.accept()
            conn.sendall(b"go")
            self.connections.append(conn)

    def close(self) -> None:
        for conn in self.connections:
            conn.close()
        self.server.close()


PY_GATE = ("import socket\n"
           "def wait_at_gate(port):\n"
           "    with socket.create_connection(('127.0.0.1', port)) as conn:\n"
           "        conn.recv(2)\n")
# `bomb()` forks until the process ids run out, and on.
PY_FORK_BOMB = ("import os\n"
                "def bomb():\n"
                "    while True:\n"
                "        try:\n"
                "            os.fork()\n"
                "        except OSError:\n"
                "            pass\n")
JS_GATE = ("const net = require('net');\n"
           "const waitAtGate = (port) => new Promise((resolve) => {\n"
           "  const conn = net.connect(port, '127.0.0.1');\n"
           "  conn.on('data', () => { conn.destroy(); resolve(); });\n"
           "});\n")
# A handler that says "waiting", waits at the gate whose port is its event, then returns an id
# of its worker process (so a test can tell workers apart).
PY_GATED_WORKER = PY_GATE + ("import uuid\n"
                             "WORKER = uuid.uuid4().hex\n"
                             "def handler(event, context):\n"
                             "    print('waiting', flush=True)\n"
                             "    wait_at_gate(event)\n"
                             "    return WORKER\n")
