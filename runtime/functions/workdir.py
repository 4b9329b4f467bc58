"""The runner's work directory: bootstrap copies, every function's code, plain workers' homes.

It lives in the temporary folder as `flowbench-functions-XXXXXXXX`, private to the user that
runs Flowbench. Each runner holds an exclusive lock on the file `lock` inside its directory for
its whole life (the kernel releases it when the process dies, however it dies), so a runner that
starts removes the directories whose lock it can take: those of runners that died without
removing their own (a SIGKILLed server), never one still in use by another Flowbench process
on the machine (the web server, job workers, a test run).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile

__all__ = ["WorkDir", "remove_abandoned_work_dirs"]

PREFIX = "flowbench-functions-"
STAGING = ".new"   # a directory being made: its lock is taken before it gets its real name
LOCK = "lock"


class WorkDir:
    """A new work directory, locked for this runner's life.

    `shared_with_workers`: workers run under user ids of their own and must reach their code
    inside it; they get the right to pass through (0711), never to list it. Otherwise it is
    0700.
    """

    def __init__(self, shared_with_workers: bool):
        remove_abandoned_work_dirs()
        while True:
            staging = tempfile.mkdtemp(prefix=PREFIX, suffix=STAGING)
            self._lock = os.open(os.path.join(staging, LOCK),
                                 os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(self._lock, fcntl.LOCK_EX)
            path = staging.removesuffix(STAGING)
            if not os.path.exists(path):
                os.rename(staging, path)
                break
            os.close(self._lock)
            shutil.rmtree(staging)
        self.path = path
        os.chmod(path, 0o711 if shared_with_workers else 0o700)

    def remove(self) -> None:
        """Removes the directory and releases its lock; safe to call twice."""
        if self._lock is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            os.close(self._lock)
            self._lock = None


def remove_abandoned_work_dirs(parent: str | None = None) -> list[str]:
    """Removes this user's work directories that no live runner holds; returns their paths.

    A directory without a lock file belongs to a Flowbench from before the locks (or is being
    made): whether its runner lives cannot be told, so it is left alone.
    """
    parent = parent or tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or \
                    entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
            lock = os.open(os.path.join(entry.path, LOCK), os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock)
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
        os.close(lock)
    return removed
