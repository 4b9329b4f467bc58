"""A function's dependencies (requirements.txt, package.json), installed once per content.

A Python function whose code holds `requirements.txt`, or a Node.js function whose code holds
`package.json` (with `package-lock.json` when present), gets a package: a directory made by pip
(`python/`) or npm (`nodejs/node_modules/`) that every worker of every version with the same
dependency files and runtime mounts read-only. Its name is a hash of those files and the
runtime, so a second Deploy with the same file installs nothing (the cache).

    cache = PackageCache("/srv/flowbench/packages")
    path = cache.ensure(runtime, files, on_line=print, timeout=300)   # "" when nothing to install

How a package is made safely:
- in a staging directory `.build-<key>-<random>`, renamed to `<key>` only once the install
  succeeded: a directory named `<key>` is always complete, and one a SIGKILLed install left is
  never used (the next install of that key removes it);
- under an exclusive lock on `<key>.lock`, so two processes installing the same key at once
  install it once (the second waits, then finds it made);
- by pip or npm inside bubblewrap (network on, nothing of the host but /usr and the files name
  resolution and TLS need, under a user id of its own when Flowbench runs as root), with a
  clean environment (no credentials of the server, the user or the function), and killed with
  everything it started after `timeout` seconds. Where bubblewrap does not work the installer
  runs as a plain process with the same clean environment.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from typing import Callable

from .sandbox.bubblewrap import ETC_FILES, bubblewrap_path, bubblewrap_works
from .sandbox.plain import UIDS

__all__ = ["PackageCache", "InstallFailed", "dependency_files", "package_key", "make_once"]

# The files that declare a family's dependencies; the first of each list must be present.
DEPENDENCY_FILES = {"python": ("requirements.txt",), "nodejs": ("package.json", "package-lock.json")}
BUILD_PREFIX = ".build-"
KEPT_LINES = 20   # the last lines of a failed install, quoted in its error


class InstallFailed(Exception):
    """pip or npm could not install the dependencies: the message ends with its last lines."""


def dependency_files(family: str, files: dict) -> dict:
    """Returns the dependency files of `files` for a runtime family (empty: nothing to install).
    Only files at the code's root count, as pip -r and npm read them there."""
    names = DEPENDENCY_FILES.get(family, ())
    if not names or names[0] not in files:
        return {}
    return {name: files[name] for name in names if name in files}


def package_key(runtime_id: str, deps: dict) -> str:
    """Returns the cache key of a package: a hash of the runtime id and the dependency files."""
    digest = hashlib.sha256(runtime_id.encode() + b"\0")
    for name in sorted(deps):
        content = deps[name]
        data = content.encode() if isinstance(content, str) else bytes(content)
        digest.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()[:32]


class PackageCache:
    """The directory of installed packages (FLOWBENCH_DATA_DIR/packages in the studio)."""

    def __init__(self, root: str):
        self.root = root
        self.installs = 0   # how many installs this object ran (the cache's hits are not counted)

    def path(self, runtime, files: dict) -> str:
        """Returns where the package of `files` for `runtime` lives (made or not); "" when the
        code declares no dependencies."""
        deps = dependency_files(runtime.family, files)
        return os.path.join(self.root, package_key(runtime.id, deps)) if deps else ""

    def ensure(self, runtime, files: dict, on_line: Callable[[str], None] = lambda line: None,
               timeout: float = 300) -> str:
        """Returns the path of the package of `files` for `runtime`, installing it first when it
        is not made yet; "" when the code declares no dependencies. Install output goes to
        `on_line` line by line. Raises InstallFailed."""
        path = self.path(runtime, files)
        if not path:
            return ""
        made = make_once(self.root, os.path.basename(path), lambda build: self._install(
            runtime, dependency_files(runtime.family, files), build, on_line, timeout))
        if made:
            self.installs += 1
        else:
            on_line(f"Dependencies unchanged: using the cached package {os.path.basename(path)}.")
        return path

    def _install(self, runtime, deps: dict, build: str, on_line, timeout: float) -> None:
        family = runtime.family
        work = os.path.join(build, "nodejs" if family == "nodejs" else "")
        os.makedirs(work, exist_ok=True)
        for name, content in deps.items():
            with open(os.path.join(work, name), "wb") as f:
                f.write(content.encode() if isinstance(content, str) else bytes(content))
        inside = "/build" if bubblewrap_works() else build
        if family == "python":
            what = "pip"
            argv = [runtime.executable, "-m", "pip", "install", "--target", f"{inside}/python",
                    "-r", f"{inside}/requirements.txt", "--no-input", "--progress-bar", "off",
                    "--disable-pip-version-check", "--no-warn-script-location", "--no-cache-dir"]
            cwd = inside
        else:
            what = "npm"
            npm = shutil.which("npm", path="/usr/bin:/usr/local/bin") or "npm"
            verb = "ci" if "package-lock.json" in deps else "install"
            argv = [npm, verb, "--omit=dev", "--no-audit", "--no-fund", "--ignore-scripts=false"]
            cwd = f"{inside}/nodejs"
        on_line(f"Installing dependencies: {' '.join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv))}")
        tail: list[str] = []

        def keep(line: str) -> None:
            tail.append(line)
            del tail[:-KEPT_LINES]
            on_line(line)

        code = _run_sandboxed(argv, build, cwd, keep, timeout)
        if code == "timeout":
            raise InstallFailed(f"{what} did not finish within {timeout:g} seconds.")
        if code != 0:
            said = "\n".join(line for line in tail if line.strip())
            raise InstallFailed(f"{what} failed (exit status {code}):\n{said}")
        on_line(f"Dependencies installed ({what}).")


