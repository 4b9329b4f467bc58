"""`FunctionRunner`: invokes functions on warm, sandboxed worker processes.

Workers belong to one function version (FunctionSpec.version_key). An invocation takes an idle
worker of its version, or starts one (a cold start, measured as Init Duration) while the
function is under its concurrency limit, or is refused with TooManyRequestsException. Workers
are frozen between invocations; those idle for `idle_timeout` seconds are stopped by a
housekeeping thread, and `retire` stops a deleted or redeployed function's at once. The runner
is thread-safe: one lock guards the pools; invocations run outside it.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

import orjson

from .api_bridge import ApiBridge
from .invocation import (FunctionError, Invocation, SandboxUnavailable,
                         TooManyRequestsException, billed, end_line, error_log_lines,
                         report_line, runtime_error, start_line, timeout_error, timestamp)
from .runtimes import BOOTSTRAP_DIR, Runtime, resolve_runtime
from .sandbox import (BACKENDS, InitFailed, Sandbox, SandboxSettings, WorkerReply,
                      find_cgroups, sandbox_problem)
from .sandbox.plain import UIDS
from .spec import FunctionSpec, file_content
from .standby import Shape, StandbyPool
from .workdir import WorkDir

__all__ = ["FunctionRunner", "InvalidRequestContentException", "RequestTooLargeException",
           "lambda_environment", "make_readable"]

MAX_REQUEST = 6291456  # bytes of event JSON Lambda accepts in a synchronous Invoke

# Variables Lambda sets itself; a function's own env cannot override them.
RESERVED_ENV = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION",
                "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_HANDLER",
                "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
                "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "FLOWBENCH_SDK_DIR",
                "FLOWBENCH_API_SOCKET", "FLOWBENCH_API_PORT")
# The variables of a worker's credentials that never reach a log: replaced there by this.
SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
REDACTED = "****"
WORKER_PATH = "/usr/local/bin:/usr/bin:/bin"
# A warm worker is replaced when its role's credentials would expire before this many seconds
# after the end of its function's timeout.
CREDENTIALS_MARGIN = 60


class InvalidRequestContentException(FunctionError):
    """The event cannot be sent to a function (it is not JSON-serialisable)."""

    error_type = "InvalidRequestContentException"


class RequestTooLargeException(FunctionError):
    """The event is larger than Lambda accepts for a synchronous invocation (6 MB)."""

    error_type = "RequestTooLargeException"


def lambda_environment(spec: FunctionSpec, runtime: Runtime, handler: str, region: str,
                       log_stream: str) -> dict:
    """Returns a worker's environment: the function's variables, then Lambda's own; nothing
    of the host's. The backend adds LAMBDA_TASK_ROOT and LAMBDA_RUNTIME_DIR."""
    env = {"PATH": WORKER_PATH, "LANG": "C.UTF-8"}
    env.update({k: str(v) for k, v in spec.env.items() if k not in RESERVED_ENV})
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime.id}",
        "_HANDLER": handler,
        "TZ": ":UTC",
    })
    return env


class _VersionPool:
    """The workers of one function version and the code directory they share."""

    def __init__(self, spec: FunctionSpec, runtime: Runtime, code_dir: str):
        self.spec = spec
        self.runtime = runtime
        self.code_dir = code_dir
        self.idle: list[Sandbox] = []
        self.busy = 0
        self.retired = False   # its function was deleted or redeployed: workers go when done


