"""How a worker's processes are held between and during invocations: frozen, measured, killed.

Lambda freezes an execution environment between invocations and counts everything in it
against the function's memory. `Containment` does the same for one worker, with its cgroup
where the host gives one (see cgroups.py), and otherwise with what any process may do:

- the worker's processes: cgroup.procs; without: the descendants of the sandbox's own process
  (its namespace's init, its keeper).
- freezing: cgroup.freeze (v2); without (or with v1 only): SIGSTOP to each of them, SIGCONT
  before the next invoke.
- memory: the kernel enforces the cgroup's limit over the processes and their files in tmpfs,
  and reports usage and peak; without: the sum of their proportional set sizes, checked every
  20 ms (the sandbox sizes its tmpfs).
- out of memory: an OOM kill counted in the cgroup's events; without: the sum past the limit.
- kill: cgroup.kill, then every pid left; without: the backend's own (namespace or keeper).

Freezing happens off the caller's path: after a response the worker is handed to one freezer
thread, which freezes it once it has been idle for FREEZE_AFTER. An invocation that comes sooner
just cancels that (back-to-back invocations pay no freezer write at all); one that comes later
thaws it (one write with a cgroup, a few µs). So what a function leaves running gets at most
FREEZE_AFTER of CPU after each response. The freezer keeps watching a worker that is invoked
again for up to WATCH_BUSY, so that workers called back to back do not wake it (a futex wake
and a hand-over of the GIL) at every response: it ticks every FREEZE_AFTER while any is
watched, and sleeps otherwise.
"""

from __future__ import annotations

import os
import signal
import threading
import time

from .cgroups import WorkerCgroup
from .processes import Handle, descendants, forget_all, pss_kb, resume_all, stop_all

__all__ = ["Containment", "PAGE_KB", "FREEZE_AFTER"]

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
FREEZE_AFTER = 0.002   # seconds a worker is idle before it is frozen
WATCH_BUSY = 0.05      # seconds the freezer keeps watching a worker invoked again (see above)


