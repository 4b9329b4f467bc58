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
           "descendants", "pss_kb", "Handle", "stop_all", "resume_all", "forget_all",
           "remove_files_of_uid"]

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


class Handle:
    """A process of a worker as `stop_all` keeps it from one freeze to the next: a pidfd
    (signals through it never reach an unrelated process that reused the pid) and its
    /proc/PID/stat, open (each read is one pread; once the process has ended it fails instead
    of reading another's)."""

    __slots__ = ("pid", "pidfd", "stat_fd")

    def __init__(self, pid: int, pidfd: int, stat_fd: int):
        self.pid, self.pidfd, self.stat_fd = pid, pidfd, stat_fd

    @classmethod
    def open(cls, pid: int) -> "Handle | None":
        """Returns a handle on process `pid`, or None when it is gone."""
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            return None
        try:
            stat_fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        except OSError:
            os.close(pidfd)
            return None
        # Opened after the pidfd: while the process the pidfd names lives, its pid names no
        # other, so a signal through the pidfd that succeeds proves the stat file is its own.
        return cls(pid, pidfd, stat_fd)

    def signal(self, signum: int) -> bool:
        """Sends `signum`; returns False when the process has ended."""
        try:
            signal.pidfd_send_signal(self.pidfd, signum)
            return True
        except ProcessLookupError:
            return False
        except OSError:
            return True   # not ours to signal (it changed its uid): left as it is

    def stat(self) -> tuple[bytes, int] | None:
        """Returns (state, number of threads) of the process, or None when it has ended."""
        try:
            fields = os.pread(self.stat_fd, 1024, 0).rsplit(b")", 1)[1].split()
            return fields[0], int(fields[17])
        except (OSError, IndexError, ValueError):
            return None

    @property
    def closed(self) -> bool:
        return self.pidfd < 0

    def close(self) -> None:
        """Closes both files; safe to call twice."""
        for fd in (self.pidfd, self.stat_fd):
            if fd >= 0:
                os.close(fd)
        self.pidfd = self.stat_fd = -1


def stop_all(find, known: dict[int, Handle], stopped: set[int]) -> None:
    """SIGSTOPs every process `find()` returns until it finds no new one, and waits (a few
    milliseconds at most) until each has stopped. `known` holds {pid: Handle} from one freeze
    to the next (the caller closes them with `forget_all`): a process seen at an earlier freeze
    costs no pidfd_open nor open of its stat file; the handles of pids `find()` no longer
    returns are closed. `stopped` collects the pids stopped (for `resume_all`)."""
    first = True
    while True:
        found = find()
        if first:
            first = False
            members = set(found)
            for pid in [pid for pid in known if pid not in members]:
                known.pop(pid).close()   # ended, or left the worker
        new = []
        for pid in found:
            if pid in stopped:
                continue
            handle = known.get(pid)
            if handle is not None and not handle.signal(signal.SIGSTOP):
                # Its process ended and the pid now names another one of the worker's.
                known.pop(pid).close()
                handle = None
            if handle is None:
                handle = Handle.open(pid)
                if handle is None:
                    continue
                known[pid] = handle
                if not handle.signal(signal.SIGSTOP):
                    continue
            stopped.add(pid)
            new.append(handle)
        if not new:
            return
        # A process may fork until it has really stopped: look again once all have.
        for handle in new:
            _wait_stopped(handle)


def _wait_stopped(handle: Handle, limit: float = 0.2) -> None:
    """Waits (yielding the CPU, at most `limit` seconds) until every thread of the process has
    stopped, or it ended: a stop reaches each thread when it next enters the kernel. A process
    of one thread is read from its kept stat file alone; only one with several threads has
    its threads listed and read."""
    deadline = time.monotonic() + limit
    while True:
        info = handle.stat()
        if info is None:
            return
        state, threads = info
        if threads > 1:
            break
        if state in STOPPED_STATES or time.monotonic() >= deadline:
            return
        os.sched_yield()
    try:
        tasks = os.listdir(f"/proc/{handle.pid}/task")
    except OSError:
        return
    for tid in tasks:
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{handle.pid}/task/{tid}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except OSError:
                break
            if state in STOPPED_STATES:
                break
            os.sched_yield()


STOPPED_STATES = (b"T", b"t", b"Z", b"X")


# A worker keeps its processes' handles between freezes while it has at most this many (two
# files each): a worker that left more (a fork bomb) has them closed at each thaw instead of
# holding hundreds of this process's files.
KEEP_HANDLES = 16


def resume_all(known: dict[int, Handle], stopped: set[int]) -> None:
    """SIGCONTs the processes `stop_all` stopped; their handles stay open for the next freeze
    (at most KEEP_HANDLES of them), but those of processes that ended are closed."""
    for pid in stopped:
        handle = known.get(pid)
        if handle is not None and not handle.signal(signal.SIGCONT):
            known.pop(pid).close()
    stopped.clear()
    if len(known) > KEEP_HANDLES:
        forget_all(known)


def forget_all(known: dict[int, Handle]) -> None:
    """Closes the handles `stop_all` kept."""
    for handle in known.values():
        handle.close()
    known.clear()


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
