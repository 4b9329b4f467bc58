"""The load benchmark: persisted executions and transitions per second, embedded and distributed.

Also the latency of live events to 50 watching WebSocket clients, in the same run and table.

    .venv/bin/python -m bench.load [--quick] [--seconds S] [--workers 1,2] [--only MODE]
                                   [--workloads W4,W5] [--watchers N] [--events N] [--profile]
                                   [--memory-runs N]

One table, a row per mode:

- `embedded`: the default install. A SQLite file in a fresh data folder, the thread executor
  (FLOWBENCH_EXECUTION_THREADS threads in the process that starts the executions), the in-memory
  channel layer, and daphne for the WebSocket watchers.
- `distributed, N workers`: `tests.integration.cluster.Cluster` (a fresh PostgreSQL database, its
  own redis-server as broker and channel layer, daphne, N Celery workers of 16 threads).

Throughput, per mode and workload: a driver process (`python -m bench.load --driver JOB`, run with
the mode's environment as a management shell would be) creates the user, role, function and
machines through `editor.services`, runs an untimed warm-up batch (which also sizes the timed
batch to about --seconds), then creates the timed batch of K executions in one transaction, so
that all are dispatched together when it commits, and polls the database until none is RUNNING.
Every execution must have SUCCEEDED with the workload's expected_output and its transitions,
else the cell shows the error instead of a figure. Then:

    seconds = last stopped_at - first started_at (the rows' own timestamps)
    exec/s  = K / seconds
    tr/s    = sum of the executions' `transitions` column / seconds (states entered, what AWS bills)

Two workloads from ../shared/bench/workloads: W4 (a Parallel of 10 branches of 20 Pass states,
201 transitions: engine- and history-bound) and W5 (a Choice and 4 Task states calling the
workload's Python function in a sandboxed worker process: invoke-bound; its Task ARNs name the
bench user's own account instead of the workload's example account).

Latency: a machine waits 2 s (while the watchers connect through daphne and subscribe), then
runs a chain of --events Pass states, a burst of about twice as many events. Each watcher's
latency for an event is its arrival time minus the event's own timestamp (when the engine emitted
it, millisecond precision), so it includes writing the event, the channel layer (in memory, or
Redis between a worker and daphne) and daphne's sends; only events that arrive live (after the
watcher's catch-up) count. The watchers are raw WebSocket clients on one asyncio loop in this
process, on the same two cores as the server; during the burst they only note each message's
arrival, and parse the events once the stream has ended.

Memory (the embedded mode, unless --memory-runs 0): the web process's resident set size (VmRSS)
idle, with the watchers subscribed, after --memory-runs executions started through its API (the
workloads' machines in turn) and after as many again, so that growth with the number of
executions shows; and, before those executions, a warm worker of a hello-world function in
Python, Node.js and Ruby (the web process runs without standby workers, so each runtime's one
worker is that one) beside the same interpreter sitting idle with nothing loaded (`python3 -I -S`,
`node`, `ruby` waiting for a program on stdin).

Peer: AWS Step Functions' default quota for Standard workflows, 1,500 state transitions per
second per account (the StateTransition token bucket's refill rate in us-east-1, us-west-2 and
eu-west-1; 500 in other regions): the throughput that a default AWS account gets.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import orjson

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKLOADS_DIR = REPO_ROOT.parent / "shared" / "bench" / "workloads"
PYTHON = sys.executable
PEER_TRANSITIONS_PER_SECOND = 1500
PEER_TEXT = ("AWS Step Functions Standard, default account quota (StateTransition refill rate, "
             "us-east-1/us-west-2/eu-west-1; 500/s elsewhere)")
# The items of the Map workloads: each runs W5's machine once.
MAP_ITEMS = 20
WORKLOADS = {
    "W4": "engine-bound: a Parallel of 10 x 20 Pass states, 201 transitions",
    "W5": "invoke-bound: a Choice + 4 Task states, each a real function invocation, 5 transitions",
    "M5": f"W5 as an inline Map of {MAP_ITEMS} items: the items run on the threads of the parent's process, "
          f"{1 + 5 * MAP_ITEMS} transitions",
    "D5": f"W5 as a Distributed Map of {MAP_ITEMS} items: each item a child execution, dispatched to any "
          f"worker, {1 + 5 * MAP_ITEMS} transitions (the parent's and its children's)",
}
TASK_FUNCTION = "youth-training"
GATE_SECONDS = 2
WATCHED_MACHINE = "watched"
DRIVER_MARK = "BENCH-LOAD "
# A watcher that gets nothing for this long after the burst stops waiting (its events were lost).
STALL_SECONDS = 10
CELERY_THREADS = 16
# Memory: the runtimes whose warm worker is measured, and the command of each bare interpreter
# sitting idle (each reads its program from stdin, which never comes).
MEMORY_RUNTIMES = ("python", "nodejs", "ruby")
BARE_ARGUMENTS = {"python": ["-I", "-S"], "nodejs": [], "ruby": []}
WORKER_BOOTSTRAPS = {"python": "python_worker.py", "nodejs": "node_worker.cjs", "ruby": "ruby_worker.rb"}
MIB = 1024 * 1024


class BenchmarkError(Exception):
    """A mode could not be measured: a process that did not start, a driver that failed."""


# ---------------------------------------------------------------------------------------------
# What the table shows


@dataclass
class Throughput:
    """A timed batch of one workload in one mode, or why it has no figure."""

    workload: str
    executions: int = 0
    seconds: float = 0.0
    transitions: int = 0
    events: int = 0
    error: str | None = None
    warmup: str = ""   # the untimed batch that sized this one: "N executions in S s"

    def rate(self, per: str) -> float | None:
        """Returns executions ("exec") or transitions ("tr") per second, or None without a figure."""
        if self.error or not self.seconds:
            return None
        return (self.executions if per == "exec" else self.transitions) / self.seconds


@dataclass
class Latency:
    """Live-event latencies (ms) seen by the watchers of one execution."""

    watchers: int = 0
    samples: list[float] = field(default_factory=list)
    expected: int = 0     # events each watcher should get live (after its catch-up), summed
    missing: int = 0      # of those, how many never arrived
    stalled: int = 0      # watchers that waited STALL_SECONDS for an event that did not come
    error: str | None = None

    def percentile(self, q: float) -> float | None:
        if self.error or not self.samples:
            return None
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@dataclass
class ModeResult:
    label: str
    throughputs: dict[str, Throughput] = field(default_factory=dict)
    latency: Latency | None = None
    note: str = ""
    error: str | None = None
    profile: WorkerProfiles | None = None
    memory: Memory | None = None   # the embedded mode's, with --memory-runs
    wall: float = 0.0   # how long the mode took, start-up included


# ---------------------------------------------------------------------------------------------
# The driver: runs inside a mode's environment (a child process with Django set up)


def load_workloads() -> dict[str, dict]:
    """Returns {"W1": workload, ...} from the shared folder beside the repository."""
    paths = sorted(WORKLOADS_DIR.glob("w*.json"))
    if not paths:
        raise BenchmarkError(f"no workloads in {WORKLOADS_DIR}: the shared folder must sit beside the repository")
    found = {path.stem.upper(): json.loads(path.read_text(encoding="utf-8")) for path in paths}
    return found | map_workloads(found["W5"])


def map_workloads(w5: dict) -> dict[str, dict]:
    """Returns M5 and D5: W5's machine as the processor of an inline and of a Distributed Map over
    MAP_ITEMS players, the same work either way."""
    processor = {"StartAt": w5["definition"]["StartAt"], "States": w5["definition"]["States"]}
    found = {}
    for name, config in (("M5", {}), ("D5", {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}})):
        found[name] = {
            "definition": {"StartAt": "Players", "States": {"Players": {
                "Type": "Map", "ItemsPath": "$.players", "End": True, "ItemProcessor": {**config, **processor}}}},
            "task_handler": w5["task_handler"], "input": {"players": [w5["input"]] * MAP_ITEMS},
            "expected_output": [w5["expected_output"]] * MAP_ITEMS, "transitions": 1 + 5 * MAP_ITEMS,
            "items": MAP_ITEMS}
    return found


def watched_definition(events: int) -> dict:
    """Returns the latency machine: a Wait while the watchers connect, then a chain of Pass states."""
    states = {"Gate": {"Type": "Wait", "Seconds": GATE_SECONDS, "Next": "S0"}}
    states |= {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(events - 1)}
    states[f"S{events - 1}"] = {"Type": "Pass", "End": True}
    return {"StartAt": "Gate", "States": states}


def _emit(record: dict) -> None:
    print(DRIVER_MARK + json.dumps(record), flush=True)


def _driver(job: dict) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowbench.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench")
    workloads = load_workloads()
    machines = {}
    for name in job["workloads"]:
        workload = workloads[name]
        if "task_handler" in workload:
            _deploy_task_function(user, workload)
        machines[name] = _machine(user, name.lower(), _in_account(user, workload["definition"]))
    _machine(user, WATCHED_MACHINE, watched_definition(job["events"]))
    tasks = any("task_handler" in workloads[name] for name in job["workloads"])
    functions = _deploy_memory_functions(user) if job.get("memory") else {}
    _emit({"session": _session(user), "sandbox": _sandbox_backend() if tasks or functions else None,
           "memory_functions": functions})
    for name in job["workloads"]:
        _emit(_throughput(user, machines[name], name, workloads[name], job).__dict__)
    return 0


def _machine(user, name: str, definition: dict):
    """Returns the user's machine `name` with a published version of `definition`."""
    from editor.models import StateMachine
    from editor.services import machines, roles

    if not user.roles.filter(name="bench").exists():
        roles.create_role(user, {"name": "bench"})
    machine = StateMachine.objects.filter(owner=user, name=name).first()
    if machine is None:
        machine = machines.create_machine(user, {"name": name, "type": "STANDARD", "role": "bench",
                                                 "definition": json.dumps(definition)})
        machines.publish_version(machine)
    return machine