class Containment:
    """The processes of one worker: `cgroup` is its WorkerCgroup, or None without one.

    `attach(root, worker)` names, once the worker runs, the process whose descendants are the
    worker's processes (the sandbox's init or keeper) and the worker itself.
    """

    def __init__(self, cgroup: WorkerCgroup | None):
        self.cgroup = cgroup
        self.root: int | None = None
        self.worker: int | None = None
        # Without a cgroup freezer: the worker's processes as the last freeze found them, their
        # pidfds and stat files kept open from one freeze to the next (closed in `close`), and
        # those stopped now.
        self._pidfds: dict[int, Handle] = {}
        self._stopped: set[int] = set()
        self._status_fd: int | None = None
        self._statm_fd: int | None = None
        self._children_fds: list[int] = []   # the root's and the worker's children files
        self._memory = (0, 0)
        # "running" (an invocation may use it), "idle" (to freeze at idle_since +
        # FREEZE_AFTER), "frozen", "halted" (being stopped). `frozen` is set once the kernel
        # says every process is frozen.
        self._state = "running"
        self._state_lock = threading.Lock()
        self.idle_since = 0.0
        self.busy_since = 0.0
        self.frozen = threading.Event()

    @property
    def polls_memory(self) -> bool:
        """Returns whether the sandbox must check the memory itself while an invocation runs
        (no cgroup enforces it)."""
        return self.cgroup is None or not self.cgroup.counts_memory

    def adopt(self, pid: int) -> None:
        """Moves a just-started process, stopped before it ran anything, into the cgroup and
        lets it go on (a backend whose first process cannot join the cgroup itself)."""
        try:
            os.waitid(os.P_PID, pid, os.WSTOPPED | os.WEXITED | os.WNOWAIT)
            self.cgroup.add(pid)
        finally:
            os.kill(pid, signal.SIGCONT)

    def attach(self, root: int | None, worker: int | None) -> None:
        if self.worker is not None:
            return   # attached already (a memory check while the worker started)
        self.root, self.worker = root, worker
        if worker:
            try:
                self._status_fd = os.open(f"/proc/{worker}/status", os.O_RDONLY)
                self._statm_fd = os.open(f"/proc/{worker}/statm", os.O_RDONLY)
                self._children_fds = [os.open(f"/proc/{pid}/task/{pid}/children", os.O_RDONLY)
                                      for pid in (root, worker) if pid]
            except OSError:
                self._status_fd = None

    def members(self) -> list[int]:
        """Returns the pids of every process of the worker."""
        if self.cgroup is not None:
            return self.cgroup.pids()
        return descendants(self.root) if self.root else []

    # --- freezing -----------------------------------------------------------------------------

    def freeze_soon(self) -> None:
        """Has the freezer thread freeze the worker once it has been idle for FREEZE_AFTER,
        unless `resume` comes first."""
        with self._state_lock:
            self._state = "idle"
            self.idle_since = time.monotonic()
        FREEZER.add(self)

    def resume(self) -> None:
        """Lets the worker run again (before an invocation): cancels a freeze not done yet, or
        thaws it."""
        with self._state_lock:
            if self._state == "frozen":
                self._thaw()
            self._state = "running"
            self.busy_since = time.monotonic()

    def halt(self) -> None:
        """Thaws the worker for good, before it is killed (stopped processes could not exit)
        and so that no freeze comes after."""
        with self._state_lock:
            self._thaw()
            self._state = "halted"

    @property
    def idle(self) -> bool:
        """Returns whether the worker waits to be frozen."""
        return self._state == "idle"

    def freeze_if_idle(self, now: float) -> bool:
        """Freezes the worker if it is still idle and has been for FREEZE_AFTER; returns
        whether the freezer is done with it (frozen, halted, or invoked for over WATCH_BUSY)."""
        with self._state_lock:
            if self._state == "running":
                return now - self.busy_since > WATCH_BUSY
            if self._state != "idle":
                return True
            if now - self.idle_since < FREEZE_AFTER:
                return False
            # Both return once the kernel says all is frozen (usually within microseconds).
            if self.cgroup is not None and self.cgroup.can_freeze:
                self.cgroup.freeze()
                self.cgroup.settle()
            elif self.root:
                stop_all(self.members, self._pidfds, self._stopped)
            self._state = "frozen"
            self.frozen.set()
        return True

    def _thaw(self) -> None:
        self.frozen.clear()
        if self.cgroup is not None and self.cgroup.can_freeze:
            self.cgroup.thaw()
        else:
            resume_all(self._pidfds, self._stopped)

    # --- memory -------------------------------------------------------------------------------

    def memory_kb(self, exact: bool = True, thorough: bool = False) -> tuple[int, int]:
        """Returns the worker's (current, peak) memory in kB; after it died, the last figures
        seen; (0, 0) before any.

        Without a cgroup, a worker alone is measured by its resident size (`exact=False` reads
        only the current size, about 1 µs instead of 7, keeping the peak as the largest seen);
        a worker with other processes by the sum of their proportional set sizes (`thorough`
        looks for them over every thread; otherwise only where they most likely are).
        """
        if self.cgroup is not None and self.cgroup.counts_memory:
            try:
                self._memory = self.cgroup.memory_kb(fresh=exact)
            except (OSError, ValueError):
                pass
            return self._memory
        if self._status_fd is None:
            return self._memory
        try:
            others = [pid for pid in self.members() if pid != self.worker] \
                if thorough or self._others_likely() else []
            if exact:
                status = os.pread(self._status_fd, 2048, 0)
                current, peak = (_status_field(status, b"VmRSS:"),
                                 _status_field(status, b"VmHWM:"))
            else:
                current = int(os.pread(self._statm_fd, 64, 0).split()[1]) * PAGE_KB
                peak = current
            if others:
                current = pss_kb(self.worker) + sum(pss_kb(pid) for pid in others)
                peak = max(peak, current)
            self._memory = (current, max(peak, self._memory[1]))
        except (OSError, ValueError, IndexError):
            pass
        return self._memory

    def _others_likely(self) -> bool:
        """Returns whether the worker may have other processes, from two reads instead of a
        walk over every thread: orphans come to the root, and handlers start processes from
        their main thread (those other threads start are counted by the next `thorough`
        check: every memory check while an invocation runs)."""
        if self.cgroup is not None or len(self._children_fds) < 2:
            return True
        of_root, of_worker = (os.pread(fd, 4096, 0).split() for fd in self._children_fds)
        return len(of_root) > 1 or bool(of_worker)

    def oom_killed(self) -> bool:
        """Returns whether the kernel killed a process of the worker for its memory limit."""
        return self.cgroup is not None and self.cgroup.oom_killed()

    # --- the end ------------------------------------------------------------------------------

    def kill(self) -> None:
        """Kills whatever of the worker the backend left (with a cgroup: everything)."""
        if self.cgroup is not None:
            self.cgroup.kill()

    def close(self) -> None:
        """Releases the cgroup and the files it holds open (the processes' pidfds too); safe
        to call twice."""
        forget_all(self._pidfds)
        for fd in [self._status_fd, self._statm_fd, *self._children_fds]:
            if fd is not None:
                os.close(fd)
        self._status_fd = self._statm_fd = None
        self._children_fds = []
        if self.cgroup is not None:
            self.cgroup.remove()


def _status_field(status: bytes, name: bytes) -> int:
    start = status.find(name)
    if start < 0:
        return 0
    end = status.find(b"kB", start)
    return int(status[start + len(name):end])


class Freezer:
    """The thread that freezes idle workers: it wakes at most every FREEZE_AFTER while any
    worker waits to be frozen, and sleeps otherwise."""

    def __init__(self):
        self._waiting: set[Containment] = set()
        self._wake = threading.Condition()
        self._asleep = False
        self._thread: threading.Thread | None = None

    def add(self, containment: Containment) -> None:
        # Watched already, the freezer awake (invoked back to back): its next tick sees the
        # worker idle. Looked at without the lock (set membership is atomic under the GIL): the
        # worker was made idle before, so a tick that drops it from `_waiting` meanwhile sees it
        # idle and keeps it, and the freezer sleeps only once `_waiting` is empty.
        if not self._asleep and containment in self._waiting:
            return
        with self._wake:
            if containment in self._waiting and not self._asleep:
                return   # watched already (invoked back to back): its next tick sees it idle
            self._waiting.add(containment)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="flowbench-worker-freezer")
                self._thread.start()
            elif self._asleep:
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._waiting:
                    self._asleep = True
                    self._wake.wait()
                    self._asleep = False
                waiting = list(self._waiting)
            done = []
            now = time.monotonic()
            for containment in waiting:
                try:
                    if containment.freeze_if_idle(now):
                        done.append(containment)
                except OSError:   # its cgroup or processes went away: it is being stopped
                    done.append(containment)
            with self._wake:
                self._waiting.difference_update(done)
                # One that went idle again since it was looked at (its add() found it still
                # watched and returned) stays watched.
                self._waiting.update(c for c in done if c.idle)
                if self._waiting:
                    self._wake.wait(FREEZE_AFTER)


FREEZER = Freezer()
