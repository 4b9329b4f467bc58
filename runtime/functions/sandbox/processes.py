"""Finding and killing a worker's processes, and the user ids workers run as.

When Flowbench runs as root every worker gets a user id of its own (from WORKER_UIDS): the
worker cannot signal or read anything of the host's, RLIMIT_NPROC (which the kernel never
applies to root) bounds a fork bomb, and "every process of that uid" is exactly the set to kill
when the worker stops, even children that detached with setsid.
"""

from __future__ import annotations

import fcntl
import os
import random
import signal
import threading
import time

__all__ = ["UidPool", "processes_of_uid", "kill_until_gone"]

WORKER_UIDS = range(61000, 65000)
LOCK_DIR = "/tmp/flowbench-worker-uids"


class UidPool:
    """Hands out worker uids that no other worker on this machine uses (only as root).

    Several Flowbench processes (the web server, job workers) share the machine, so a uid is
    claimed with an exclusive lock on a file of its own, held for the worker's life and
    released by the kernel if the process dies; a uid that still owns processes (left by a
    process that crashed) is skipped.
    """

    def __init__(self, uids: range = WORKER_UIDS, lock_dir: str = LOCK_DIR):
        self.uids = uids
        self.lock_dir = lock_dir
        self._held: dict[int, int] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Returns whether workers get their own uid (the host runs as root)."""
        return os.geteuid() == 0

    def take(self) -> int | None:
        """Returns a uid claimed for one worker, or None when not running as root."""
        if not self.enabled:
            return None
        os.makedirs(self.lock_dir, mode=0o700, exist_ok=True)
        start = random.randrange(len(self.uids))
        with self._lock:
            for i in range(len(self.uids)):
                uid = self.uids[(start + i) % len(self.uids)]
                if uid in self._held:
                    continue
                fd = os.open(os.path.join(self.lock_dir, str(uid)), os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                if processes_of_uid(uid):
                    os.close(fd)
                    continue
                self._held[uid] = fd
                return uid
        raise RuntimeError("All worker user ids are in use")

    def give_back(self, uid: int | None) -> None:
        """Releases a uid once none of its processes is left."""
        if uid is not None:
            with self._lock:
                fd = self._held.pop(uid, None)
            if fd is not None:
                os.close(fd)


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
