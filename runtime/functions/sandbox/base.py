"""One worker process of one function version, and what every sandbox backend shares.

A `Sandbox` starts a worker (`start`), runs invocations on it one at a time (`invoke`) and kills
it with everything it started (`stop`). Backends only say how the process is launched and how
all of its processes are found and killed; the worker protocol, log capture, time and memory
limits live here once. Between invocations the worker is frozen (containment.py), as Lambda
freezes an execution environment: what a function left running gets no CPU until it is invoked
again (within FREEZE_AFTER of its response, off the caller's path: see containment.py).

The worker talks on two pipes of its own (requests in, framed responses out); its stdout and
stderr share a third pipe, read as log lines while the handler runs.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import struct
import subprocess
import time
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from ..api_bridge import BRIDGE_PORT, RELAY_FAMILIES
from .cgroups import CgroupHost
from .containment import Containment

__all__ = ["Sandbox", "SandboxSettings", "WorkerReply", "InitFailed"]

MAX_RESPONSE = 6291556
# Frames longer than this cannot come from the bootstrap (it refuses bodies over MAX_RESPONSE):
# the worker's protocol pipe was written by something else, so the worker is not trusted again.
MAX_FRAME = MAX_RESPONSE + 4096
INIT_TIMEOUT = 10.0          # Lambda's limit for the init phase
MEMORY_CHECK_INTERVAL = 0.02  # how often a running invocation's memory is checked (seconds)
CLOSE_GRACE = 1.0             # how long a worker that closed its response pipe has to exit
READ_CHUNK = 1 << 16          # bytes read from the response pipe at once (a pipe's default size)


def _batch_scheduling() -> None:
    """Makes the calling thread, and so every worker it forks, SCHED_BATCH: a worker woken by
    a request then does not preempt the thread running on that CPU (with 4 invocations in
    flight on 2 cores, W5 saw a host thread preempted by a worker 0.7 times per invocation,
    and while the one holding the GIL is off its CPU no host thread runs); it runs at once on
    an idle CPU, otherwise when that thread blocks or its time slice ends. Its share of the
    CPU is an ordinary process's."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (OSError, AttributeError):
        pass   # not Linux: ordinary scheduling


# Workers are started from these long-lived threads, never from the caller's: a worker dies with
# the thread that forked it (bwrap's --die-with-parent and the keeper use PR_SET_PDEATHSIG,
# which follows the parent *thread*), and callers such as Map iterations are short-lived threads.
# Their scheduling policy is the workers' (see _batch_scheduling).
SPAWNER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="flowbench-worker-spawner",
                             initializer=_batch_scheduling)


@dataclass
class SandboxSettings:
    """Limits and identity shared by a runner's sandboxes."""

    work_dir: str                 # private, runner-owned directory (bootstrap copies, worker dirs)
    log_limit: int = 1 << 20      # bytes of log kept per invocation
    max_processes: int = 256      # processes + threads per worker (RLIMIT_NPROC, pids.max)
    max_open_files: int = 1024
    cgroups: CgroupHost | None = None   # where worker cgroups are made; None: none are
    sdk_dirs: dict = field(default_factory=dict)   # runtime family -> its AWS SDK's directory
    api_socket: str | None = None   # the host's way to Flowbench's API (api_bridge.py), if any


@dataclass
class WorkerReply:
    """What a worker did with one request.

    `kind`: "ok" (body is JSON text), "bytes" (raw bytes the handler returned), "error" (body is
    Lambda's error object as JSON), "fatal-error" (the same, and the worker exits), "oom",
    "timeout", "exit" (the worker died: `exit_status` says how, as Lambda words it), "protocol"
    (the worker broke the protocol).
    """

    kind: str
    body: bytes = b""
    exit_status: str = ""


class InitFailed(Exception):
    """The worker did not get ready: `reply` says why ("init-error" with Lambda's error object
    as body, "timeout", "oom", "exit", "protocol"); `init_ms` is how long it tried."""

    def __init__(self, reply: "WorkerReply", init_ms: float):
        super().__init__(reply.kind)
        self.reply = reply
        self.init_ms = init_ms


