"""Flowbench's custom-runtime worker: serves the Lambda Runtime API to the function's `bootstrap`.

    runtime_api.py REQUEST_FD RESPONSE_FD

Runs inside the sandbox under the system Python (standard library only), as the worker of the
`provided.al2023` / `provided.al2` runtimes. Towards the host it speaks the same framed pipe
protocol as python_worker.py (read its docstring); towards the function it is the Runtime API
that AWS serves at AWS_LAMBDA_RUNTIME_API, on a loopback port of the sandbox (reachable with the
network switched off: the sandbox's own network namespace keeps its loopback):

    GET  /2018-06-01/runtime/invocation/next              the next event, with the headers
         Lambda-Runtime-Aws-Request-Id, -Deadline-Ms, -Invoked-Function-Arn, -Trace-Id and
         (when the caller gave one) -Client-Context
    POST /2018-06-01/runtime/invocation/{id}/response     the handler's result
    POST /2018-06-01/runtime/invocation/{id}/error        its error (Lambda-Runtime-Function-Error-Type)
    POST /2018-06-01/runtime/init/error                   the runtime could not start

With the network on, the sandbox shares the host's loopback, where other functions could reach the
port: the server answers only connections from sockets of its own user id (each worker has one
of its own when Flowbench runs as root), read from /proc/net/tcp, and drops the others.

The worker is ready when the bootstrap first asks for an event. When the bootstrap exits, the
worker exits the same way, so the host reports Runtime.ExitError with its status, as AWS does. A
bootstrap that is missing is Runtime.InvalidEntrypoint; one that cannot be executed,
Runtime.ExitError naming why.
"""

import json
import os
import queue
import signal
import struct
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REQUESTS, RESPONSES = int(sys.argv[1]), int(sys.argv[2])
MAX_RESPONSE = 6291556
PREFIX = "/2018-06-01/runtime/"
BOOTSTRAPS = ("/var/task/bootstrap", "/opt/bootstrap")

send_lock = threading.Lock()
started = threading.Event()      # the init phase is over (first event asked for, or init/error)
first = queue.Queue()            # how it ended: None (ready) or the init error object
events = queue.Queue()           # requests from the host, each waiting for an /invocation/next
outcomes = queue.Queue()         # the current invocation's (kind, body)
current = {"id": None}           # the request id the bootstrap is working on


def send(kind, body):
    data = kind + struct.pack(">I", len(body)) + body
    with send_lock:
        view = memoryview(data)
        while view:
            view = view[os.write(RESPONSES, view):]


def error_body(body, header_type):
    """Returns the error object a bootstrap posted: its JSON when it sent Lambda's shape, else
    one made of the error-type header and the body's text."""
    try:
        error = json.loads(body) if body else {}
    except ValueError:
        error = {"errorMessage": body.decode("utf-8", "replace")}
    if not isinstance(error, dict):
        error = {"errorMessage": json.dumps(error)}
    error.setdefault("errorType", header_type or "Unhandled")
    error.setdefault("errorMessage", "")
    return error


def trace_id(request_id):
    root = request_id.replace("-", "")
    return f"Root=1-{root[:8]}-{root[8:32]};Parent={os.urandom(8).hex()};Sampled=0"


class RuntimeApi(BaseHTTPRequestHandler):
    """One connection of the bootstrap to the Runtime API."""

    protocol_version = "HTTP/1.1"
    server_version = "Flowbench-Runtime-API"
    sys_version = ""

    def log_message(self, *args):   # the function's log is its own output only
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def refuse(self, status, error_type, message):
        self.reply(status, json.dumps({"errorMessage": message, "errorType": error_type}).encode())

    def body(self):
        size = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(size) if size > 0 else b""

    def do_GET(self):
        if self.path != PREFIX + "invocation/next":
            return self.refuse(404, "InvalidRequest", f"No such Runtime API path: {self.path}")
        if not started.is_set():
            started.set()
            first.put(None)
        request = events.get()
        current["id"] = request["id"]
        headers = [("Lambda-Runtime-Aws-Request-Id", request["id"]),
                   ("Lambda-Runtime-Deadline-Ms", str(request["deadline"])),
                   ("Lambda-Runtime-Invoked-Function-Arn", request["arn"]),
                   ("Lambda-Runtime-Trace-Id", trace_id(request["id"]))]
        if request.get("client_context") is not None:
            headers.append(("Lambda-Runtime-Client-Context", json.dumps(request["client_context"])))
        self.reply(200, json.dumps(request["event"]).encode(), headers)

    def do_POST(self):
        body = self.body()
        if self.path == PREFIX + "init/error":
            error = error_body(body, self.headers.get("Lambda-Runtime-Function-Error-Type"))
            self.reply(202, b'{"status":"OK"}')
            if not started.is_set():
                started.set()
                first.put(error)
            return
        parts = self.path[len(PREFIX):].split("/") if self.path.startswith(PREFIX) else []
        if len(parts) != 3 or parts[0] != "invocation" or parts[2] not in ("response", "error"):
            return self.refuse(404, "InvalidRequest", f"No such Runtime API path: {self.path}")
        if parts[1] != current["id"]:
            return self.refuse(400, "InvalidRequestID",
                               f"Request ID {parts[1]} is not the invocation in progress")
        current["id"] = None
        if parts[2] == "error":
            error = error_body(body, self.headers.get("Lambda-Runtime-Function-Error-Type"))
            self.reply(202, b'{"status":"OK"}')
            outcomes.put((b"E", json.dumps(error).encode()))
        elif len(body) > MAX_RESPONSE:
            self.refuse(413, "RequestEntityTooLarge", "Response payload too large")
            outcomes.put((b"E", json.dumps({
                "errorMessage": f"Response payload size ({len(body)} bytes) exceeded maximum "
                                f"allowed payload size ({MAX_RESPONSE} bytes).",
                "errorType": "Function.ResponseSizeTooLarge", "stackTrace": []}).encode()))
        else:
            self.reply(202, b'{"status":"OK"}')
            outcomes.put((b"B", body))