def make_once(root: str, key: str, make: Callable[[str], None]) -> bool:
    """Makes the directory `root/key` with `make(staging_dir)` unless it exists; returns whether
    this call made it. The directory appears complete or not at all (staged, then renamed), one
    process makes it while others wait on `key.lock`, and a staging directory a killed process
    left is removed, never used."""
    path = os.path.join(root, key)
    if os.path.isdir(path):
        return False
    os.makedirs(root, mode=0o755, exist_ok=True)
    os.chmod(root, 0o755)
    lock = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isdir(path):   # another process made it while this one waited
            return False
        # Under the key's lock, any staging directory of that key is from a dead process.
        for entry in os.scandir(root):
            if entry.name.startswith(f"{BUILD_PREFIX}{key}-"):
                shutil.rmtree(entry.path, ignore_errors=True)
        build = tempfile.mkdtemp(prefix=f"{BUILD_PREFIX}{key}-", dir=root)
        try:
            make(build)
            _make_readable(build)
            os.rename(build, path)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        return True
    finally:
        os.close(lock)


def _clean_env(home: str) -> dict:
    """Returns the installer's whole environment: nothing of the server's (no credentials)."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": home,
            "PIP_BREAK_SYSTEM_PACKAGES": "1", "PIP_ROOT_USER_ACTION": "ignore",
            "npm_config_update_notifier": "false", "npm_config_cache": f"{home}/.npm"}


def _run_sandboxed(argv: list[str], build: str, cwd: str, on_line, timeout: float):
    """Runs an installer with `build` writable (at /build inside bubblewrap); returns its exit
    status, or "timeout" after killing it and everything it started."""
    uid = UIDS.take()
    home_dir = None
    try:
        if uid is not None:
            for directory, _, names in os.walk(build):
                os.chown(directory, uid, uid)
                for name in names:
                    os.chown(os.path.join(directory, name), uid, uid)
        ids = {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}
        if bubblewrap_works():
            options = [bubblewrap_path(), "--die-with-parent", "--new-session", "--unshare-pid",
                       "--unshare-ipc", "--unshare-uts", "--ro-bind", "/usr", "/usr",
                       "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
                       "--symlink", "usr/lib64", "/lib64"]
            for path in ETC_FILES:
                options += ["--ro-bind-try", path, path]
            options += ["--bind", build, "/build", "--tmpfs", "/tmp", "--proc", "/proc",
                        "--dev", "/dev", "--chdir", cwd, "--"]
            command, env = options + argv, _clean_env("/tmp")
        else:
            home_dir = tempfile.mkdtemp(prefix="flowbench-install-")
            if uid is not None:
                os.chown(home_dir, uid, uid)
            command, env = argv, _clean_env(home_dir)
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, env=env, cwd=cwd if home_dir else "/",
                                   process_group=0, close_fds=True, **ids)
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            for raw in process.stdout:
                on_line(raw.decode("utf-8", "replace").rstrip("\n"))
            code = process.wait()
        finally:
            timer.cancel()
            process.stdout.close()
        if uid is not None:
            _kill_uid(uid)
        return "timeout" if timed_out.is_set() else code
    finally:
        if uid is not None:
            # What the installer made becomes the server's: no worker uid may change it later.
            for directory, dirs, names in os.walk(build):
                os.chown(directory, os.geteuid(), os.getegid())
                for name in dirs + names:
                    os.lchown(os.path.join(directory, name), os.geteuid(), os.getegid())
        if home_dir:
            shutil.rmtree(home_dir, ignore_errors=True)
        UIDS.give_back(uid)


def _kill_uid(uid: int) -> None:
    from .sandbox.processes import kill_until_gone, processes_of_uid

    kill_until_gone(lambda: processes_of_uid(uid))


def _make_readable(root: str) -> None:
    """Makes a package readable by every worker uid and writable by none."""
    for directory, _, names in os.walk(root):
        os.chmod(directory, 0o755)
        for name in names:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, 0o755 if mode & 0o111 else 0o644)