class LogCapture:
    """Splits the worker's output into lines, passes each to `on_line` as soon as it is
    complete, and stops keeping output past `limit` bytes (saying so once)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.on_line: Callable[[str], None] = lambda line: None
        self.kept = 0
        self.truncated = False
        self.pending = b""

    def feed(self, data: bytes) -> None:
        if self.truncated:
            return
        if self.kept + len(data) > self.limit:
            data = data[: max(self.limit - self.kept, 0)]
            self.truncated = True
        self.kept += len(data)
        data = self.pending + data
        *lines, self.pending = data.split(b"\n")
        for line in lines:
            self.on_line(line.decode("utf-8", "replace"))
        if self.truncated:
            self.flush()
            self.on_line(f"[Flowbench: log output truncated after {self.limit} bytes]")

    def flush(self) -> None:
        if self.pending:
            line, self.pending = self.pending, b""
            self.on_line(line.decode("utf-8", "replace"))

    def reset(self, on_line: Callable[[str], None]) -> None:
        self.on_line = on_line
        self.kept = 0
        self.truncated = False


class Sandbox(ABC):
    """A worker process for one function version, in one sandbox backend.

    Not thread-safe: the runner hands a sandbox to one invocation at a time.
    """

    name = "base"
    # Set by the runner when env holds an execution role's credentials: when they expire (a Unix
    # time) and the values its logs must never show.
    credentials_expire: float = float("inf")
    secrets: tuple = ()

    def __init__(self, spec, runtime, code_dir: str, settings: SandboxSettings, env: dict,
                 standby: bool = False):
        # A standby worker is started for a shape of function (runtime, memory, /tmp size,
        # network) before its function is known, with an empty code_dir of its own; assume()
        # then makes it one function's worker (see the runner's standby pool).
        self.standby = standby
        self.owns_code_dir = standby   # a standby's code folder goes when it stops
        self.spec = spec
        self.runtime = runtime
        self.code_dir = code_dir
        self.settings = settings
        self.env = env
        self.process: subprocess.Popen | None = None
        self.worker_pid: int | None = None
        self.invocations = 0          # how many this worker has run (warm reuse count)
        self.last_used = 0.0
        self._buffer = bytearray()
        # Responses are read into this one buffer: a fresh one each read would cost the
        # allocator a map, a remap and an unmap (three system calls) per invocation.
        self._chunk = memoryview(bytearray(READ_CHUNK))
        self._logs = LogCapture(settings.log_limit)
        self.containment = Containment(None)
        self._fds: list[int] = []

    def api_bridge_env(self, socket_path: str) -> dict:
        """Returns the variables that make a worker whose network is off reach Flowbench's API
        (and nothing else) through the socket at `socket_path`, as the worker sees it: its relay
        and AWS_ENDPOINT_URL pointing at it. Empty when the function's network is on (its SDK
        reaches the API's own address), without credentials, when the function sets its own
        endpoint, or for a runtime whose worker runs no relay."""
        if (self.spec.network or "AWS_ENDPOINT_URL" not in self.env or "AWS_ENDPOINT_URL" in self.spec.env
                or self.runtime.family not in RELAY_FAMILIES):
            return {}
        return {"FLOWBENCH_API_SOCKET": socket_path, "FLOWBENCH_API_PORT": str(BRIDGE_PORT),
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{BRIDGE_PORT}"}

    # --- what a backend provides -------------------------------------------------------------

    @abstractmethod
    def worker_env(self) -> dict:
        """Returns the worker's whole environment: self.env plus what the backend adds (where the
        code, runtime, packages and SDK are; the API relay's variables)."""

    def worker_args(self, request_fd: int, response_fd: int) -> list[str]:
        """Returns the bootstrap's arguments: the protocol's pipes, and "standby" for a standby
        worker."""
        return [str(request_fd), str(response_fd), *(["standby"] if self.standby else [])]

    @abstractmethod
    def command(self, request_fd: int, response_fd: int) -> tuple[list[str], dict]:
        """Returns the argv that starts the worker and the keyword arguments for Popen beyond
        the pipes: env (self.env plus the backend's paths), cwd, user, group, pass_fds; and
        adopt=True when its first process stops itself for the host to move it into
        `self.containment.cgroup` (see Containment.adopt). Otherwise the worker's first process
        must join the cgroup itself, before it starts any other."""

    @abstractmethod
    def find_worker_pid(self) -> int | None:
        """Returns the host pid of the worker process itself (for memory figures)."""

    @abstractmethod
    def tree_root(self) -> int | None:
        """Returns the pid of the sandbox's own process whose descendants are exactly the
        worker's processes (its namespace's init, its keeper)."""

    @abstractmethod
    def kill_all(self) -> None:
        """Kills the worker and every process it started, and returns once none is left."""

    def cleanup(self) -> None:
        """Removes what the backend created for this worker (called after kill_all)."""

    @classmethod
    def packages_root(cls, spec) -> str:
        """Returns where the worker sees the version's installed dependencies (`spec.packages`,
        mounted read-only); "" when it has none."""
        return spec.packages

    @classmethod
    def layers_root(cls, spec) -> str:
        """Returns where the worker sees its layers (`spec.layers`): /opt where the backend can
        mount it; "" when it has none."""
        return spec.layers

    def package_env(self) -> dict:
        """Returns the variables that tell the worker's bootstrap where its layers and
        dependencies are, in Lambda's order (the code, then layers, then the rest):
        LAMBDA_LAYERS_ROOT and LAMBDA_PACKAGES_ROOT (the Python worker puts their `python/`
        folders on sys.path after the code) and NODE_PATH (for require)."""
        env, node_path = {}, []
        layers, packages = self.layers_root(self.spec), self.packages_root(self.spec)
        if layers:
            env["LAMBDA_LAYERS_ROOT"] = layers
            major = self.runtime.version[0] if self.runtime.family == "nodejs" else 0
            node_path += [f"{layers}/nodejs/node{major}/node_modules", f"{layers}/nodejs/node_modules"]
        if packages:
            env["LAMBDA_PACKAGES_ROOT"] = packages
            node_path.append(f"{packages}/nodejs/node_modules")
        if node_path:
            env["NODE_PATH"] = ":".join(node_path)
        return env

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, on_line: Callable[[str], None], timeout: float = INIT_TIMEOUT,
              memory_limit_mb: int | None = None) -> float:
        """Starts the worker and waits for its handler to load; returns the init duration in ms.

        Lines the module prints while it loads go to `on_line`. Raises InitFailed (after
        stopping the worker) when the handler cannot be loaded, the worker dies, outgrows
        `memory_limit_mb` or is not ready within `timeout` seconds.
        """
        started = time.perf_counter()
        self.containment = Containment(self._new_cgroup(memory_limit_mb or self.spec.memory))
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        log_r, log_w = os.pipe()
        passed = [request_r, response_w]
        try:
            argv, popen_args = self.command(request_r, response_w)
            passed += popen_args.pop("pass_fds", ())
            adopt = popen_args.pop("adopt", False)
            self.process = SPAWNER.submit(
                subprocess.Popen, argv, stdin=subprocess.DEVNULL, stdout=log_w, stderr=log_w,
                pass_fds=passed, close_fds=True, process_group=0, **popen_args).result()
            if adopt:
                self.containment.adopt(self.process.pid)
        except BaseException:
            for fd in (request_w, response_r, log_r):
                os.close(fd)
            if self.process is not None:
                self.process.kill()
                self.process.wait()
                self.process = None
            self.containment.kill()
            self.containment.close()
            self.cleanup()
            raise
        finally:
            for fd in [log_w, *passed]:
                os.close(fd)
        self._request_w, self._response_r, self._log_r = request_w, response_r, log_r
        os.set_blocking(response_r, False)
        os.set_blocking(log_r, False)
        self._pidfd = os.pidfd_open(self.process.pid)
        self._fds = [request_w, response_r, log_r, self._pidfd]
        self._poll = select.poll()
        for fd in (response_r, log_r, self._pidfd):
            self._poll.register(fd, select.POLLIN)
        self._logs.reset(on_line)
        self.worker_pid = None
        deadline = time.monotonic() + min(timeout, INIT_TIMEOUT)
        reply = self._wait(deadline, memory_limit_mb and memory_limit_mb * 1024)
        init_ms = (time.perf_counter() - started) * 1000
        if reply.kind == "ready":
            self._attach()
            self.containment.freeze_soon()
            self.last_used = time.monotonic()
            return init_ms
        self.stop()
        raise InitFailed(reply, init_ms)

    def assume(self, spec, env: dict, code_dir: str, on_line: Callable[[str], None],
               timeout: float = INIT_TIMEOUT) -> float:
        """Makes this standby worker the worker of `spec` (whose shape it was started for) with
        `env`: links the version's code from `code_dir` into its own, sends the environment and
        waits for the handler to load; returns the init duration in ms. Raises InitFailed (after
        stopping the worker) as start() does."""
        started = time.perf_counter()
        self.spec, self.env, self.standby = spec, env, False
        link_tree(code_dir, self.code_dir)
        frame = json.dumps({"env": self.worker_env()}).encode()
        reply = self._exchange(frame, time.monotonic() + min(timeout, INIT_TIMEOUT), on_line,
                               spec.memory)
        init_ms = (time.perf_counter() - started) * 1000
        if reply.kind == "ready":
            return init_ms
        self.stop()
        raise InitFailed(reply, init_ms)

    def _new_cgroup(self, memory_mb: int):
        """Returns a cgroup for the worker, or None where the host gives none."""
        host = self.settings.cgroups
        if host is None:
            return None
        try:
            return host.new_worker(memory_mb << 20, self.settings.max_processes)
        except OSError:
            return None   # the kernel refused (a limit on cgroups): the fallback still holds

    def _attach(self) -> None:
        self.worker_pid = self.find_worker_pid()
        self.containment.attach(self.tree_root(), self.worker_pid)

    def invoke(self, request: bytes, deadline: float, on_line: Callable[[str], None],
               memory_limit_mb: int) -> WorkerReply:
        """Sends one framed request and returns the worker's reply, streaming log lines to
        `on_line` meanwhile. `deadline` is a time.monotonic() value; when it passes, or the
        worker grows past `memory_limit_mb`, the worker is stopped and the reply says why."""
        self.invocations += 1
        reply = self._exchange(request, deadline, on_line, memory_limit_mb)
        if reply.kind in ENDS_WORKER:
            self.memory_kb()   # the figures it reaches last, kept for the report
            self.stop()
        return reply

    def _exchange(self, frame: bytes, deadline: float, on_line: Callable[[str], None],
                  memory_limit_mb: int) -> WorkerReply:
        """Thaws the worker, sends it one frame and returns its reply (see `_wait`), its log
        lines going to `on_line` meanwhile; a worker that lives on after it is frozen soon."""
        self._logs.reset(on_line)
        self.containment.resume()
        try:
            # Two parts in one call: the request is not copied behind its length.
            os.writev(self._request_w, (struct.pack(">I", len(frame)), frame))
        except OSError:
            pass  # the worker died; _wait reports how
        reply = self._wait(deadline, memory_limit_mb * 1024)
        self.last_used = time.monotonic()
        if reply.kind not in ENDS_WORKER:
            self.containment.freeze_soon()
        return reply

    def stop(self) -> None:
        """Kills the worker and everything it started; safe to call twice."""
        if self.process is None:
            return
        try:
            self.containment.halt()   # stopped processes could not exit
            self.kill_all()
            self.containment.kill()
        finally:
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self._drain_logs()
            self._logs.flush()
            for fd in self._fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._fds = []
            self.process = None
            self.containment.close()
            self.cleanup()
            if self.owns_code_dir:
                shutil.rmtree(self.code_dir, ignore_errors=True)

    @property
    def alive(self) -> bool:
        """Returns whether the worker process is still running."""
        return self.process is not None and self.process.poll() is None

    def memory_kb(self, exact: bool = True, thorough: bool = False) -> tuple[int, int]:
        """Returns the worker's (current, peak) memory in kB: with a cgroup, all its processes
        and its files in memory; otherwise see Containment.memory_kb."""
        if self.containment.worker is None and self.process is not None:
            self._attach()
        return self.containment.memory_kb(exact, thorough)

    def _over_limit(self, limit_kb: int, peak: bool = False) -> bool:
        """Returns whether the worker went past its memory: where a cgroup enforces it, whether
        the kernel killed one of its processes for it (one pread); otherwise whether its current
        (or `peak`) size is past `limit_kb`."""
        if self.containment.oom_killed():
            return True
        if not self.containment.polls_memory:
            return False
        return self.memory_kb(exact=peak, thorough=True)[1 if peak else 0] > limit_kb

    # --- the protocol ------------------------------------------------------------------------

    def _wait(self, deadline: float, memory_limit: int | None) -> WorkerReply:
        """Returns the next reply frame, reading log output as it comes; or why none came:
        "timeout", "oom", "exit" (the worker ended), "protocol" (it broke the protocol).

        `memory_limit` (kB) is checked every MEMORY_CHECK_INTERVAL (see `_over_limit`).
        """
        ended = closed = logs_ready = False
        containment = self.containment
        next_check = time.monotonic() + MEMORY_CHECK_INTERVAL
        while True:
            frame = self._take_frame()
            if frame is not None:
                # The worker flushed its output before answering, so what it printed is in the
                # log pipe already, and poll reported it if so.
                if logs_ready:
                    self._drain_logs()
                if frame.kind != "ready":
                    self._logs.flush()
                return WorkerReply("oom") if containment.oom_killed() else frame
            if len(self._buffer) >= 5 and (bytes(self._buffer[:1]) not in FRAME_KINDS or
                                           struct.unpack(">I", self._buffer[1:5])[0] > MAX_FRAME):
                return WorkerReply("protocol")
            if ended:
                while self._read_responses():
                    pass
                frame = self._take_frame()
                self._drain_logs()
                self._logs.flush()
                if memory_limit and self._over_limit(memory_limit, peak=True):
                    return WorkerReply("oom")
                if frame is not None:
                    return frame
                return WorkerReply("exit", exit_status=_exit_status(self.process.wait()))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return WorkerReply("protocol" if closed else "timeout")
            wait = remaining if memory_limit is None else min(remaining, MEMORY_CHECK_INTERVAL)
            events = self._poll.poll(wait * 1000)
            if memory_limit is not None and (not events or time.monotonic() >= next_check):
                next_check = time.monotonic() + MEMORY_CHECK_INTERVAL
                if self._over_limit(memory_limit):
                    return WorkerReply("oom")
            logs_ready = False
            for fd, _ in events:
                if fd == self._log_r:
                    logs_ready = True
                    self._drain_logs()
                elif fd == self._pidfd:
                    ended = True
                elif self._read_responses() is False and not closed:
                    # The response pipe closed: the worker is dying (its sandbox takes a moment
                    # to exit) or closed the pipe itself, then it has a moment to exit.
                    closed = True
                    self._poll.unregister(self._response_r)
                    deadline = min(deadline, time.monotonic() + CLOSE_GRACE)

    def _read_responses(self) -> bool | None:
        """Reads once from the response pipe (poll says when there is more); returns True when
        it read something, False at end of file, None when nothing is there yet."""
        try:
            count = os.readv(self._response_r, (self._chunk,))
        except BlockingIOError:
            return None
        except OSError:
            return False
        self._buffer += self._chunk[:count]
        return count > 0

    def _take_frame(self) -> WorkerReply | None:
        buffer = self._buffer
        if len(buffer) < 5:
            return None
        (size,) = struct.unpack(">I", buffer[1:5])
        if len(buffer) < 5 + size:
            return None
        kind, body = bytes(buffer[:1]), bytes(buffer[5:5 + size])
        del buffer[:5 + size]
        return WorkerReply(FRAME_KINDS.get(kind, "protocol"), body)

    def _drain_logs(self) -> None:
        while True:
            try:
                chunk = os.read(self._log_r, 1 << 16)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self._logs.feed(chunk)