def _in_account(user, definition: dict) -> dict:
    """Returns `definition` with the workloads' account id (AWS's example account) replaced by the
    user's own in every ARN: each person is an account, and another account's function is not found."""
    from editor.services.accounts import account_id

    text = json.dumps(definition).replace(":123456789012:", f":{account_id(user)}:")
    return json.loads(text)


def _deploy_task_function(user, workload: dict) -> None:
    """Creates and deploys the workload's Python task function (handlers/train.py) once."""
    from editor.models import Function
    from editor.services import functions

    if Function.objects.filter(owner=user, name=TASK_FUNCTION).exists():
        return
    handler = next(p.strip() for p in workload["task_handler"].split("|") if p.strip().endswith(".py"))
    path = WORKLOADS_DIR / handler
    function = functions.create_function(user, name=TASK_FUNCTION, runtime="python")
    functions.save_code(function, {path.name: path.read_text(encoding="utf-8")})
    functions.update_configuration(function, {"handler": f"{path.stem}.handler"})
    functions.deploy_function(function)


def _deploy_memory_functions(user) -> dict[str, str]:
    """Deploys the starting point's hello-world function in each installed runtime (Python,
    Node.js, Ruby); returns {family: function name}."""
    from editor.models import Function
    from editor.services import functions
    from editor.services.runner import available_runtimes

    installed = {runtime["id"] for runtime in available_runtimes()}
    names = {}
    for family in MEMORY_RUNTIMES:
        if family in installed:
            names[family] = f"memory-{family}"
            if not Function.objects.filter(owner=user, name=names[family]).exists():
                functions.create_function(user, name=names[family], runtime=family)
    return names


