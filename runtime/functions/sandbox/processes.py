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
import shutil
import signal
import threading
import time

__all__ = ["UidPool", "alive", "processes_of_uid", "kill_until_gone", "children", "first_child",
           "descendants", "pss_kb", "stop_all", "resume_all", "remove_files_of_uid"]

WORKER_UIDS = range(61000, 65000)
LOCK_DIR = "/tmp/flowbench-worker-uids"


def alive(pid: int) -> bool:
    """Whether process `pid` exists on this machine (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


def children(pid: int) -> list[int]:
    """Returns the children `pid`'s main thread started (oldest first), or [] when it is gone."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", "rb") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def first_child(pid: int) -> int | None:
    """Returns the oldest child of `pid`'s main thread, or None."""
    found = children(pid)
    return found[0] if found else None


def descendants(root: int) -> list[int]:
    """Returns the pids of every live descendant of `root` (not `root` itself), parents first.

    Children are listed per thread (/proc/PID/task/TID/children), so those a thread other than
    the main one started are found too.
    """
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    children = [int(c) for c in f.read().split()]
            except OSError:
                continue
            found += children
            queue += children
    return found


def pss_kb(pid: int) -> int:
    """Returns a process's proportional set size in kB (pages shared with other processes,
    as a fork's are, counted once across them), or 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            rollup = f.read()
    except OSError:
        return 0
    start = rollup.find(b"\nPss:")
    return int(rollup[start + 5:rollup.find(b"kB", start)]) if start >= 0 else 0


def stop_all(find, stopped: dict[int, int]) -> None:
    """SIGSTOPs every process `find()` returns until it finds no new one, and waits (a few
    milliseconds at most) until each has stopped. `stopped` collects {pid: pidfd}: signalling
    through pidfds never reaches an unrelated process that reused a pid."""
    while True:
        new = [pid for pid in find() if pid not in stopped]
        if not new:
            return
        for pid in new:
            try:
                fd = os.pidfd_open(pid)
            except OSError:
                continue
            stopped[pid] = fd
            try:
                signal.pidfd_send_signal(fd, signal.SIGSTOP)
            except OSError:
                pass
        # A process may fork until it has really stopped: look again once all have.
        for pid in new:
            _wait_stopped(pid)


def _wait_stopped(pid: int, limit: float = 0.2) -> None:
    """Waits (yielding the CPU, at most `limit` seconds) until every thread of `pid` has
    stopped, or it ended: a stop reaches each thread when it next enters the kernel."""
    deadline = time.monotonic() + limit
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return
    for tid in tasks:
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except OSError:
                break
            if state in (b"T", b"t", b"Z", b"X"):
                break
            os.sched_yield()


def resume_all(stopped: dict[int, int]) -> None:
    """SIGCONTs the processes `stop_all` stopped and forgets them."""
    for fd in stopped.values():
        try:
            signal.pidfd_send_signal(fd, signal.SIGCONT)
        except OSError:
            pass
        os.close(fd)
    stopped.clear()


# World-writable places a process of the host's filesystem can leave files in.
SHARED_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


def remove_files_of_uid(uid: int, roots=SHARED_TMP_DIRS) -> None:
    """Removes what `uid` created under `roots`: its entries, and what it put in the
    world-writable directories below them (the only other places it could write to).
    Call it once no process of `uid` is left, so nothing races the removal."""
    for root in roots:
        pending = [root]
        while pending:
            directory = pending.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if info.st_uid == uid:
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        _unlink(entry.path)
                elif entry.is_dir(follow_symlinks=False) and info.st_mode & 0o002:
                    pending.append(entry.path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