# Replies after which the worker is not used again.
ENDS_WORKER = frozenset(("timeout", "oom", "exit", "protocol", "fatal-error"))
FRAME_KINDS = {b"I": "ready", b"F": "init-error", b"R": "ok", b"B": "bytes", b"E": "error",
               b"D": "fatal-error", b"M": "oom"}


def _exit_status(returncode: int) -> str:
    """Returns how a process ended, in the words Lambda uses ("exit status 1",
    "signal: killed")."""
    if returncode < 0:
        names = {signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault",
                 signal.SIGABRT: "aborted", signal.SIGTERM: "terminated"}
        return f"signal: {names.get(-returncode, signal.Signals(-returncode).name.lower())}"
    if returncode > 128:  # bwrap reports the sandboxed process's signal as 128 + n
        return _exit_status(128 - returncode)
    return f"exit status {returncode}"


def link_tree(source: str, target: str) -> None:
    """Fills the empty directory `target` with `source`'s files as hard links (copies where the
    two are on different file systems) and its directories and symbolic links as they are."""
    for folder, dirs, files in os.walk(source):
        into = os.path.join(target, os.path.relpath(folder, source))
        for name in dirs:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                os.symlink(os.readlink(path), os.path.join(into, name))
            else:
                os.mkdir(os.path.join(into, name), 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                os.symlink(os.readlink(path), os.path.join(into, name))
                continue
            try:
                os.link(path, os.path.join(into, name))
            except OSError:
                shutil.copy2(path, os.path.join(into, name))
