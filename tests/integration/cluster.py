"""A Flowbench cluster on this machine: PostgreSQL database, Redis, daphne and Celery workers.

    with Cluster(workers=2).start() as cluster:
        admin = cluster.client()               # signed in, sends CSRF on writes
        admin.post("/api/state-machines/x/executions", {"input": {}})
        cluster.kill_worker(0)                 # SIGKILL, as a machine that dies
        cluster.start_worker(0)

Each cluster has its own database (`flowbench_it_<random>` on 127.0.0.1:5432, dropped by stop()),
its own `redis-server` on a free port (so tests may stop and start it), its own data folder with
one log file per process. Used by tests/integration and by bench/load.py.

Nothing here sleeps to wait: daphne gets a socket the cluster has already bound (connections
wait in its backlog until daphne accepts them), processes are waited on, and what can only be
polled (Redis answering, an execution ending) is polled by wait_until with a deadline.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
ADMIN = "admin"   # the administrator `manage.py prepare` creates
# Variables of the caller's environment that would point the cluster at other services.
FOREIGN_ENV = ("DATABASE_URL", "REDIS_URL", "FLOWBENCH_EXECUTOR", "FLOWBENCH_DATA_DIR", "FLOWBENCH_BASE_URL",
               "FLOWBENCH_SECRET_KEY", "DJANGO_SETTINGS_MODULE")


class WaitTimeout(AssertionError):
    """wait_until's deadline passed; the message says what it waited for."""


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    """Returns predicate()'s first truthy value, calling it every `interval` seconds until
    `timeout`; raises WaitTimeout naming `what` (and the last value or error) after that."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    last = None
    while True:
        try:
            value = predicate()
        except Exception as exc:   # a service still starting, a connection refused: try again
            value, last = None, f"{type(exc).__name__}: {exc}"
        else:
            if value:
                return value
            last = repr(value)
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"waited {timeout:.0f} s for {what}; last seen: {last}")
        pause.wait(interval)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_reachable(timeout: float = 3) -> str | None:
    """Returns None when PostgreSQL answers at 127.0.0.1:5432 as postgres, else why not."""
    try:
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres",
                             connect_timeout=timeout):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_HOST}:{PG_PORT} (user {PG_USER}) is not reachable: {exc}".strip()


def missing_services() -> list[str]:
    """Returns a sentence per service the cluster needs and this machine lacks."""
    missing = []
    problem = postgres_reachable()
    if problem:
        missing.append(problem)
    if shutil.which("redis-server") is None:
        missing.append("redis-server is not on PATH")
    return missing


# -- the HTTP API, signed in -----------------------------------------------------------------


class ApiClient:
    """A signed-in user's HTTP client: `.get/.post/.put/.delete(path, json=None)` return httpx
    responses; writes carry the session's CSRF token. Safe to share between threads."""

    def __init__(self, base_url: str, username: str, timeout: float = 60):
        self.base_url = base_url
        self.username = username
        self.http = httpx.Client(base_url=base_url, timeout=timeout, follow_redirects=True,
                                 limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))

    def sign_in(self, link: str) -> "ApiClient":
        page = self.http.get(link)
        if page.status_code != 200 or "sessionid" not in self.http.cookies:
            raise AssertionError(f"signing in {self.username} with {link} gave HTTP {page.status_code}")
        if "csrftoken" not in self.http.cookies:
            self.http.get("/")
        if "csrftoken" not in self.http.cookies:
            raise AssertionError(f"no CSRF cookie for {self.username} after signing in")
        return self

    @property
    def cookies(self) -> dict:
        return {name: value for name, value in self.http.cookies.items()}

    def request(self, method: str, path: str, json=None, content: bytes | str | None = None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if method not in ("GET", "HEAD"):
            headers["X-CSRFToken"] = self.http.cookies.get("csrftoken", "")
            headers.setdefault("Content-Type", "application/json")
            headers.setdefault("Referer", self.base_url + "/")
        return self.http.request(method, path, json=json, content=content, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json=None, **kwargs):
        return self.request("PUT", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, json=None, status: int | tuple = (200, 201)) -> dict:
        """Returns the decoded body of a request that must succeed; fails naming the call."""
        response = self.request(method, path, json=json)
        wanted = (status,) if isinstance(status, int) else status
        if response.status_code not in wanted:
            raise AssertionError(f"{method} {path} as {self.username}: HTTP {response.status_code}, "
                                 f"wanted {wanted}: {response.text[:800]}")
        return response.json() if response.content else {}

    def websocket(self, path: str, timeout: float = 30) -> "WebSocket":
        return WebSocket(self.base_url, path, cookies=self.cookies, timeout=timeout)

    def close(self):
        self.http.close()


def assert_api_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, f"HTTP {response.status_code}, wanted {status}: {response.text[:500]}"
    body = response.json()
    assert set(body) >= {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    assert body["error"]["message"], body
    if code is not None:
        assert body["error"]["code"] == code, body
    if field is not None:
        assert body["error"]["field"] == field, body
    return body


# -- a WebSocket client (RFC 6455, what the tests need of it) ---------------------------------


class WebSocketRefused(Exception):
    """The server refused the handshake (Channels' close before accept: daphne answers 403)."""

    def __init__(self, status: int, response: str):
        super().__init__(f"WebSocket handshake refused: HTTP {status}")
        self.status = status
        self.response = response


class WebSocketClosed(Exception):
    def __init__(self, code: int | None, reason: str = ""):
        super().__init__(f"WebSocket closed by the server with code {code} {reason}".strip())
        self.code = code


class WebSocket:
    """A blocking WebSocket client: send_json(), receive_json(timeout), send_text/send_bytes."""

    def __init__(self, base_url: str, path: str, *, cookies: dict, timeout: float = 30):
        url = urlparse(base_url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=timeout)
        self.timeout = timeout
        self.buffer = b""
        key = base64.b64encode(os.urandom(16)).decode()
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        request = (f"GET {path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   f"Origin: {base_url}\r\nCookie: {cookie}\r\n\r\n")
        self.sock.sendall(request.encode())
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        status = int(head.split(" ", 2)[1])
        if status != 101:
            self.sock.close()
            raise WebSocketRefused(status, head)
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                  .digest()).decode()
        if accept not in head:
            raise AssertionError(f"bad Sec-WebSocket-Accept in {head!r}")

    def _read_exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WebSocketClosed(None, "(connection closed without a close frame)")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed during the handshake: {self.buffer!r}")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def send_bytes(self, data: bytes) -> None:
        self._send_frame(0x2, data)

    def send_json(self, message) -> None:
        self.send_text(json.dumps(message))

    def receive(self, timeout: float | None = None) -> str | bytes:
        """Returns the next text (str) or binary (bytes) message; raises WebSocketClosed on a close
        frame and TimeoutError when nothing arrives within `timeout` seconds."""
        self.sock.settimeout(timeout or self.timeout)
        parts, kind = [], None
        try:
            while True:
                first, second = self._read_exactly(2)
                opcode, final = first & 0x0F, first & 0x80
                length = second & 0x7F
                if length == 126:
                    length = struct.unpack("!H", self._read_exactly(2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", self._read_exactly(8))[0]
                payload = self._read_exactly(length)
                if opcode == 0x8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                    raise WebSocketClosed(code, payload[2:].decode(errors="replace"))
                if opcode == 0x9:
                    self._send_frame(0xA, payload)
                    continue
                if opcode == 0xA:
                    continue
                if opcode in (0x1, 0x2):
                    kind = opcode
                parts.append(payload)
                if final:
                    data = b"".join(parts)
                    return data.decode() if kind == 0x1 else data
        except socket.timeout:
            raise TimeoutError(f"no WebSocket message within {timeout or self.timeout} s") from None

    def receive_json(self, timeout: float | None = None):
        return json.loads(self.receive(timeout))

    def close(self) -> None:
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- the cluster -------------------------------------------------------------------------------


class Cluster:
    """PostgreSQL database + own Redis + daphne + N Celery workers, started by start().

    `embedded=True` runs the default install instead: one web process on a SQLite file in the data
    folder, executions on its own threads (what `make run` starts), no other service."""

    def __init__(self, workers: int = 2, lease_seconds: int = 4, threads: int = 16, env: dict | None = None,
                 embedded: bool = False, beat: bool = False):
        self.embedded = embedded
        self.with_beat = beat and not embedded   # Celery beat, which sends flowbench.fire_schedules
        self.workers = 0 if embedded else workers
        self.lease_seconds = lease_seconds
        self.threads = threads
        self.extra_env = dict(env or {})
        self.database = f"flowbench_it_{secrets.token_hex(6)}"
        self.data_dir: Path | None = None
        self.port = None
        self.redis_port = None
        self.base_url = None
        self.env: dict = {}
        self.admin_link = None
        self.web = None
        self.redis = None
        self.worker_processes: dict[int, subprocess.Popen] = {}
        self.beats: list[subprocess.Popen] = []
        self._clients: dict[str, ApiClient] = {}
        self._logs: list = []
        self._created_database = False
        self._sql_lock = threading.Lock()
        self._sql_connection = None

    # -- lifecycle

    def start(self) -> "Cluster":
        missing = [] if self.embedded else missing_services()
        if missing:
            raise RuntimeError("the cluster needs: " + "; ".join(missing))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="flowbench-it-"))
        if not self.embedded:
            self._admin_sql(f'CREATE DATABASE "{self.database}"')
            self._created_database = True
            self.redis_port = free_port()
            self.start_redis()
        # The web's port is bound now and kept in start_web's listener; the base URL needs it first.
        self._listener = self._bind(0)
        self.port = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
        if not self.embedded:
            env.update({
                "DATABASE_URL": f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.database}",
                "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "FLOWBENCH_EXECUTOR": "celery",
            })
        env.update({
            "FLOWBENCH_LEASE_SECONDS": str(self.lease_seconds),
            "FLOWBENCH_DATA_DIR": str(self.data_dir),
            "FLOWBENCH_BASE_URL": self.base_url,
            # Given rather than generated, so tests can check that no function ever sees it.
            "FLOWBENCH_SECRET_KEY": secrets.token_urlsafe(48),
            "DJANGO_SETTINGS_MODULE": "flowbench.settings",
            "PYTHONUNBUFFERED": "1",
            "FLOWBENCH_SAMPLE_APPS": "0",   # the seed's apps have their own tests (and a schedule)
        })
        env.update(self.extra_env)
        self.env = env
        prepared = self.manage("prepare")
        found = re.search(r"(http://\S+/login/\S+)", prepared)
        if not found:
            raise AssertionError(f"manage.py prepare printed no sign-in link:\n{prepared}")
        self.admin_link = found.group(1)
        self.start_web()
        for index in range(self.workers):
            self.start_worker(index)
        if self.with_beat:
            self.start_beat()

    def stop(self, keep_data: bool = False) -> None:
        """Ends every process of the cluster, drops its database and (unless `keep_data`) removes
        its data folder with the logs; safe to call twice."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        self.stop_beats()
        for index in list(self.worker_processes):
            self._end(self.worker_processes.pop(index), signal.SIGKILL)
        if self.web is not None:
            self._end(self.web, signal.SIGTERM)
            self.web = None
        listener = getattr(self, "_listener", None)
        if listener is not None:
            listener.close()
            self._listener = None
        if self.redis is not None:
            self._end(self.redis, signal.SIGTERM)
            self.redis = None
        for log in self._logs:
            log.close()
        self._logs.clear()
        if self._sql_connection is not None:
            self._sql_connection.close()
            self._sql_connection = None
        if self._created_database:
            self._admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self._created_database = False
        if self.data_dir is not None and not keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- processes

    def _log(self, name: str):
        log = open(self.data_dir / f"{name}.log", "ab")
        self._logs.append(log)
        return log

    def log_path(self, name: str) -> Path:
        """Returns the log file of a process: "web", "worker-0", "redis"..."""
        return self.data_dir / f"{name}.log"

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_path(name)
        if not path.exists():
            return f"({path} does not exist)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _spawn(self, argv: list[str], name: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(argv, cwd=ROOT, env=self.env or None, stdin=subprocess.DEVNULL,
                                stdout=self._log(name), stderr=subprocess.STDOUT, start_new_session=True, **kwargs)

    @staticmethod
    def _end(process: subprocess.Popen, sig) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def manage(self, *args: str, timeout: float = 180) -> str:
        """Runs `manage.py <args>` with the cluster's environment; returns its output."""
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} exited with {done.returncode}:\n"
                                 f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    @staticmethod
    def _bind(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(512)
        return listener

    def start_web(self) -> None:
        """Starts daphne on the cluster's port. The port is bound here and handed over (--fd):
        requests made from now on wait in the backlog until daphne accepts them."""
        if self.web is not None and self.web.poll() is None:
            raise RuntimeError("the web process is already running")
        listener = getattr(self, "_listener", None) or self._bind(self.port)
        self._listener = None
        try:
            self.web = self._spawn([sys.executable, "-m", "flowbench.serve", "--fd", str(listener.fileno()),
                                    "flowbench.asgi:application"], "web", pass_fds=[listener.fileno()])
        finally:
            listener.close()

    def spawn_web(self, name: str, port: int = 0) -> tuple[subprocess.Popen, str]:
        """Starts one more web process (daphne) of the cluster on its own port (a free one unless
        given), logging to `name`.log; returns it and its base URL. The caller ends it."""
        listener = self._bind(port)
        try:
            process = self._spawn([sys.executable, "-m", "flowbench.serve", "--fd", str(listener.fileno()),
                                   "flowbench.asgi:application"], name, pass_fds=[listener.fileno()])
            return process, f"http://127.0.0.1:{listener.getsockname()[1]}"
        finally:
            listener.close()

    def kill_web(self, sig=signal.SIGKILL) -> int:
        """Ends the web process (SIGKILL: as a crash) and returns its exit status."""
        web, self.web = self.web, None
        if web is None:
            raise RuntimeError("the web process is not running")
        self._end(web, sig)
        return web.returncode

    def start_worker(self, index: int) -> None:
        running = self.worker_processes.get(index)
        if running is not None and running.poll() is None:
            raise RuntimeError(f"worker {index} is already running")
        self.worker_processes[index] = self._spawn(
            [sys.executable, "-m", "celery", "-A", "flowbench", "worker", "-P", "threads", "-c", str(self.threads),
             "-n", f"w{index}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"],
            f"worker-{index}")

    def start_beat(self) -> None:
        """Starts a Celery beat, which sends `flowbench.fire_schedules` every second (its schedule
        file in the data folder). One is what a cluster runs; a second one makes every tick's
        job arrive twice, as a test of firing once wants."""
        index = len(self.beats)
        self.beats.append(self._spawn([sys.executable, "-m", "celery", "-A", "flowbench", "beat", "-l", "info",
                                       "-s", str(self.data_dir / f"celerybeat-schedule-{index}")], f"beat-{index}"))

    def stop_beats(self) -> None:
        while self.beats:
            self._end(self.beats.pop(), signal.SIGTERM)

    def kill_worker(self, index: int, sig=signal.SIGKILL, timeout: float = 60) -> int:
        """Sends `sig` to worker `index` and waits for it to exit; returns its exit status.

        SIGKILL ends its whole process group (its function sandboxes too), as a machine that dies;
        another signal goes to the worker alone (SIGTERM: Celery's warm shutdown). A worker still
        running `timeout` seconds after it is killed and fails the call, naming the signal."""
        worker = self.worker_processes.pop(index)
        if worker.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(worker.pid, sig)
            else:
                worker.send_signal(sig)
        try:
            worker.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
            raise AssertionError(f"worker {index} was still running {timeout:.0f} s after "
                                 f"{signal.Signals(sig).name} (then killed):\n{self.log_tail(f'worker-{index}')}")
        return worker.returncode

    def start_redis(self) -> None:
        """Starts this cluster's redis-server on its port and waits until it answers PING."""
        if self.redis is not None and self.redis.poll() is None:
            raise RuntimeError("redis is already running")
        self.redis = self._spawn(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--daemonize", "no",
                                  "--dir", str(self.data_dir)], "redis")
        wait_until(self._redis_answers, 30, f"redis-server on port {self.redis_port} to answer PING")

    def _redis_answers(self) -> bool:
        if self.redis.poll() is not None:
            raise AssertionError(f"redis-server exited with {self.redis.returncode}:\n{self.log_tail('redis')}")
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")

    def stop_redis(self) -> None:
        """Kills this cluster's redis-server (what it held is lost: it keeps nothing on disk)."""
        redis, self.redis = self.redis, None
        if redis is None:
            raise RuntimeError("redis is not running")
        self._end(redis, signal.SIGKILL)

    def processes(self) -> dict[str, subprocess.Popen]:
        found = {f"worker-{i}": p for i, p in self.worker_processes.items()}
        if self.web is not None:
            found["web"] = self.web
        for index, beat in enumerate(self.beats):
            found[f"beat-{index}"] = beat
        if self.redis is not None:
            found["redis"] = self.redis
        return found

    def worker_cpu_seconds(self, index: int) -> float:
        """Returns the CPU time (user + system) worker `index`'s process has used so far."""
        with open(f"/proc/{self.worker_processes[index].pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def check_alive(self) -> None:
        """Fails naming every cluster process that has exited, with the end of its log."""
        dead = {name: p.returncode for name, p in self.processes().items() if p.poll() is not None}
        if dead:
            raise AssertionError("cluster processes exited: " + "; ".join(
                f"{name} with {code}:\n{self.log_tail(name)}" for name, code in dead.items()))

    # -- users and data

    def client(self, username: str = ADMIN) -> ApiClient:
        """Returns a signed-in client of `username` (the administrator, or a user it creates)."""
        if username in self._clients:
            return self._clients[username]
        if username == ADMIN:
            link = self.admin_link
        else:
            link = self._user_link(username)
        client = ApiClient(self.base_url, username).sign_in(link)
        self._clients[username] = client
        return client

    def _user_link(self, username: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.@+-]{1,150}", username):
            raise ValueError(f"not a username: {username!r}")
        code = ("from django.contrib.auth import get_user_model\n"
                "from editor.services import create_signin_link\n"
                f"user, _ = get_user_model().objects.get_or_create(username={username!r})\n"
                "print('TOKEN', create_signin_link(user))\n")
        out = self.manage("shell", "-c", code)
        token = re.search(r"^TOKEN (\S+)$", out, re.M)
        if not token:
            raise AssertionError(f"no sign-in token for {username} in: {out}")
        return f"{self.base_url}/login/{token.group(1)}"

    def sql(self, query: str, params=None) -> list[tuple]:
        """Runs one statement on the cluster's database (autocommit, over one kept connection);
        returns its rows ([] when none). PostgreSQL only (not `embedded`)."""
        if self.embedded:
            raise RuntimeError("an embedded install has no PostgreSQL database: read it through the API")
        with self._sql_lock:
            for attempt in (1, 2):
                if self._sql_connection is None or self._sql_connection.closed:
                    self._sql_connection = psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER,
                                                           dbname=self.database, autocommit=True)
                try:
                    cursor = self._sql_connection.execute(query, params)
                    return cursor.fetchall() if cursor.description else []
                except psycopg.OperationalError:
                    # The connection broke (the server restarted it): once more on a new one.
                    self._sql_connection.close()
                    if attempt == 2:
                        raise

    def execution_status(self, execution_id) -> str:
        """Returns an execution's status read from the database itself, not through the web
        process (so reading it makes no request that could wake the server)."""
        if not self.embedded:
            return self.sql("SELECT status FROM editor_execution WHERE id = %s", [str(execution_id)])[0][0]
        import sqlite3

        path = self.data_dir / "flowbench.sqlite3"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20) as db:
            return db.execute("SELECT status FROM editor_execution WHERE id = ?",
                              [uuid.UUID(str(execution_id)).hex]).fetchone()[0]

    def map_children(self, execution_id) -> list[tuple]:
        """Returns (map_index, status, id, lease_owner) of each child execution of the Distributed
        Map runs of an execution, in item order, read from the database itself (both modes)."""
        query = ("SELECT c.map_index, c.status, c.id, c.lease_owner FROM editor_execution c "
                 "JOIN editor_maprun r ON c.map_run_id = r.id WHERE r.execution_id = {} ORDER BY c.map_index")
        if not self.embedded:
            return [(i, s, str(pk), owner) for i, s, pk, owner in self.sql(query.format("%s"), [uuid.UUID(str(execution_id))])]
        import sqlite3

        path = self.data_dir / "flowbench.sqlite3"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20) as db:
            rows = db.execute(query.format("?"), [uuid.UUID(str(execution_id)).hex]).fetchall()
        return [(i, s, str(uuid.UUID(pk)), owner) for i, s, pk, owner in rows]

    @staticmethod
    def _admin_sql(statement: str) -> None:
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
            conn.execute(statement)
