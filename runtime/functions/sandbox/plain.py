"""The plain backend: the worker is an ordinary process with resource limits.

What it guarantees: a clean environment (the function's variables and Lambda's, nothing of the
host's), a private working /tmp (TMPDIR), resource limits (processes, open files, file size,
address space for Python), its own process group, and, when Flowbench runs as root, a user id of
its own, so it can neither signal the host nor write the project's files. A keeper process
(bootstrap/keeper.py) adopts and kills every process the worker leaves behind. It does not hide
the host's world-readable files, and /tmp is private only through TMPDIR: that needs the
bubblewrap backend.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

from .base import Sandbox
from .processes import UidPool, kill_until_gone, processes_of_uid

__all__ = ["PlainSandbox", "UIDS", "interpreter_argv", "worker_limits", "limits_argv"]

PRLIMIT = shutil.which("prlimit", path="/usr/bin:/bin")
UIDS = UidPool()


def interpreter_argv(runtime, bootstrap: str, memory_mb: int) -> list[str]:
    """Returns the interpreter command line that runs `bootstrap` for `runtime`."""
    if runtime.family == "python":
        # -I: ignore PYTHON* variables and the user site; -S: no site-packages (Lambda's
        # Python has none of the host's either, and it halves start-up); -u: prints stream.
        return [runtime.executable, "-I", "-S", "-B", "-u", bootstrap]
    # As Lambda does, keep V8's heap under the function's memory size.
    return [runtime.executable, f"--max-old-space-size={max(memory_mb * 9 // 10, 64)}",
            bootstrap]


def worker_limits(sandbox, uid: int | None) -> list[tuple[str, int]]:
    """Returns the worker's resource limits as (prlimit name, value) pairs."""
    settings, spec = sandbox.settings, sandbox.spec
    nproc = settings.max_processes
    if uid is None:
        # RLIMIT_NPROC counts every process of the user; leave the user's own ones room.
        nproc += len(processes_of_uid(os.geteuid()))
    limits = [("nproc", nproc), ("nofile", settings.max_open_files), ("core", 0),
              ("fsize", spec.tmp_mb << 20)]
    if sandbox.runtime.family == "python":
        # A backstop only: the runner kills a worker past its memory size well before this,
        # but one huge allocation must fail (MemoryError) rather than take the host's RAM.
        limits.append(("as", (spec.memory + 256) << 20))
    return limits


def limits_argv(sandbox, uid: int | None) -> list[str]:
    """Returns a `prlimit` prefix with the worker's resource limits (empty if not installed)."""
    if not PRLIMIT:
        return []
    return [PRLIMIT, *(f"--{name}={value}" for name, value in worker_limits(sandbox, uid)),
            "--"]


class PlainSandbox(Sandbox):
    """A worker run as a plain process with resource limits and a clean environment, under a
    keeper process (bootstrap/keeper.py) that reaps and kills everything it leaves."""

    name = "plain"

    def command(self, request_fd, response_fd):
        self.uid = UIDS.take()
        self.home = os.path.join(self.settings.work_dir, f"worker-{id(self):x}")
        self.tmp = os.path.join(self.home, "tmp")
        os.makedirs(self.tmp, mode=0o700)
        os.chmod(self.home, 0o711)
        if self.uid is not None:
            os.chown(self.tmp, self.uid, self.uid)
        runtime_dir = os.path.join(self.settings.work_dir, "runtime")
        bootstrap = os.path.join(runtime_dir, os.path.basename(self.runtime.bootstrap))
        env = dict(self.env, LAMBDA_TASK_ROOT=self.code_dir, LAMBDA_RUNTIME_DIR=runtime_dir,
                   TMPDIR=self.tmp)
        keeper = [sys.executable, "-I", "-S", os.path.join(runtime_dir, "keeper.py")]
        if self.uid is not None:
            keeper += ["--uid", str(self.uid)]
        for name, value in worker_limits(self, self.uid):
            keeper += ["--limit", f"{name}={value}"]
        argv = [*keeper, "--", *interpreter_argv(self.runtime, bootstrap, self.spec.memory),
                str(request_fd), str(response_fd)]
        return argv, {"env": env, "cwd": self.code_dir}

    def find_worker_pid(self):
        pid = self.process.pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                children = f.read().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def kill_all(self):
        # The keeper kills and reaps every process the worker left, then exits.
        try:
            os.kill(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self.uid is not None:  # the worker's uid may own nothing after its keeper is gone
            kill_until_gone(lambda: processes_of_uid(self.uid))

    def cleanup(self):
        shutil.rmtree(self.home, ignore_errors=True)
        UIDS.give_back(getattr(self, "uid", None))
        self.uid = None
