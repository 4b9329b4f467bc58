"""The bubblewrap backend: the worker runs in its own mount, PID (and optionally network)
namespace.

Inside, the worker sees /usr (read-only, with the usual /bin, /lib symlinks), a few files of /etc
that name resolution and TLS need, its code read-only at /var/task as on Lambda, the bootstrap at
/var/runtime, a private size-limited /tmp, and its own /proc and /dev. Nothing of the project, its
database, settings or the user's home is mounted. The worker's PID namespace dies with its first
process, so stopping it kills everything it started. On top of that it gets the plain backend's
resource limits and, under root, a uid of its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from functools import lru_cache

from .base import Sandbox
from .plain import UIDS, interpreter_argv, limits_argv
from .processes import kill_until_gone, processes_of_uid

__all__ = ["BubblewrapSandbox", "bubblewrap_path", "bubblewrap_works"]

ETC_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl",
             "/etc/ca-certificates", "/etc/localtime")


def bubblewrap_path() -> str | None:
    """Returns the path of the bwrap executable, or None when bubblewrap is not installed."""
    return shutil.which("bwrap", path="/usr/bin:/usr/local/bin:/bin")


@lru_cache(maxsize=1)
def bubblewrap_works() -> bool:
    """Returns whether bwrap can create a sandbox here with the options workers use
    (containers may forbid namespaces; an older bubblewrap may lack --size or --perms)."""
    bwrap = bubblewrap_path()
    if not bwrap:
        return False
    # Probe as workers will run: under root, as a worker uid (bwrap then needs unprivileged
    # user namespaces, which some hosts turn off).
    uid = UIDS.take()
    argv = [bwrap, "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--size", str(1 << 20), "--perms", "1777", "--tmpfs", "/tmp",
            "--proc", "/proc", "--dev", "/dev", "--unshare-pid", "--die-with-parent",
            "--new-session", "/bin/true"]
    ids = {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}
    try:
        return subprocess.run(argv, capture_output=True, timeout=10, env={},
                              **ids).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        UIDS.give_back(uid)


class BubblewrapSandbox(Sandbox):
    """A worker in a bubblewrap sandbox."""

    name = "bubblewrap"

    def command(self, request_fd, response_fd):
        self.uid = UIDS.take()
        spec = self.spec
        runtime_dir = os.path.join(self.settings.work_dir, "runtime")
        bootstrap = "/var/runtime/" + os.path.basename(self.runtime.bootstrap)
        env = dict(self.env, LAMBDA_TASK_ROOT="/var/task", LAMBDA_RUNTIME_DIR="/var/runtime")
        argv = [*limits_argv(self, self.uid), bubblewrap_path(),
                "--die-with-parent", "--new-session",
                "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--hostname", "localhost",
                "--ro-bind", "/usr", "/usr",
                "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
                "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64"]
        if not spec.network:
            argv.append("--unshare-net")
        for path in ETC_FILES:
            argv += ["--ro-bind-try", path, path]
        argv += ["--ro-bind", self.code_dir, "/var/task",
                 "--ro-bind", runtime_dir, "/var/runtime",
                 "--size", str(spec.tmp_mb << 20), "--perms", "1777", "--tmpfs", "/tmp",
                 "--proc", "/proc", "--dev", "/dev",
                 "--chdir", "/var/task",
                 "--", *interpreter_argv(self.runtime, bootstrap, spec.memory),
                 str(request_fd), str(response_fd)]
        popen = {"env": env, "cwd": "/"}
        if self.uid is not None:
            popen.update(user=self.uid, group=self.uid, extra_groups=[])
        return argv, popen

    def find_worker_pid(self):
        # bwrap (our child) -> the namespace's init -> the worker.
        pid = self.process.pid
        for _ in range(2):
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    children = f.read().split()
            except OSError:
                return None
            if not children:
                return None
            pid = int(children[0])
        return pid

    def kill_all(self):
        # Killing the namespace's init makes the kernel kill every process in it; bwrap (our
        # child) reaps it and exits.
        init = None
        try:
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as f:
                children = f.read().split()
            init = int(children[0]) if children else None
        except OSError:
            pass
        # Only when there is no init yet is bwrap itself killed: killed first, it would leave
        # the init to a host init that may never reap it.
        try:
            os.kill(init or self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        # bwrap exits once it has reaped the init, which happens only after the kernel killed
        # the whole namespace; it must not be killed before (its init would be orphaned).
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self.uid is not None:
            kill_until_gone(lambda: processes_of_uid(self.uid))

    def cleanup(self):
        UIDS.give_back(getattr(self, "uid", None))
        self.uid = None