class FunctionRunner:
    """Runs functions as AWS Lambda does, on warm workers in a sandbox.

    `backend` is "bubblewrap" (the default) or "plain", which isolates far less (see
    sandbox/plain.py) and runs only when chosen. `backend_name` says which one is in use;
    where bubblewrap does not work, `unavailable` says why and every invoke raises
    SandboxUnavailable: the runner never falls back to plain by itself. `cgroups=False` leaves
    cgroups unused even where the host gives them (see sandbox/containment.py for what holds
    then). `capacity` is how many invocations this runner runs at once, all functions together
    (each is a process): an invocation beyond it waits for one to end, as a request waits for a
    free server, and never fails for it. A spec's `reserved_concurrency` is a limit of that
    function (throttled past it: TooManyRequestsException), as in Lambda. Workers idle for `idle_timeout` seconds are stopped. `log_limit` caps
    the log bytes kept per invocation; `max_processes` the processes and threads of one worker.
    `sdk_dirs` maps a runtime family ("python") to the directory of the AWS SDK its workers can
    import (runtime/functions/sdk), read-only. `api_url` is Flowbench's API, which workers whose
    network is off still reach (api_bridge.py). Use it as a context manager, or call `close()`; one
    runner serves every thread of a process.
    """

    def __init__(self, backend: str = "bubblewrap", *, cgroups: bool = True,
                 idle_timeout: float = 300.0, capacity: int = 64,
                 region: str = "us-east-1", account_id: str = "000000000000",
                 log_limit: int = 1 << 20, max_processes: int = 256,
                 sdk_dirs: dict[str, str] | None = None, api_url: str | None = None,
                 standby: int = 0):
        if backend not in BACKENDS:
            raise ValueError(f"Unknown sandbox backend {backend!r}: use "
                             f"{' or '.join(BACKENDS)}")
        self.backend_name = backend
        self.unavailable = sandbox_problem(backend)
        self._sandbox_class = BACKENDS[backend]
        self.idle_timeout = idle_timeout
        if capacity < 1:
            raise ValueError("a runner's capacity is at least 1")
        self.capacity = capacity
        self._running = 0   # invocations holding one of the capacity's places
        self._queued = 0    # invocations waiting for one of those places
        self.region = region
        self.account_id = account_id
        # Workers under uids of their own must reach their code: they may pass through the
        # directories on the way, never list them (code directories have unguessable names).
        shared = UIDS.enabled
        self._dir = WorkDir(shared_with_workers=shared)
        self._work_dir = self._dir.path
        runtime_dir = os.path.join(self._work_dir, "runtime")
        shutil.copytree(BOOTSTRAP_DIR, runtime_dir,
                        ignore=shutil.ignore_patterns("__pycache__"))
        make_readable(runtime_dir)
        os.mkdir(os.path.join(self._work_dir, "code"), 0o711 if shared else 0o700)
        self._settings = SandboxSettings(self._work_dir, log_limit=log_limit,
                                         max_processes=max_processes,
                                         cgroups=find_cgroups() if cgroups else None,
                                         sdk_dirs=dict(sdk_dirs or {}))
        self._bridge = None
        if api_url:
            self._bridge = ApiBridge(os.path.join(self._work_dir, "api.sock"), api_url)
            self._bridge.start()
            self._settings.api_socket = self._bridge.path
        self._lock = threading.Condition(threading.Lock())   # never taken twice by a thread
        self._pools: dict[str, _VersionPool] = {}
        self._retiring: set[_VersionPool] = set()   # retired pools with invocations running
        self._busy_by_name: dict[str, int] = {}
        self._closed = False
        self._housekeeper: threading.Thread | None = None
        self._runtimes: dict[str, Runtime] = {}
        self._arn_json: dict[str, bytes] = {}  # each ARN's JSON text, encoded once
        self._standby = StandbyPool(standby, self._start_standby)

    def _resolve(self, runtime_id: str) -> Runtime:
        runtime = self._runtimes[runtime_id] = resolve_runtime(runtime_id)
        return runtime

    @property
    def containment(self) -> str:
        """Returns what holds the workers' processes, memory and CPU here, in a few words."""
        cgroups = self._settings.cgroups
        if cgroups is not None:
            return cgroups.describe()
        return ("no cgroup: frozen with signals, memory summed over the worker's processes"
                + (", tmpfs sized" if self.backend_name == "bubblewrap" else ""))

    # --- public ------------------------------------------------------------------------------

    def invoke(self, spec: FunctionSpec, event: Any = None,
               on_log: Callable[[str], None] | None = None, *, timeout: float | None = None,
               arn: str | None = None, request_id: str | None = None,
               client_context: dict | None = None, event_json: bytes | None = None) -> Invocation:
        """Runs `spec`'s handler with `event` and returns the Invocation.

        Each log line goes to `on_log` as soon as the function writes it. `timeout` (seconds)
        can shorten the function's own timeout for this call (a Task's TimeoutSeconds); the
        Invocation's `timed_out` then says it ran out. `client_context` (Invoke's ClientContext,
        an object) is the handler's context.client_context. `event_json` is the event already
        encoded as JSON text, for a caller that has it (a Task's input, as its history records
        it): it is sent as it is, instead of encoding `event`. Raises SandboxUnavailable,
        RuntimeNotAvailable, TooManyRequestsException or InvalidRequestContentException instead
        of running.
        """
        if self.unavailable:
            raise SandboxUnavailable(self.unavailable)
        runtime = self._runtimes.get(spec.runtime) or self._resolve(spec.runtime)
        if event_json is None:
            try:
                event_json = json.dumps(event).encode()
            except (TypeError, ValueError) as exc:
                raise InvalidRequestContentException(f"Could not serialize the event: {exc}")
        if len(event_json) > MAX_REQUEST:
            raise RequestTooLargeException(
                f"Request must be smaller than {MAX_REQUEST} bytes for the InvokeFunction "
                "operation")
        context_json = b"null" if client_context is None else json.dumps(client_context).encode()
        request_id = request_id or new_request_id()
        arn = arn or (f"arn:aws:lambda:{self.region}:{self.account_id}:function:{spec.name}")
        inv = Invocation(request_id, memory_mb=spec.memory, function_name=spec.name,
                         version=spec.version, runtime=runtime.id,
                         backend=self.backend_name)
        lines = inv.log_lines
        hidden: list[str] = []   # the worker's secret and session token, once it is known

        def emit(line: str) -> None:
            for secret in hidden:
                if secret in line:
                    line = line.replace(secret, REDACTED)
            lines.append(line)
            if on_log is not None:
                on_log(line)

        seconds = spec.timeout if timeout is None else min(spec.timeout, timeout)
        pool, sandbox = self._acquire(spec, runtime)
        try:
            cold = sandbox is None
            standby = None
            if cold:
                env, expires, secrets = self._environment(pool)
                standby = self._standby.take(spec, runtime)
                sandbox = standby or self._sandbox_class(spec, runtime, pool.code_dir, self._settings, env)
                sandbox.credentials_expire, sandbox.secrets = expires, secrets
            hidden.extend(sandbox.secrets)
            if cold:
                emit(f"INIT_START Runtime Version: {runtime.family}:"
                     f"{runtime.id.removeprefix(runtime.family).lstrip('.')}")
                try:
                    inv.init_ms = round(sandbox.start(emit, seconds, spec.memory) if standby is None
                                        else sandbox.assume(spec, env, pool.code_dir, emit, seconds), 2)
                except InitFailed as failure:
                    sandbox = None
                    inv.init_ms = round(failure.init_ms, 2)
                    self._fail(inv, spec, runtime, failure.reply, seconds, emit)
            emit(start_line(request_id, spec.version))
            if sandbox is not None:
                self._run(sandbox, spec, inv, event_json, arn, seconds, emit, context_json)
            emit(end_line(request_id))
            emit(report_line(inv))
        finally:
            self._release(pool, sandbox)
        inv.logs = "\n".join(lines) + "\n"
        return inv

    def workers(self) -> dict[str, tuple[int, int]]:
        """Returns {version_key: (idle workers, busy invocations)} for every live version."""
        with self._lock:
            return {key: (len(p.idle), p.busy) for key, p in self._pools.items()}

    def retire(self, name: str, namespace: str = "", version: str | None = None) -> int:
        """Stops the workers of function `name` in `namespace` (deleted, or redeployed: then
        `version` "$LATEST" names the workers of the code it replaced) and returns how many idle
        ones it stopped; busy ones finish their invocation, then stop. A later invoke starts afresh."""
        doomed = []
        with self._lock:
            for key, pool in list(self._pools.items()):
                if (pool.spec.namespace, pool.spec.name) == (namespace, name) and version in (None, pool.spec.version):
                    doomed += pool.idle
                    pool.idle = []
                    pool.retired = True
                    del self._pools[key]
                    if pool.busy:
                        self._retiring.add(pool)
                    else:
                        shutil.rmtree(pool.code_dir, ignore_errors=True)
        for sandbox in doomed:
            sandbox.stop()
        return len(doomed)

    def retire_idle(self, older_than: float | None = None) -> int:
        """Stops workers idle for more than `older_than` seconds (default: the runner's
        idle_timeout) and returns how many it stopped."""
        limit = self.idle_timeout if older_than is None else older_than
        now = time.monotonic()
        doomed = []
        with self._lock:
            for pool in self._pools.values():
                keep = [s for s in pool.idle if now - s.last_used <= limit]
                doomed += [s for s in pool.idle if now - s.last_used > limit]
                pool.idle = keep
            self._drop_empty_pools()
        for sandbox in doomed:
            sandbox.stop()
        return len(doomed) + self._standby.retire_unused(limit)

    def close(self) -> None:
        """Stops every idle worker now and every busy one when its invocation ends."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            doomed = [s for p in self._pools.values() for s in p.idle]
            for pool in self._pools.values():
                pool.idle = []
            self._lock.notify_all()
        for sandbox in doomed:
            sandbox.stop()
        self._standby.close()
        if self._bridge is not None:
            self._bridge.close()
        with self._lock:
            self._drop_empty_pools()
            self._remove_work_dir_when_unused()

    def __enter__(self) -> "FunctionRunner":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- one invocation ----------------------------------------------------------------------

    def _run(self, sandbox: Sandbox, spec: FunctionSpec, inv: Invocation, event_json: bytes,
             arn: str, seconds: float, emit: Callable[[str], None], context_json: bytes = b"null") -> None:
        arn_json = self._arn_json.get(arn)
        if arn_json is None:
            arn_json = self._arn_json[arn] = json.dumps(arn).encode()
        request = b'{"id":"%s","deadline":%d,"arn":%s,"client_context":%s,"event":%s}' % (
            inv.request_id.encode(), int(time.time() * 1000 + spec.timeout * 1000),
            arn_json, context_json, event_json)
        started = time.perf_counter()
        reply = sandbox.invoke(request, time.monotonic() + seconds, emit, spec.memory)
        inv.duration_ms = round((time.perf_counter() - started) * 1000, 2)
        inv.billed_ms = billed(inv.duration_ms)
        # A sub-millisecond call cannot have grown much past what the worker holds after it,
        # so it skips the exact (and 7x dearer) peak read.
        inv.max_memory_mb = -(-sandbox.memory_kb(exact=inv.duration_ms >= 1)[1] // 1024)
        if reply.kind == "ok":
            inv.raw_payload = reply.body
            inv.payload = json_value(reply.body)
        elif reply.kind == "bytes":
            inv.raw_payload = reply.body
            try:
                inv.payload = json_value(reply.body)
            except ValueError:
                inv.payload = reply.body.decode("utf-8", "replace")
        else:
            self._fail(inv, spec, sandbox.runtime, reply, seconds, emit)

    def _fail(self, inv: Invocation, spec: FunctionSpec, runtime: Runtime, reply: WorkerReply,
              seconds: float, emit: Callable[[str], None]) -> None:
        """Sets the invocation's error from a reply that is not a response, and logs it as the
        AWS runtime would."""
        kind, request_id = reply.kind, inv.request_id
        if kind == "exit" and any("heap out of memory" in line for line in inv.log_lines[-20:]):
            kind = "oom"  # V8 aborts when the heap reaches --max-old-space-size
        if kind in ("error", "init-error", "fatal-error"):
            inv.error = json.loads(reply.body)
            for line in error_log_lines(inv.error, runtime.family, request_id):
                emit(line)
        elif kind == "timeout":
            inv.timed_out = True
            inv.duration_ms = round(seconds * 1000, 2)
            inv.billed_ms = billed(inv.duration_ms)
            inv.error = timeout_error(request_id, seconds)
            emit(f"{timestamp()} {request_id} Task timed out after {seconds:.2f} seconds")
        else:
            if kind == "oom":
                error_type, detail = ("Runtime.OutOfMemory",
                                      "Runtime exited with error: signal: killed")
                inv.max_memory_mb = spec.memory
            elif kind != "exit":
                error_type, detail = ("Runtime.ExitError", "Runtime exited with error: "
                                      "the worker broke the runtime protocol")
            elif reply.exit_status == "exit status 0":
                error_type, detail = ("Runtime.ExitError",
                                      "Runtime exited without providing a reason")
            else:
                error_type, detail = ("Runtime.ExitError",
                                      f"Runtime exited with error: {reply.exit_status}")
            inv.error = runtime_error(request_id, error_type, detail)
            emit(inv.error["errorMessage"])
            emit(error_type)

    # --- pools ---------------------------------------------------------------------------

    def _acquire(self, spec: FunctionSpec, runtime: Runtime):
        """Returns (pool, idle sandbox or None for a cold start), counting the call as busy."""
        with self._lock:
            while True:
                if self._closed:
                    raise FunctionError("The function runner is closed")
                busy = self._busy_by_name.get(spec.function_key, 0)
                if spec.reserved_concurrency is not None and busy >= spec.reserved_concurrency:
                    raise TooManyRequestsException("Rate Exceeded.")
                if self._running < self.capacity:
                    break
                self._queued += 1      # at capacity: wait for an invocation to end
                try:
                    self._lock.wait()
                finally:
                    self._queued -= 1
            pool = self._pools.get(spec.version_key)
            if pool is None:
                pool = self._pools[spec.version_key] = _VersionPool(
                    spec, runtime, self._write_code(spec))
            self._running += 1
            self._busy_by_name[spec.function_key] = busy + 1
            pool.busy += 1
            sandbox = pool.idle.pop() if pool.idle else None
        # Checked outside the lock: whether the worker lives is a system call, which lets
        # other threads run (and queue on the lock) meanwhile.
        needed = time.time() + spec.timeout + CREDENTIALS_MARGIN
        while sandbox is not None:
            if sandbox.alive and sandbox.credentials_expire >= needed:
                return pool, sandbox
            sandbox.stop()  # died while idle (a background thread exited it), or its
                            # credentials would expire during this invocation
            with self._lock:
                sandbox = pool.idle.pop() if pool.idle else None
        return pool, None

    def _release(self, pool: _VersionPool, sandbox: Sandbox | None) -> None:
        with self._lock:
            pool.busy -= 1
            self._busy_by_name[pool.spec.function_key] -= 1
            self._running -= 1
            if self._queued:
                # Woken only when a caller waits for capacity: the housekeeper (which waits on
                # the same condition) sleeps until an idle worker may be due, and close() wakes it.
                self._lock.notify_all()
            keep = (sandbox is not None and sandbox.process is not None and not self._closed
                    and not pool.retired)
            if keep:
                pool.idle.append(sandbox)
                self._start_housekeeper()
            last_of_retired = pool.retired and not pool.busy
            if last_of_retired:
                self._retiring.discard(pool)
        if sandbox is not None and not keep:
            sandbox.stop()
        if last_of_retired:
            shutil.rmtree(pool.code_dir, ignore_errors=True)
        if self._closed:
            with self._lock:
                self._drop_empty_pools()
                self._remove_work_dir_when_unused()

    def _remove_work_dir_when_unused(self) -> None:
        if not self._pools and not self._retiring:
            self._dir.remove()

    def _environment(self, pool: _VersionPool) -> tuple[dict, float, tuple]:
        """Returns a new worker's environment for the version, when its credentials expire (a
        Unix time) and the secrets among them its logs must never show."""
        spec = pool.spec
        handler = spec.handler or pool.runtime.default_handler
        stream = (f"{datetime.now(timezone.utc):%Y/%m/%d}/[{spec.version}]"
                  f"{uuid.uuid4().hex}")
        env = lambda_environment(spec, pool.runtime, handler, self.region, stream)
        given, expires = spec.credentials() if spec.credentials is not None else ({}, float("inf"))
        # The credentials are Lambda's own; the rest (the endpoint) the function may set itself.
        env.update({k: v for k, v in given.items() if k in RESERVED_ENV or k not in spec.env})
        return env, expires, tuple(given[name] for name in SECRET_ENV if given.get(name))

    def _start_standby(self, shape: Shape, spec: FunctionSpec, runtime: Runtime) -> Sandbox:
        """Starts a standby worker of `spec`'s shape, with an empty code folder of its own and an
        environment naming no function (standby.py)."""
        code_dir = os.path.join(self._work_dir, "code", "standby-" + os.urandom(16).hex())
        os.makedirs(code_dir, mode=0o755)
        os.chmod(code_dir, 0o755)
        blank = FunctionSpec(name="standby", runtime=runtime.id, memory=spec.memory, tmp_mb=spec.tmp_mb,
                             network=spec.network)
        sandbox = self._sandbox_class(blank, runtime, code_dir, self._settings,
                                      {"PATH": WORKER_PATH, "LANG": "C.UTF-8", "TZ": ":UTC"}, standby=True)
        try:
            sandbox.start(lambda line: None)
        except BaseException:
            shutil.rmtree(code_dir, ignore_errors=True)
            raise
        return sandbox

    def prestart(self, spec: FunctionSpec, *, wait: bool = False) -> None:
        """Keeps standby workers ready for functions of `spec`'s shape from now on (its runtime,
        memory, /tmp size and network; `spec` names no real function); with `wait`, returns once
        they are ready. Nothing happens when the runner keeps no standby workers or the shape
        cannot have any (packages, layers, a custom runtime)."""
        runtime = self._runtimes.get(spec.runtime) or self._resolve(spec.runtime)
        self._standby.ensure(spec, runtime, pinned=True, wait=wait)

    def standby_workers(self) -> dict[Shape, int]:
        """Returns {(runtime id, memory MB, /tmp MB, network): standby workers ready}."""
        return self._standby.counts()

    @property
    def standby_taken(self) -> int:
        """Returns how many cold starts a standby worker has served."""
        return self._standby.taken

    def _write_code(self, spec: FunctionSpec) -> str:
        # A random part makes the name unguessable to workers of other functions, and new for
        # each pool (a retired pool's directory goes once its last invocation ends).
        code_dir = os.path.join(self._work_dir, "code", spec.version_key.replace("/", "_") +
                                "-" + os.urandom(16).hex())
        os.makedirs(code_dir, mode=0o755)
        executables = []
        for path, content in spec.files.items():
            target = os.path.join(code_dir, path)
            os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
            data, executable = file_content(content)
            with open(target, "wb") as f:
                f.write(data)
            if executable:
                executables.append(target)
        make_readable(code_dir)
        for target in executables:   # a custom runtime's bootstrap, a compiled program
            os.chmod(target, 0o755)
        root = self._sandbox_class.packages_root(spec)
        if root and not any(p.split("/")[0] == "node_modules" for p in spec.files):
            # ES modules ignore NODE_PATH: they find packages in node_modules beside the code.
            os.symlink(f"{root}/nodejs/node_modules", os.path.join(code_dir, "node_modules"))
        return code_dir

    def _drop_empty_pools(self) -> None:
        for key in [k for k, p in self._pools.items() if not p.idle and not p.busy]:
            shutil.rmtree(self._pools.pop(key).code_dir, ignore_errors=True)

    def _start_housekeeper(self) -> None:
        if self._housekeeper is None:
            self._housekeeper = threading.Thread(target=self._housekeep, daemon=True,
                                                 name="flowbench-functions-housekeeper")
            self._housekeeper.start()

    def _housekeep(self) -> None:
        """Retires idle workers as they pass the idle timeout, until the runner closes."""
        while True:
            with self._lock:
                if self._closed:
                    return
                idle = [s.last_used for p in self._pools.values() for s in p.idle]
                wait = (min(idle) + self.idle_timeout - time.monotonic() + 0.01) if idle \
                    else self.idle_timeout
                self._lock.wait(timeout=max(wait, 0.01))
                if self._closed:
                    return
            self.retire_idle()


# orjson reads an integer beyond 64 bits as a float: text with a run of 19 digits (where such
# integers start) goes to the standard library, which keeps them exact. The run is looked for in
# the text with every digit made "0" and everything else " " (two passes in C: 0.6 µs for a
# small response, where a regular expression [0-9]{19} took 1.5-3 µs, and 10x less on 6 MB).
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_LONG_DIGITS = b"0" * 19


def json_value(text: bytes) -> Any:
    """Returns the value of JSON `text`, as json.loads would: with orjson, several times faster
    on a warm invoke's path, and with the standard library where orjson would differ (integers
    beyond 64 bits) or refuses what json.loads takes (NaN and Infinity, which Python workers
    may send; lone surrogates). Raises ValueError for text that is not JSON."""
    if _LONG_DIGITS not in text.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:   # a ValueError
            pass
    return json.loads(text)


class _RequestIds:
    """Random (version 4) UUIDs as text, as uuid.uuid4() gives them, made 256 at a time from
    one draw of the kernel's random bytes (one getrandom call, and one hex conversion, instead
    of one an invocation); an invocation takes the next one from an iterator (atomic under the
    GIL), without a lock."""

    BATCH = 256

    def __init__(self):
        self._lock = threading.Lock()   # held only to make a batch
        self._ids = iter(())

    def __call__(self) -> str:
        for request_id in self._ids:
            return request_id
        with self._lock:
            for request_id in self._ids:   # another thread made a batch meanwhile
                return request_id
            batch = self._batch()
            self._ids = iter(batch[1:])
            return batch[0]

    def _batch(self) -> list[str]:
        h = os.urandom(16 * self.BATCH).hex()
        # The version nibble (the 13th) is 4; the variant's (the 17th) keeps its 2 low bits
        # and sets the high ones to 10 (8, 9, a or b).
        return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-4{h[i + 13:i + 16]}-"
                f"{_VARIANT[h[i + 16]]}{h[i + 17:i + 20]}-{h[i + 20:i + 32]}"
                for i in range(0, len(h), 32)]

    def forget(self) -> None:
        self._lock = threading.Lock()
        self._ids = iter(())


_VARIANT = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}


new_request_id = _RequestIds()
# A forked child must not hand out the ids its parent has yet to use.
os.register_at_fork(after_in_child=new_request_id.forget)


def make_readable(root: str) -> None:
    """Makes a tree readable (not writable) by a worker running under another uid."""
    for directory, _, files in os.walk(root):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o644)