def _sandbox_backend() -> str:
    from editor.services.runner import sandbox_backend

    return sandbox_backend()


def _session(user) -> str:
    """Returns the key of a new signed-in session of `user` (the watchers' cookie)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def _throughput(user, machine, name: str, workload: dict, job: dict) -> Throughput:
    """Runs the warm-up batch, sizes the timed batch from it, runs and checks that."""
    # One execution per thread of the mode: every thread opens its connections, every worker
    # compiles the machine, and a Task workload has a warm function worker per concurrent call.
    # (A Map workload's execution runs MAP_ITEMS items at once: as many threads' worth of work.)
    warm = max(2, -(-max(8, job["concurrency"]) // workload.get("items", 1)))
    warmup = _batch(user, machine, name, workload, warm, job["timeout"])
    if warmup.error:
        warmup.error = f"warm-up: {warmup.error}"
        return warmup
    # The timed batch is sized from a second, warm batch: the first one's rate counts the start
    # of every sandbox and made the timed batch so short that its ramp and tail weighed.
    sizing = _batch(user, machine, name, workload, 4 * warm, job["timeout"])
    if sizing.error:
        sizing.error = f"warm-up: {sizing.error}"
        return sizing
    rate = sizing.executions / max(sizing.seconds, 1e-3)
    count = max(job["minimum"], min(job["maximum"], int(rate * job["seconds"])))
    # Told once the batch is created (the profiler then records the executions, not their creation).
    timed = _batch(user, machine, name, workload, count, job["timeout"],
                   created=lambda: _emit({"timing": name, "executions": count}))
    timed.warmup = (f"{warmup.executions} executions in {warmup.seconds:.2f} s, then {sizing.executions} "
                    f"in {sizing.seconds:.2f} s")
    return timed


def _batch(user, machine, name: str, workload: dict, count: int, timeout: float, created=None) -> Throughput:
    """Starts `count` executions at once, waits for them, checks them; returns the figures.
    `created()` is called when they are created and dispatched."""
    from django.db import transaction
    from django.db.models import Max, Min, Sum

    from editor.models import Execution, ExecutionEvent
    from editor.services.executions import start_execution

    text = json.dumps(workload["input"])
    with transaction.atomic():   # dispatched together when this commits
        ids = [start_execution(user, machine, text).pk for _ in range(count)]
    if created is not None:
        created()
    deadline = time.monotonic() + timeout
    # The batches of a machine run one after another: none of its executions runs but this
    # batch's. (Asked by machine, not by the batch's ids: an IN list of thousands of ids cost
    # the embedded mode's process ~7% of its time at every poll.)
    running = Execution.objects.filter(machine=machine, status=Execution.Status.RUNNING)
    while running.exists():
        if time.monotonic() > deadline:
            return Throughput(name, count, error=f"{running.count()} of {count} still running after {timeout:.0f} s")
        time.sleep(0.05)
    rows = Execution.objects.filter(pk__in=ids)
    expected = workload["expected_output"]
    # A Distributed Map's children made the items' transitions: counted with their parent's.
    children = dict(Execution.objects.filter(map_run__execution_id__in=ids).values_list("map_run__execution_id")
                    .annotate(transitions=Sum("transitions")).order_by())
    for row in rows.only("status", "output", "error", "cause", "transitions"):
        row.transitions += children.get(row.pk, 0)
        if row.status != "SUCCEEDED":
            return Throughput(name, count, error=f"an execution {row.status}: {row.error}: {(row.cause or '')[:200]}")
        if json.loads(row.output) != expected:
            return Throughput(name, count, error="an execution's output is not the workload's expected_output")
        if row.transitions != workload["transitions"]:
            return Throughput(name, count, error=f"an execution made {row.transitions} transitions, "
                                                 f"not {workload['transitions']}")
    span = rows.aggregate(first=Min("started_at"), last=Max("stopped_at"), transitions=Sum("transitions"))
    events = ExecutionEvent.objects.filter(execution_id__in=ids).count()
    return Throughput(name, count, (span["last"] - span["first"]).total_seconds(),
                      span["transitions"] + sum(children.values()), events)


def run_driver(env: dict, job: dict, on_timing=None) -> tuple[dict, list[Throughput]]:
    """Runs the driver in a child process with `env`; returns its setup record and its batches.
    `on_timing(workload, driver's pid)` is called as each timed batch starts."""
    with tempfile.TemporaryFile("w+") as errors:
        driver = subprocess.Popen([PYTHON, "-m", "bench.load", "--driver", json.dumps(job)], cwd=REPO_ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
        # Each batch has its own deadline; this one is for a driver stuck before or between them.
        guard = threading.Timer(job["timeout"] * 4 + 120, driver.kill)
        guard.start()
        records = []
        try:
            for line in driver.stdout:
                if line.startswith(DRIVER_MARK):
                    record = json.loads(line[len(DRIVER_MARK):])
                    if "timing" in record:
                        if on_timing is not None:
                            on_timing(record["timing"], driver.pid)
                    else:
                        records.append(record)
            driver.wait()
        finally:
            guard.cancel()
            if driver.poll() is None:   # this run was interrupted
                driver.kill()
                driver.wait()
        errors.seek(0)
        if driver.returncode != 0 or not records:
            tail = errors.read().strip().splitlines()[-8:]
            raise BenchmarkError("the driver failed:\n    " + "\n    ".join(tail))
    return records[0], [Throughput(**record) for record in records[1:]]


# ---------------------------------------------------------------------------------------------
# Watching: raw WebSocket clients (RFC 6455, text frames) on one asyncio loop


class Watcher:
    """One WebSocket client of /ws/executions/<id>/, signed in by the session cookie."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, host: str, port: int, path: str, session: str) -> "Watcher":
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Origin: http://{host}:{port}\r\nCookie: sessionid={session}\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise BenchmarkError(f"the WebSocket upgrade was refused: {head.splitlines()[0].decode()}")
        return cls(reader, writer)

    async def send(self, message: dict) -> None:
        self._frame(0x1, json.dumps(message).encode())
        await self.writer.drain()

    def _frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        header = bytes([0x80 | opcode]) + (bytes([0x80 | len(payload)]) if len(payload) < 126
                                           else bytes([0x80 | 126]) + struct.pack("!H", len(payload)))
        self.writer.write(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    async def receive(self) -> tuple[bytes, float]:
        """Returns the next text message, unparsed, and the time (time.time()) its last frame was read."""
        parts = []
        while True:
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            payload = await self.reader.readexactly(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise BenchmarkError("the server closed the WebSocket")
            if opcode == 0x9:
                self._frame(0xA, payload)   # daphne drops a client that does not answer its pings
                continue
            if opcode == 0xA:
                continue
            parts.append(payload)
            if first & 0x80:
                return b"".join(parts), time.time()

    def close(self) -> None:
        self.writer.close()


def _event_time(timestamp: str) -> float:
    return datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def _post(base_url: str, path: str, session: str, body: dict | None) -> dict:
    """Returns the JSON answer of the studio's API to a POST of `body` (None: a GET)."""
    token = "b" * 32   # any 32-letter secret does, as long as the cookie and the header agree
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method="GET" if body is None else "POST", headers={
        "Content-Type": "application/json", "X-CSRFToken": token,
        "Cookie": f"sessionid={session}; csrftoken={token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


async def _latency(base_url: str, session: str, watchers: int, events: int, on_ready=None) -> Latency:
    """Starts the watched machine, connects the watchers, returns what they measured; calls
    `on_ready()` once every watcher has subscribed and has its catch-up (before the burst)."""
    host, port = base_url.removeprefix("http://").split(":")
    started = await asyncio.to_thread(_post, base_url, f"/api/state-machines/{WATCHED_MACHINE}/executions",
                                      session, {"input": {}})
    path = f"/ws/executions/{started['id']}/"
    clients = await asyncio.gather(*(Watcher.connect(host, int(port), path, session) for _ in range(watchers)))
    # ExecutionStarted, Wait Entered and Exited, an Entered and an Exited per Pass, ExecutionSucceeded.
    final = 2 * events + 4
    result = Latency(watchers)
    subscribed = 0

    async def watch(client: Watcher) -> None:
        nonlocal subscribed
        await client.send({"type": "subscribe", "after": 0})
        seen: set[int] = set()
        while True:   # the catch-up, up to the status message
            message = orjson.loads((await client.receive())[0])
            if message["type"] == "execution":
                break
            seen.update(e["id"] for e in message.get("events", ()))
        result.expected += final - len(seen)
        subscribed += 1
        if subscribed == watchers and on_ready is not None:
            on_ready()
        # The clients share this process's one loop and the server's two cores: while the burst
        # comes they only note when each message arrived, and parse the events afterwards, so
        # that what is measured is the server, not 50 clients' JSON parsing.
        arrived: list[tuple[bytes, float]] = []
        try:
            while True:
                payload, now = await asyncio.wait_for(client.receive(), STALL_SECONDS)
                if payload.startswith(b'{"type":"events"'):
                    arrived.append((payload, now))
                    continue
                message = orjson.loads(payload)   # a status (small): the end of the stream?
                if message["type"] == "events":
                    arrived.append((payload, now))
                elif message["type"] == "execution" and message["execution"]["status"] != "RUNNING":
                    break
        except asyncio.TimeoutError:
            result.stalled += 1
        for payload, now in arrived:
            for event in orjson.loads(payload)["events"]:
                if event["id"] not in seen:
                    seen.add(event["id"])
                    result.samples.append((now - _event_time(event["timestamp"])) * 1000)
        result.missing += final - len(seen)

    try:
        await asyncio.gather(*(watch(c) for c in clients))
    finally:
        for client in clients:
            client.close()
    return result


def measure_latency(base_url: str, session: str, watchers: int, events: int, on_ready=None) -> Latency:
    try:
        return asyncio.run(_latency(base_url, session, watchers, events, on_ready))
    except (BenchmarkError, OSError, asyncio.TimeoutError, ValueError) as exc:
        return Latency(watchers, error=f"{type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------------------
# Memory: the embedded web process's RSS, and warm function workers beside bare interpreters


@dataclass
class Memory:
    """Resident set sizes (bytes): the web process at moments of the run, and a warm worker of
    each runtime beside its bare interpreter sitting idle."""

    web: list[tuple[str, int | None]] = field(default_factory=list)   # (moment, RSS)
    workers: dict[str, tuple[int | None, int | None, str]] = field(default_factory=dict)  # (worker, bare, command)
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def rss(pid: int) -> int | None:
    """Returns a process's resident set size in bytes (VmRSS), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _settled_rss(pid: int, seconds: float = 5.0) -> int | None:
    """Returns a starting process's RSS once it has stopped changing (the same for 0.2 s)."""
    deadline, last, same = time.monotonic() + seconds, None, 0
    while time.monotonic() < deadline:
        now = rss(pid)
        same = same + 1 if now == last else 0
        if same >= 4:
            break
        last = now
        time.sleep(0.05)
    return last


def _children() -> dict[int, list[int]]:
    """Returns {pid: its child pids} of every process on the host."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                    parent = int(stat.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    return children


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def worker_pids(web_pid: int, family: str) -> list[int]:
    """Returns the pids of the web process's function workers of `family`: the innermost
    processes whose command runs the runtime's bootstrap (the sandbox's own processes, bwrap or
    the keeper, name it too, and are their ancestors)."""
    children = _children()
    bootstrap = WORKER_BOOTSTRAPS[family]

    def runs_it(pid):
        return bootstrap in _cmdline(pid)

    found, stack = [], [web_pid]
    while stack:
        for child in children.get(stack.pop(), ()):
            stack.append(child)
            if runs_it(child) and not any(runs_it(grandchild) for grandchild in children.get(child, ())):
                found.append(child)
    return found


def bare_interpreter(family: str) -> tuple[int | None, str]:
    """Starts the runtime's interpreter with nothing to run (it waits for its program on stdin)
    and returns its settled RSS and the command."""
    from runtime.functions.runtimes import RuntimeNotAvailable, resolve_runtime

    try:
        command = [resolve_runtime(family).executable, *BARE_ARGUMENTS[family]]
    except RuntimeNotAvailable:
        return None, "not installed"
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return _settled_rss(process.pid), " ".join([Path(command[0]).name, *command[1:]])
    finally:
        process.kill()
        process.wait()


def run_executions(base_url: str, session: str, starts: list[tuple[str, dict]], timeout: float) -> str | None:
    """Starts each (machine, input) through the web process's API, eight at a time, and waits
    until none is RUNNING; returns what went wrong, or None when every one succeeded."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda start: _post(base_url, f"/api/state-machines/{start[0]}/executions", session,
                                          {"input": start[1]}), starts))
    machines = sorted({machine for machine, _ in starts})

    def listed(status):
        return [e for m in machines for e in _post(base_url, f"/api/state-machines/{m}/executions?status={status}",
                                                     session, None)["executions"]]

    deadline = time.monotonic() + timeout
    while listed("RUNNING"):
        if time.monotonic() > deadline:
            return f"executions still running after {timeout:.0f} s"
        time.sleep(0.5)
    failed = [e for status in ("FAILED", "TIMED_OUT", "ABORTED") for e in listed(status)]
    return f"{len(failed)} executions did not succeed" if failed else None


