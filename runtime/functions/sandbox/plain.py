"""The plain backend: the worker is an ordinary process with resource limits.

Only an administrator's explicit choice runs it (FLOWBENCH_SANDBOX=plain): it isolates far less
than bubblewrap. What it guarantees everywhere: a clean environment (the function's variables
and Lambda's, nothing of the host's), a private working directory for temporary files (TMPDIR),
resource limits (processes, open files, file size, address space for Python), a keeper process
(bootstrap/keeper.py) that adopts and kills every process the worker leaves behind, and the
cgroup (memory, process count, freezing) where the host gives one.

When Flowbench runs as root, more: the worker has a user id of its own, so it can read only
world-readable files (not the data folder, which is private to the server's user), can neither
signal the host nor write the project's files; with its network switch off it runs in a network
namespace of its own; and what its user id left in /tmp, /var/tmp and /dev/shm is removed when
it stops. Not as root, the worker is the server's own user: it can read everything the server
can, the network switch does nothing and its leftovers in shared temporary folders stay. It
never hides the host's world-readable files: that needs the bubblewrap backend.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

from .base import Sandbox
from .processes import (UidPool, first_child, kill_until_gone, processes_of_uid,
                        remove_files_of_uid)

__all__ = ["PlainSandbox", "UIDS", "interpreter_argv", "worker_limits", "limits_argv",
           "launch_argv"]

PRLIMIT = shutil.which("prlimit", path="/usr/bin:/bin")
SETPRIV = shutil.which("setpriv", path="/usr/bin:/bin")
SHELL = "/bin/sh"
UIDS = UidPool()


def interpreter_argv(runtime, bootstrap: str, memory_mb: int) -> list[str]:
    """Returns the interpreter command line that runs `bootstrap` for `runtime`."""
    if runtime.family == "python":
        # -I: ignore PYTHON* variables and the user site; -S: no site-packages (Lambda's
        # Python has none of the host's either, and it halves start-up); -u: prints stream.
        return [runtime.executable, "-I", "-S", "-B", "-u", bootstrap]
    if runtime.family == "provided":
        # The Runtime API server (under the system Python) runs the function's bootstrap.
        return [runtime.executable, "-I", "-S", "-B", bootstrap]
    if runtime.family == "ruby":
        # No RubyGems: the standard library only (json is part of it), and a faster start.
        return [runtime.executable, "--disable-gems", bootstrap]
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


def launch_argv(sandbox, uid: int | None, argv: list[str]) -> tuple[list[str], dict]:
    """Returns `argv` prefixed to run with the worker's limits, user id and cgroup, and the
    Popen arguments that go with it.

    Joining the cgroup takes the host's rights (root's, or the owner's of a delegated tree), so a
    shell joins it and then drops to the worker's uid with `setpriv`, all in one process: asking
    the host to move the process instead costs a round trip between the two, which on a busy
    machine is two waits for a CPU. Without setpriv it takes that round trip (adopt)."""
    limited = [*limits_argv(sandbox, uid), *argv]
    cgroup = sandbox.containment.cgroup
    ids = {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}
    if cgroup is None:
        return limited, ids
    if uid is not None and not SETPRIV:
        return [SHELL, "-c", 'kill -STOP $$ && exec "$@"', "flowbench-worker", *limited], \
            {**ids, "adopt": True}
    drop = [] if uid is None else [SETPRIV, f"--reuid={uid}", f"--regid={uid}",
                                   "--clear-groups", "--"]
    join = 'for f do [ "$f" = -- ] && break; echo $$ > "$f" || exit 126; shift; done; ' \
           'shift; exec "$@"'
    return [SHELL, "-c", join, "flowbench-worker", *cgroup.procs_files, "--", *drop,
            *limited], {}


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

    def worker_env(self):
        runtime_dir = os.path.join(self.settings.work_dir, "runtime")
        env = dict(self.env, LAMBDA_TASK_ROOT=self.code_dir, LAMBDA_RUNTIME_DIR=runtime_dir,
                   TMPDIR=self.tmp, **self.package_env())
        sdk = self.settings.sdk_dirs.get(self.runtime.family)
        if sdk:   # the AWS SDK, which the worker reads after the function's own code
            env["FLOWBENCH_SDK_DIR"] = sdk
            if self.runtime.family == "nodejs":
                env["NODE_PATH"] = ":".join(filter(None, [env.get("NODE_PATH"), sdk]))   # require() reads it; import does not (see runtime/functions/sdk)
        if self.uid is not None and self.settings.api_socket:   # its network is off (see below)
            env.update(self.api_bridge_env(self.settings.api_socket))
        return env

    def command(self, request_fd, response_fd):
        self.uid = UIDS.take()
        self.home = os.path.join(self.settings.work_dir, f"worker-{id(self):x}")
        self.tmp = os.path.join(self.home, "tmp")
        os.makedirs(self.tmp, mode=0o700)
        if self.uid is not None:
            os.chmod(self.home, 0o711)   # the worker's uid reaches its tmp, lists nothing
            os.chown(self.tmp, self.uid, self.uid)
        runtime_dir = os.path.join(self.settings.work_dir, "runtime")
        bootstrap = os.path.join(runtime_dir, os.path.basename(self.runtime.bootstrap))
        env = self.worker_env()
        keeper = [sys.executable, "-I", "-S", os.path.join(runtime_dir, "keeper.py")]
        if self.uid is not None:
            keeper += ["--uid", str(self.uid)]
            if not self.spec.network:
                keeper += ["--unshare-net"]   # needs root: the known limit without it
        cgroup = self.containment.cgroup   # the keeper puts the worker in before it drops its uid
        for path in cgroup.procs_files if cgroup is not None else ():
            keeper += ["--cgroup", path]
        for name, value in worker_limits(self, self.uid):
            keeper += ["--limit", f"{name}={value}"]
        argv = [*keeper, "--", *interpreter_argv(self.runtime, bootstrap, self.spec.memory),
                *self.worker_args(request_fd, response_fd)]
        return argv, {"env": env, "cwd": self.code_dir}

    def find_worker_pid(self):
        return first_child(self.process.pid)

    def tree_root(self):
        return self.process.pid   # the keeper: every process of the worker descends from it

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
        uid = getattr(self, "uid", None)
        if uid is not None:
            # No process of the uid is left (kill_all): nothing races the removal.
            remove_files_of_uid(uid)
        UIDS.give_back(uid)
        self.uid = None
