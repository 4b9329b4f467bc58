"""Finding and killing a worker's processes, and the user ids workers run as.

When Flowbench runs as root every worker gets a user id of its own (from WORKER_UIDS): the
worker cannot signal or read anything of the host's, RLIMIT_NPROC (which the kernel never
applies to root) bounds a fork bomb, and "every process of that uid" is exactly the set to kill
when the worker stops, even children that detached with setsid.
"""

from __future__ import annotations

import os
import signal
import threading
import time

__all__ = ["UidPool", "processes_of_uid", "descendants", "kill_until_gone"]

WORKER_UIDS = range(61000, 62000)


class UidPool:
    """Hands out unused worker uids (only when running as root)."""

    def __init__(self, uids: range = WORKER_UIDS):
        self._free = list(reversed(uids))
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Returns whether workers get their own uid (the host runs as root)."""
        return os.geteuid() == 0

    def take(self) -> int | None:
        """Returns a uid no other worker of this process uses, or None when not root."""
        if not self.enabled:
            return None
        with self._lock:
            if not self._free:
                raise RuntimeError("All worker user ids are in use")
            return self._free.pop()

    def give_back(self, uid: int | None) -> None:
        if uid is not None:
            with self._lock:
                self._free.append(uid)


def _stat(pid: str) -> tuple[str, int, int] | None:
    """Returns (state, ppid, uid) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        uid = os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    return fields[0].decode(), int(fields[1]), uid


def processes_of_uid(uid: int) -> list[int]:
    """Returns the live (non-zombie) pids owned by `uid`."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            info = _stat(pid)
            if info and info[2] == uid and info[0] not in ("Z", "X"):
                found.append(int(pid))
    return found


def descendants(root: int) -> list[int]:
    """Returns the live descendants of `root` (children, grandchildren, ...)."""
    children: dict[int, list[int]] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            info = _stat(pid)
            if info and info[0] not in ("Z", "X"):
                children.setdefault(info[1], []).append(int(pid))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_until_gone(find, attempts: int = 400) -> list[int]:
    """SIGKILLs what `find()` returns until it returns nothing; returns pids it could not kill.

    A process can fork between one scan and its kill, so this repeats; the short pause lets
    the kernel finish tearing down what was killed.
    """
    for _ in range(attempts):
        pids = find()
        if not pids:
            return []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.002)
    return find()