def peer_uid(client_address, server_address):
    """Returns the user id owning the connecting socket (as /proc/net/tcp shows it), or None."""
    def hexed(address):
        host, port = address
        return "%08X:%04X" % (int.from_bytes(bytes(map(int, host.split("."))), "little"), port)

    local, remote = hexed(client_address), hexed(server_address)
    try:
        with open("/proc/net/tcp") as table:
            for line in table:
                fields = line.split()
                if len(fields) > 7 and fields[1] == local and fields[2] == remote:
                    return int(fields[7])
    except OSError:
        pass
    return None


class OwnServer(ThreadingHTTPServer):
    """The Runtime API's server: answers the sockets of this worker's user id only."""

    daemon_threads = True

    def verify_request(self, request, client_address):
        return peer_uid(client_address, self.server_address) == os.getuid()


def find_bootstrap():
    """Returns the bootstrap's path: the code's own, else a layer's under /opt, which only the
    bubblewrap sandbox mounts (the plain backend's /opt is the host's, never looked at)."""
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    candidates = [os.path.join(task_root, "bootstrap")]
    if task_root == "/var/task":
        candidates.append("/opt/bootstrap")
    return next((path for path in candidates if os.path.lexists(path)), None)


def start_bootstrap(address):
    """Starts the bootstrap, or tells the host why it cannot (and exits)."""
    path = find_bootstrap()
    if path is None:
        send(b"F", json.dumps({"errorType": "Runtime.InvalidEntrypoint", "errorMessage":
                               f"Couldn't find valid bootstrap(s): [{' '.join(BOOTSTRAPS)}]"}).encode())
        os._exit(0)
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=address)
    try:
        return subprocess.Popen([path], cwd=os.path.dirname(path), env=env, close_fds=True)
    except OSError as exc:
        shown = path.replace(os.environ.get("LAMBDA_TASK_ROOT", "/var/task"), "/var/task", 1)
        send(b"F", json.dumps({"errorType": "Runtime.ExitError", "errorMessage":
                               f"Runtime exited with error: fork/exec {shown}: "
                               f"{(exc.strerror or str(exc)).lower()}"}).encode())
        os._exit(0)


def exit_with(process):
    """Waits for the bootstrap and ends this worker the same way (exit status or signal)."""
    status = process.wait()
    sys.stdout.flush()
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    os._exit(status)


def relay_api():
    """With the network off, serves the way to Flowbench's API on the sandbox's loopback
    (api_relay.py, loaded from this worker's own folder); the bootstrap's AWS_ENDPOINT_URL names
    it. The relay's own variables are not passed on to the bootstrap."""
    import importlib.util

    path, port = os.environ.pop("FLOWBENCH_API_SOCKET", None), os.environ.pop("FLOWBENCH_API_PORT", None)
    if not path:
        return
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("flowbench_api_relay", os.path.join(here, "api_relay.py"))
    relay = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(relay)
    relay.relay_api(path, int(port))


def main():
    os.set_inheritable(REQUESTS, False)
    os.set_inheritable(RESPONSES, False)
    relay_api()
    server = OwnServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    process = start_bootstrap(f"127.0.0.1:{server.server_address[1]}")
    threading.Thread(target=exit_with, args=(process,), daemon=True).start()
    error = first.get()
    if error is not None:
        send(b"F", json.dumps(error).encode())
        os._exit(0)
    send(b"I", b"")
    requests = os.fdopen(REQUESTS, "rb", buffering=65536)
    while True:
        head = requests.read(4)
        if len(head) != 4:
            os._exit(0)   # the host closed the request pipe: stop quietly
        (size,) = struct.unpack(">I", head)
        events.put(json.loads(requests.read(size)))
        send(*outcomes.get())


if __name__ == "__main__":
    main()