def measure_memory(memory: Memory, base_url: str, session: str, web_pid: int, options, functions: dict) -> None:
    """Adds to `memory` each runtime's warm worker beside its bare interpreter, then the web
    process's RSS after --memory-runs executions and after as many again (the workloads'
    machines in turn, started through its API)."""
    for family in MEMORY_RUNTIMES:
        if family not in functions:
            continue
        for _ in range(2):   # a cold start, then a warm invocation
            _post(base_url, f"/api/functions/{functions[family]}/invocations", session, {})
        pids = worker_pids(web_pid, family)
        if len(pids) != 1:
            memory.notes.append(f"{family}: {len(pids)} workers found, not one")
        bare, command = bare_interpreter(family)
        memory.workers[family] = (rss(pids[0]) if len(pids) == 1 else None, bare, command)
    workloads = load_workloads()
    starts = [(name.lower(), workloads[name]["input"]) for name in options.workloads]
    done = 0
    for _ in range(2):
        batch = [starts[i % len(starts)] for i in range(options.memory_runs)]
        problem = run_executions(base_url, session, batch, timeout=60 + options.memory_runs)
        done += len(batch)
        if problem:
            memory.error = f"after {done:,} executions: {problem}"
            return
        memory.web.append((f"after {done:,} executions", rss(web_pid)))


