"""The bubblewrap backend: the worker runs in its own mount, PID (and optionally network)
namespace.

Inside, the worker sees /usr (read-only, with the usual /bin, /lib symlinks), a few files of /etc
that name resolution and TLS need, its code read-only at /var/task as on Lambda, its installed dependencies read-only at
/var/lang/packages, its layers read-only at /opt, the bootstrap at
/var/runtime, a private size-limited /tmp and /dev/shm, and its own /proc and /dev. Everything
else (/, /etc, /dev) is read-only, so memory-backed files can only grow where they are sized and
counted. Nothing of the project, its database, settings or the user's home is mounted. The
worker's PID namespace dies with its first process, so stopping it kills everything it started.
bwrap reads its options (which name host paths) from a pipe, so the namespace's init, whose
command line the function can read as /proc/1/cmdline, shows none of them. On top of that it
gets the plain backend's resource limits and, under root, a uid of its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from functools import lru_cache

from ..api_bridge import SOCKET_MOUNT
from ..sdk import SDK_MOUNTS
from .base import Sandbox
from .plain import UIDS, interpreter_argv, launch_argv
from .processes import first_child, kill_until_gone, processes_of_uid

__all__ = ["BubblewrapSandbox", "bubblewrap_path", "bubblewrap_problem", "bubblewrap_works"]

ETC_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl",
             "/etc/ca-certificates", "/etc/localtime")
# Where a version's installed dependencies appear (read-only), beside the runtime as on Lambda.
PACKAGES_MOUNT = "/var/lang/packages"


def bubblewrap_path() -> str | None:
    """Returns the path of the bwrap executable, or None when bubblewrap is not installed."""
    return shutil.which("bwrap", path="/usr/bin:/usr/local/bin:/bin")


def bubblewrap_works() -> bool:
    """Returns whether bwrap can create a sandbox here with the options workers use."""
    return bubblewrap_problem() is None


@lru_cache(maxsize=1)
def bubblewrap_problem() -> str | None:
    """Returns why bwrap cannot create a sandbox here with the options workers use, or None
    when it can (containers may forbid namespaces; an older bubblewrap may lack --size)."""
    bwrap = bubblewrap_path()
    if not bwrap:
        return "bwrap is not installed"
    # Probe as workers will run: under root, as a worker uid (bwrap then needs unprivileged
    # user namespaces, which some hosts turn off).
    uid = UIDS.take()
    argv = [bwrap, "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--size", str(1 << 20), "--perms", "1777", "--tmpfs", "/tmp",
            "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/", "--unshare-pid",
            "--die-with-parent", "--new-session", "/bin/true"]
    ids = {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, env={}, **ids)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap could not be run: {exc}"
    finally:
        UIDS.give_back(uid)
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        return f"bwrap says: {said[-1] if said else f'exit status {done.returncode}'}"
    return None


class BubblewrapSandbox(Sandbox):
    """A worker in a bubblewrap sandbox."""

    name = "bubblewrap"

    def worker_env(self):
        env = dict(self.env, LAMBDA_TASK_ROOT="/var/task", LAMBDA_RUNTIME_DIR="/var/runtime",
                   **self.package_env())
        if self.settings.sdk_dirs.get(self.runtime.family):
            env["FLOWBENCH_SDK_DIR"] = SDK_MOUNTS[self.runtime.family]
        if self.settings.api_socket:
            env.update(self.api_bridge_env(SOCKET_MOUNT))
        return env

    def command(self, request_fd, response_fd):
        self.uid = UIDS.take()
        spec = self.spec
        runtime_dir = os.path.join(self.settings.work_dir, "runtime")
        bootstrap = "/var/runtime/" + os.path.basename(self.runtime.bootstrap)
        env = self.worker_env()
        options = ["--die-with-parent", "--new-session",
                "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--hostname", "localhost",
                "--ro-bind", "/usr", "/usr",
                "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
                "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64"]
        if not spec.network:
            options.append("--unshare-net")
        for path in ETC_FILES:
            options += ["--ro-bind-try", path, path]
        sdk = self.settings.sdk_dirs.get(self.runtime.family)
        if sdk:   # the AWS SDK, read-only, where the worker looks for it after the function's code
            options += ["--ro-bind", sdk, SDK_MOUNTS[self.runtime.family]]
        # Network off: the API alone, through the host's socket (a standby worker's function
        # may need it, so it has it whenever its network is off).
        if "FLOWBENCH_API_SOCKET" in env or (self.standby and self.settings.api_socket and not spec.network):
            options += ["--ro-bind", self.settings.api_socket, SOCKET_MOUNT]
        options += ["--ro-bind", self.code_dir, "/var/task",
                    "--ro-bind", runtime_dir, "/var/runtime",
                    *(["--ro-bind", spec.packages, PACKAGES_MOUNT] if spec.packages else []),
                    *(["--ro-bind", spec.layers, "/opt"] if spec.layers else []),
                    "--size", str(spec.tmp_mb << 20), "--perms", "1777", "--tmpfs", "/tmp",
                    "--proc", "/proc", "--dev", "/dev",
                    "--size", str(spec.memory << 20), "--perms", "1777", "--tmpfs", "/dev/shm",
                    "--remount-ro", "/dev", "--remount-ro", "/",
                    "--chdir", "/var/task"]
        options_r, options_w = os.pipe()
        with os.fdopen(options_w, "wb") as pipe:   # a few kB: the pipe holds them all
            pipe.write(b"\0".join(o.encode() for o in options) + b"\0")
        argv, popen = launch_argv(self, self.uid, [
            bubblewrap_path(), "--args", str(options_r),
            "--", *interpreter_argv(self.runtime, bootstrap, spec.memory),
            *self.worker_args(request_fd, response_fd)])
        return argv, {**popen, "env": env, "cwd": "/", "pass_fds": [options_r]}

    @classmethod
    def packages_root(cls, spec):
        return PACKAGES_MOUNT if spec.packages else ""

    @classmethod
    def layers_root(cls, spec):
        return "/opt" if spec.layers else ""

    def find_worker_pid(self):
        # bwrap (our child) -> the namespace's init -> the worker.
        init = self.tree_root()
        return first_child(init) if init else None

    def tree_root(self):
        return first_child(self.process.pid)

    def kill_all(self):
        # Killing the namespace's init makes the kernel kill every process in it; bwrap (our
        # child) reaps it and exits.
        init = self.tree_root()
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