# ---------------------------------------------------------------------------------------------
# --profile: where a Celery worker's time goes


class WorkerProfiles:
    """py-spy records (`--gil`: the thread holding the GIL, so where the worker's Python CPU goes)
    of one worker process during each timed batch, and their summaries."""

    def __init__(self, label: str, seconds: float, folder: Path):
        self.label, self.seconds, self.folder = label, seconds, folder
        self.records: list[tuple[str, Path, subprocess.Popen]] = []

    @staticmethod
    def py_spy() -> str | None:
        return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(PYTHON).parent))

    def start(self, workload: str, pid: int) -> None:
        path = self.folder / f"{self.label.replace(', ', '-').replace(' ', '-')}-{workload}.txt"
        spy = subprocess.Popen([self.py_spy(), "record", "--pid", str(pid), "--duration", str(max(1, int(self.seconds))),
                                "--rate", "100", "--gil", "--nonblocking", "--format", "raw", "--output", str(path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.records.append((workload, path, spy))

    def summaries(self, top: int = 10) -> list[str]:
        lines = []
        for workload, path, spy in self.records:
            spy.wait()
            if not path.exists():
                lines.append(f"{self.label}, {workload}: py-spy recorded nothing (exit {spy.returncode})")
                continue
            own, within, total = {}, {}, 0
            for line in path.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                frames, count = stack.split(";"), int(count)
                total += count
                own[frames[-1]] = own.get(frames[-1], 0) + count
                for frame in set(frames):
                    if "editor/" in frame or "runtime/" in frame:
                        within[frame] = within.get(frame, 0) + count
            lines.append(f"{self.label}, {workload}: {total:,} samples of the GIL holder ({path})")
            lines.append("  most own time:")
            lines += [f"    {n / total:6.1%}  {frame}" for frame, n in sorted(own.items(), key=lambda i: -i[1])[:top]]
            lines.append("  Flowbench frames, with what they call:")
            lines += [f"    {n / total:6.1%}  {frame}" for frame, n in sorted(within.items(), key=lambda i: -i[1])[:top]]
        return lines


# ---------------------------------------------------------------------------------------------
# The modes


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchmarkError(f"daphne exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise BenchmarkError(f"daphne did not listen on {port} within {seconds:.0f} s")


def _profiler(profiles: WorkerProfiles | None, pid: int | None):
    """Returns the driver's on_timing callback: profile `pid` (None: the driver) in each timed batch."""
    if profiles is None:
        return None

    return lambda workload, driver_pid: profiles.start(workload, pid or driver_pid)


def _job(options, concurrency: int, memory: bool = False) -> dict:
    return {"workloads": options.workloads, "events": options.events, "seconds": options.seconds,
            "concurrency": concurrency, "minimum": options.minimum, "maximum": options.maximum,
            "timeout": options.timeout, "memory": memory}


# Every watcher is the same user: lift the cap on one user's open execution sockets.
WATCHERS_ENV = {"FLOWBENCH_EXECUTION_SOCKETS_PER_USER": "10000"}


def run_embedded(options) -> ModeResult:
    """The default install: SQLite, thread executor, in-memory layer; daphne for the watchers."""
    threads = int(os.environ.get("FLOWBENCH_EXECUTION_THREADS", "32"))
    result = ModeResult("embedded", note=f"SQLite file, {threads} execution threads, in-memory channel layer")
    data = tempfile.mkdtemp(prefix="flowbench-bench-load-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "FLOWBENCH_EXECUTOR")}
    env |= {"FLOWBENCH_DATA_DIR": data, "DJANGO_SETTINGS_MODULE": "flowbench.settings", **WATCHERS_ENV}
    daphne = None
    try:
        if options.profile:
            # The embedded executor runs in the process that starts the executions: the driver.
            result.profile = WorkerProfiles(result.label, options.seconds / 2, options.profile)
        setup, batches = run_driver(env, _job(options, threads, memory=bool(options.memory_runs)),
                                    _profiler(result.profile, None))
        result.throughputs = {b.workload: b for b in batches}
        if setup.get("sandbox"):
            result.note += f", functions in the {setup['sandbox']} sandbox"
        port, session = _free_port(), setup["session"]
        base_url = f"http://127.0.0.1:{port}"
        # No standby workers in the web process: each runtime's one worker is then the warm one
        # that Memory measures (a standby worker is a bare bootstrap waiting for a function).
        daphne = subprocess.Popen([PYTHON, "-m", "flowbench.serve", "-b", "127.0.0.1", "-p", str(port),
                                   "flowbench.asgi:application"], cwd=REPO_ROOT,
                                  env=env | ({"FLOWBENCH_STANDBY_WORKERS": "0"} if options.memory_runs else {}),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(port, daphne)
        memory = result.memory = Memory() if options.memory_runs else None
        if memory is not None:
            _post(base_url, f"/api/state-machines/{WATCHED_MACHINE}/executions?status=RUNNING", session, None)
            memory.web.append(("idle (started, one request answered)", _settled_rss(daphne.pid)))
        result.latency = measure_latency(base_url, session, options.watchers, options.events, None if memory is None
                                         else lambda: memory.web.append((f"{options.watchers} watchers subscribed",
                                                                         rss(daphne.pid))))
        if memory is not None:
            measure_memory(memory, base_url, session, daphne.pid, options, setup.get("memory_functions") or {})
    except (BenchmarkError, subprocess.TimeoutExpired, OSError) as exc:
        result.error = str(exc)
    finally:
        if daphne is not None:
            daphne.send_signal(signal.SIGTERM)
            try:
                daphne.wait(10)
            except subprocess.TimeoutExpired:
                daphne.kill()
        shutil.rmtree(data, ignore_errors=True)
    return result


def run_distributed(options, workers: int) -> ModeResult:
    """PostgreSQL + Redis + daphne + `workers` Celery workers, from tests.integration.cluster."""
    label = f"distributed, {workers} worker{'s' if workers > 1 else ''}"
    result = ModeResult(label, note=f"PostgreSQL, Redis, {workers} x {CELERY_THREADS} Celery threads")
    try:
        from tests.integration.cluster import Cluster
    except ImportError as exc:
        result.error = f"not measured: tests/integration/cluster.py is not there yet ({exc})"
        return result
    # The install's lease (FLOWBENCH_LEASE_SECONDS' default), not the short one the tests use.
    cluster = Cluster(workers=workers, lease_seconds=30, threads=CELERY_THREADS, env=WATCHERS_ENV)
    try:
        began = time.monotonic()
        cluster.start()
        result.note += f"; cluster started in {time.monotonic() - began:.0f} s"
        if options.profile:
            result.profile = WorkerProfiles(result.label, options.seconds / 2, options.profile)
        worker = cluster.worker_processes[0].pid
        setup, batches = run_driver(dict(cluster.env), _job(options, workers * CELERY_THREADS),
                                    _profiler(result.profile, worker))
        result.throughputs = {b.workload: b for b in batches}
        if setup.get("sandbox"):
            result.note += f", functions in the {setup['sandbox']} sandbox"
        result.latency = measure_latency(cluster.base_url.rstrip("/"), setup["session"], options.watchers,
                                         options.events)
    except Exception as exc:   # a cluster that does not start is a row with its reason, not a crash
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        cluster.stop()
    return result


# ---------------------------------------------------------------------------------------------
# The table


def _figure(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(results: list[ModeResult], workloads: list[str], watchers: int) -> str:
    """Returns the side-by-side table: a row per mode, the peer's row last."""
    head = [f"{'mode':<22}"]
    for name in workloads:
        head += [f"{name + ' exec/s':>10}", f"{name + ' tr/s':>9}"]
    head += [f"{'p50 ms':>8}", f"{'p99 ms':>8}"]
    lines = [" ".join(head), "-" * len(" ".join(head))]
    for result in results:
        cells = [f"{result.label:<22}"]
        for name in workloads:
            batch = result.throughputs.get(name)
            cells += [f"{_figure(batch and batch.rate('exec'), 1):>10}", f"{_figure(batch and batch.rate('tr')):>9}"]
        latency = result.latency
        cells += [f"{_figure(latency and latency.percentile(0.5), 1):>8}",
                  f"{_figure(latency and latency.percentile(0.99), 1):>8}"]
        lines.append(" ".join(cells))
    cells = [f"{'peer: AWS quota':<22}"]
    for _ in workloads:
        cells += [f"{'-':>10}", f"{PEER_TRANSITIONS_PER_SECOND:>9,}"]
    lines.append(" ".join(cells + [f"{'-':>8}", f"{'-':>8}"]))
    return "\n".join(lines)


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / MIB:,.1f}"


def memory_table(memory: Memory) -> str:
    """Returns the memory figures beside their references: the web process against itself idle
    (and its second batch of executions against its first), each warm worker against its bare
    interpreter."""
    lines = [f"{'web process (embedded)':<40} {'RSS MiB':>8} {'vs idle':>8}"]
    idle = memory.web[0][1] if memory.web else None
    for moment, size in memory.web:
        growth = "" if size is None or idle is None or moment == memory.web[0][0] else f"{(size - idle) / MIB:+,.1f}"
        lines.append(f"{moment:<40} {_mib(size):>8} {growth:>8}")
    batches = [size for moment, size in memory.web if moment.startswith("after")]
    if len(batches) == 2 and None not in batches:
        lines.append(f"  the second batch of executions added {(batches[1] - batches[0]) / MIB:+,.1f} MiB "
                     f"(the first {(batches[0] - (memory.web[1][1] or idle or 0)) / MIB:+,.1f} MiB after the watchers)")
    if memory.error:
        lines.append(f"  no figure: {memory.error}")
    if memory.workers:
        lines.append("")
        lines.append(f"{'function worker, warm':<22} {'RSS MiB':>8}   {'bare interpreter, idle':<24} {'RSS MiB':>8} {'ratio':>6}")
        for family, (worker, bare, command) in memory.workers.items():
            ratio = f"{worker / bare:.2f}x" if worker and bare else "-"
            lines.append(f"{family:<22} {_mib(worker):>8}   {command:<24} {_mib(bare):>8} {ratio:>6}")
    lines += [f"  {note}" for note in memory.notes]
    return "\n".join(lines)


def details(results: list[ModeResult]) -> str:
    """Returns what stands behind each figure: counts, seconds, stored events, errors."""
    lines = []
    for result in results:
        lines.append(f"{result.label} ({result.wall:.0f} s in all): {result.note}")
        if result.error:
            lines.append(f"    {result.error}")
        for batch in result.throughputs.values():
            if batch.error:
                lines.append(f"    {batch.workload}: no figure: {batch.error}")
            else:
                lines.append(f"    {batch.workload}: {batch.executions} executions checked in {batch.seconds:.2f} s, "
                             f"{batch.transitions:,} transitions, {batch.events:,} events stored "
                             f"({batch.events / batch.seconds:,.0f} events/s); warm-up {batch.warmup}")
        latency = result.latency
        if latency is not None:
            if latency.error or not latency.samples:
                lines.append(f"    latency: no figure: {latency.error or 'no event arrived live'}")
            else:
                lines.append(f"    latency: {latency.watchers} watchers, {len(latency.samples):,} live arrivals of "
                             f"{latency.expected:,} expected, mean {statistics.fmean(latency.samples):.1f} ms, "
                             f"max {max(latency.samples):.1f} ms")
            if latency.missing:
                lines.append(f"    LOST: {latency.missing:,} events never reached their watchers ({latency.stalled} "
                             f"watchers got nothing for {STALL_SECONDS} s before the end); p50/p99 count "
                             f"only what arrived")
    return "\n".join(lines)


def _git_head() -> str:
    try:
        return subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()[:90]
    except OSError:
        return "?"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s batches, W4 only (a smoke run)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each timed batch (sized by the warm-up)")
    parser.add_argument("--workers", default="1,2", help="worker counts of the distributed rows")
    parser.add_argument("--only", choices=("embedded", "distributed"), help="one mode only")
    parser.add_argument("--workloads", default="W4,W5", help="which of W4,W5,M5,D5 to time (M5, D5: Maps of W5)")
    parser.add_argument("--watchers", type=int, default=50, help="WebSocket clients watching one execution")
    parser.add_argument("--events", type=int, default=200, help="Pass states of the watched execution")
    parser.add_argument("--profile", action="store_true",
                        help="record each timed batch's executing process (Celery worker 0, or the embedded "
                             "driver) with py-spy and print where its CPU goes")
    parser.add_argument("--memory-runs", type=int, default=None,
                        help="executions run by the embedded web process between its memory figures (default "
                             "1000, 100 with --quick; 0: no memory figures)")
    parser.add_argument("--driver", help=argparse.SUPPRESS)
    options, _ = parser.parse_known_args(argv)   # `python -m bench` passes every module the same options
    if options.driver:
        return _driver(json.loads(options.driver))
    options.workloads = ["W4"] if options.quick else [w.strip().upper() for w in options.workloads.split(",")]
    unknown = [w for w in options.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {unknown[0]}: choose from {', '.join(WORKLOADS)}")
    options.seconds = 3.0 if options.quick else options.seconds
    if options.memory_runs is None:
        options.memory_runs = 100 if options.quick else 1000
    # A batch that has not ended by then reports what still runs (a broken worker fails fast).
    options.minimum, options.maximum, options.timeout = 8, 5000, 60 + 6 * options.seconds
    # SIGTERM ends the run through its finally blocks, which stop the clusters it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if options.profile:
        if WorkerProfiles.py_spy() is None:
            print("--profile needs py-spy: .venv/bin/pip install py-spy")
            return 2
        options.profile = Path(tempfile.mkdtemp(prefix="flowbench-bench-load-profile-"))
    print(f"bench.load at {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {_git_head()}")
    print(f"host: {os.cpu_count()} CPUs, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at start "
          f"(figures on a loaded 2-core machine halve)")
    if os.getloadavg()[0] > 1.5:
        print("WARNING: the machine is busy (load average above 1.5): the figures below will be low")
    for name in options.workloads:
        print(f"  {name}: {WORKLOADS[name]}")
    modes = [] if options.only == "distributed" else [run_embedded]
    if options.only != "embedded":
        modes += [lambda o, n=int(n): run_distributed(o, n) for n in options.workers.split(",") if n.strip()]
    results = []
    for mode in modes:
        began = time.monotonic()
        results.append(mode(options))
        results[-1].wall = time.monotonic() - began
    print()
    print(f"Persisted executions per second and state transitions per second (tr/s); live-event latency "
          f"to {options.watchers} WebSocket watchers")
    print(table(results, options.workloads, options.watchers))
    print(f"peer: {PEER_TEXT}: {PEER_TRANSITIONS_PER_SECOND:,} transitions/s")
    print()
    print(details(results))
    for result in results:
        if result.memory is not None:
            print()
            print(f"Memory (resident set size) of the embedded install's processes, beside their references")
            print(memory_table(result.memory))
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (this run's own processes count)")
    for result in results:
        if result.profile is not None:
            print()
            print("\n".join(result.profile.summaries()))
    failed = any(r.error or any(b.error for b in r.throughputs.values()) or (r.memory and r.memory.error)
                 or (r.latency and (r.latency.error or r.latency.missing)) for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
