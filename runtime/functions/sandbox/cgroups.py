"""A cgroup per worker, where this host lets Flowbench make them.

A worker's cgroup holds every process of the worker (so also children that detached with
setsid) and what they keep in memory-backed files (tmpfs pages are charged to the cgroup of the
process that wrote them). Through it the kernel enforces the function's memory size and the
worker's process count, reports the peak memory, freezes the worker between invocations and
kills all of it at once.

Where the cgroups come from (found once per process by `find_cgroups`):

- cgroup v2 (one hierarchy at /sys/fs/cgroup): memory, pids, freeze and kill all live in one
  directory. Controllers can be handed to children only by a cgroup without processes of its
  own, so when this process shares its cgroup it first moves itself into a leaf of its own (as
  nsjail does); if others share it too, no cgroup is used.
- cgroup v1, or a hybrid host: the memory hierarchy, and the pids one when not running as root
  (as root each worker has a uid of its own, whose RLIMIT_NPROC bounds it as pids.max would),
  when they are writable. The worker is frozen with signals to the processes its cgroup lists.

Each hierarchy a worker joins costs its start a few milliseconds: moving a process between
cgroups waits for the kernel (about 5 ms per hierarchy on this host, an RCU grace period), so
workers join as few as give the guarantees. Neither the v1 freezer (about 100 µs a write here)
nor a v2 hierarchy without controllers (a hybrid host's /sys/fs/cgroup/unified: one more move)
is used.

Every cgroup is made below this process's own (so limits set above Flowbench still apply), in
`flowbench-<pid>`; those of processes that are gone are removed on the next start.
"""

from __future__ import annotations

import atexit
import itertools
import os
import select
import time
from dataclasses import dataclass
from functools import lru_cache

from .processes import alive, kill_until_gone

__all__ = ["CgroupHost", "WorkerCgroup", "find_cgroups"]

# The files of each memory controller, by hierarchy version: both "events" files hold a line
# "oom_kill N" counting the processes the kernel killed for going past the limit.
MEMORY_FILES = {
    2: {"limit": "memory.max", "current": "memory.current", "peak": "memory.peak",
        "events": "memory.events", "swap": "memory.swap.max"},
    1: {"limit": "memory.limit_in_bytes", "current": "memory.usage_in_bytes",
        "peak": "memory.max_usage_in_bytes", "events": "memory.oom_control",
        "swap": "memory.memsw.limit_in_bytes"},
}
# How long `settle` waits for the kernel to say all is frozen (ms): usually microseconds; a busy
# host may take a while to schedule each thread into the freezer; a process in uninterruptible
# sleep freezes when it wakes.
FREEZE_SETTLE_MS = 200
_names = itertools.count(1)
PROCS_READ = 16384   # bytes of cgroup.procs read at once: a worker's 256 processes fit


@dataclass(frozen=True)
class CgroupHost:
    """Where this process makes worker cgroups: its own directory in each hierarchy it uses
    (None where it uses none). `memory_version` says which files the memory controller has."""

    memory: str | None = None
    memory_version: int = 2
    pids: str | None = None
    unified: str | None = None        # the v2 directory: cgroup.freeze and cgroup.kill

    def describe(self) -> str:
        """Returns what the workers' cgroups do here, in a few words for logs and pages."""
        parts = []
        if self.memory:
            parts.append(f"memory (v{self.memory_version})")
        else:
            parts.append("no memory controller (memory summed over the worker's processes)")
        if self.pids:
            version = self.memory_version if self.pids == self.memory else 1
            parts.append(f"process count (v{version})")
        parts.append("freezing and killing" if self.unified else "freezing with signals")
        return "cgroups: " + ", ".join(parts)

    def new_worker(self, memory_bytes: int, max_pids: int) -> "WorkerCgroup":
        """Returns a new, empty cgroup for one worker with these limits; raises OSError when
        the kernel refuses to make it."""
        return WorkerCgroup(self, f"w{next(_names)}-{os.urandom(4).hex()}", memory_bytes,
                            max_pids)


class WorkerCgroup:
    """The cgroup directories of one worker, with its limits set.

    Not thread-safe: it belongs to one sandbox, which one invocation uses at a time.
    """

    def __init__(self, host: CgroupHost, name: str, memory_bytes: int, max_pids: int):
        self.dirs = []
        self._fds: dict[str, int] = {}
        self._peak_seen = self._current = 0
        self._limit = memory_bytes
        try:
            self.memory = self._make(host.memory, name)
            self.pids_dir = self._make(host.pids, name)
            self.unified = self._make(host.unified, name)
            if self.memory:
                files = MEMORY_FILES[host.memory_version]
                _write(self.memory, files["limit"], memory_bytes)
                # Past the limit the kernel must kill, not swap the worker out.
                swap = 0 if host.memory_version == 2 else memory_bytes
                _write(self.memory, files["swap"], swap, missing_ok=True)
                for role in ("current", "peak", "events"):
                    self._open(role, os.path.join(self.memory, files[role]))
            if self.pids_dir:
                _write(self.pids_dir, "pids.max", max_pids)
            if self.unified and self.dirs[0] == self.unified:
                # v2 lists a cgroup's processes afresh at each read from the start, so its
                # cgroup.procs stays open. v1 gives a file kept open the list it cached at an
                # earlier read (it keeps one for a second after each), missing processes that
                # came since: there the file is opened for each read.
                self._open("procs", os.path.join(self.unified, "cgroup.procs"))
            if self.unified:
                self._open("freeze", os.path.join(self.unified, "cgroup.freeze"), os.O_WRONLY)
                self._open("state", os.path.join(self.unified, "cgroup.events"))
            self._oom_base = self.oom_kills()
        except BaseException:
            self.remove()
            raise

    def _make(self, parent: str | None, name: str) -> str | None:
        if parent is None:
            return None
        path = os.path.join(parent, name)
        if path not in self.dirs:
            os.mkdir(path)
            self.dirs.append(path)
        return path

    def _open(self, role: str, path: str, flags: int = os.O_RDONLY) -> None:
        try:
            self._fds[role] = os.open(path, flags)
        except FileNotFoundError:
            pass  # memory.peak is new in Linux 5.19; without it the peak is the largest seen

    # --- what the sandbox asks -------------------------------------------------------------

    @property
    def procs_files(self) -> list[str]:
        """Returns the cgroup.procs files a process writes its pid to, to join the worker."""
        return [os.path.join(d, "cgroup.procs") for d in self.dirs]

    def add(self, pid: int) -> None:
        """Moves process `pid` (not yet running the worker's code) into the cgroup."""
        for path in self.procs_files:
            with open(path, "w") as f:
                f.write(str(pid))

    @property
    def can_freeze(self) -> bool:
        return "freeze" in self._fds

    @property
    def counts_memory(self) -> bool:
        return "current" in self._fds

    def freeze(self) -> None:
        """Asks the kernel to freeze every process of the worker (see `settle`)."""
        os.pwrite(self._fds["freeze"], b"1", 0)

    def settle(self) -> None:
        """Returns once the kernel says every process is frozen, or after FREEZE_SETTLE_MS
        (then the rest freeze on their own)."""
        state = self._fds.get("state")
        if state is None or b"frozen 1" in os.pread(state, 128, 0):
            return
        # The kernel notifies a change of cgroup.events to poll() as POLLPRI.
        watch = select.poll()
        watch.register(state, select.POLLPRI)
        deadline = time.monotonic() + FREEZE_SETTLE_MS / 1000
        while b"frozen 1" not in os.pread(state, 128, 0):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            watch.poll(left * 1000)

    def thaw(self) -> None:
        os.pwrite(self._fds["freeze"], b"0", 0)

    def memory_kb(self, fresh: bool = True) -> tuple[int, int]:
        """Returns (current, peak) kB charged to the worker: its processes and its files in
        memory (tmpfs). `fresh=False` gives the figures as last read, the peak by `oom_killed`
        just after a reply (a sub-millisecond invocation cannot have grown much since)."""
        if fresh or "peak" not in self._fds:
            self._current = int(os.pread(self._fds["current"], 32, 0)) // 1024
            self._read_peak()
        return self._current, self._peak_seen

    def _read_peak(self) -> int:
        peak_fd = self._fds.get("peak")
        peak = int(os.pread(peak_fd, 32, 0)) // 1024 if peak_fd is not None else self._current
        self._peak_seen = max(self._peak_seen, peak, self._current)
        return self._peak_seen

    def oom_kills(self) -> int:
        """Returns how many processes the kernel killed in this cgroup for going past the
        memory limit (0 without a memory controller)."""
        fd = self._fds.get("events")
        if fd is None:
            return 0
        events = os.pread(fd, 512, 0)
        start = events.find(b"oom_kill ")
        return int(events[start + 9:events.find(b"\n", start)]) if start >= 0 else 0

    def oom_killed(self) -> bool:
        """Returns whether the kernel killed a process of the worker for its memory. The kernel
        kills only at the limit, so a peak well under it answers with one read (of the peak,
        which memory_kb(fresh=False) then reuses)."""
        if "events" not in self._fds:
            return False
        if "peak" in self._fds and self._read_peak() * 1024 < self._limit - (self._limit >> 4):
            return False
        return self.oom_kills() > self._oom_base

    def pids(self) -> list[int]:
        """Returns the pids of every process in the cgroup: on v2, preads of its cgroup.procs
        kept open; on v1, of the file opened for this read (see __init__)."""
        if not self.dirs:
            return []   # removed
        kept = self._fds.get("procs")
        try:
            fd = kept if kept is not None else os.open(self.procs_files[0], os.O_RDONLY)
        except OSError:
            return []
        try:
            listing = os.pread(fd, PROCS_READ, 0)
            while len(listing) % PROCS_READ == 0 and listing:   # a long list: read the rest
                more = os.pread(fd, PROCS_READ, len(listing))
                if not more:
                    break
                listing += more
            return [int(p) for p in listing.split()]
        except OSError:
            return []
        finally:
            if kept is None:
                os.close(fd)

    def kill(self) -> None:
        """Kills every process in the cgroup and returns once none is left."""
        if self.unified and os.path.exists(os.path.join(self.unified, "cgroup.kill")):
            _write(self.unified, "cgroup.kill", 1)
        kill_until_gone(self.pids)

    def remove(self) -> None:
        """Removes the cgroup's directories (call `kill` first); safe to call twice."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}
        for path in reversed(self.dirs):
            _rmdir(path)
        self.dirs = []


def _write(directory: str, name: str, value, missing_ok: bool = False) -> None:
    try:
        with open(os.path.join(directory, name), "w") as f:
            f.write(str(value))
    except FileNotFoundError:
        if not missing_ok:
            raise


def _rmdir(path: str) -> None:
    """Removes an empty cgroup; an exiting process keeps it busy for a moment."""
    for _ in range(500):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.002)


# --- finding them ------------------------------------------------------------------------------

def _mounts() -> list[tuple[str, str, str, set]]:
    """Returns (mount root, mount point, fs type, super options) of every cgroup mount."""
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    for line in lines:
        head, _, tail = line.partition(" - ")
        fields, rest = head.split(), tail.split()
        if len(fields) >= 5 and len(rest) >= 3 and rest[0] in ("cgroup", "cgroup2"):
            found.append((fields[3], fields[4].replace("\\040", " "), rest[0],
                          set(rest[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """Returns this process's cgroup path per v1 controller, and under "" its v2 path."""
    paths = {}
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def _own_dir(mount_root: str, mount_point: str, path: str) -> str | None:
    """Returns the directory of cgroup `path` under a mount of `mount_root`, or None when the
    mount does not show it (a container sees only part of the host's tree)."""
    if mount_root != "/" and not (path + "/").startswith(mount_root.rstrip("/") + "/"):
        return None
    relative = path[len(mount_root.rstrip("/")):].lstrip("/")
    directory = os.path.join(mount_point, relative)
    return directory if os.path.isdir(directory) else None


def _parent_for_workers(own: str) -> str | None:
    """Returns this process's directory for worker cgroups below `own` (made if need be), or
    None when it cannot be made; clears out those of processes that are gone."""
    _remove_abandoned(own)
    path = os.path.join(own, f"flowbench-{os.getpid()}")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    return path


def _remove_abandoned(own: str) -> None:
    try:
        names = os.listdir(own)
    except OSError:
        return
    for name in names:
        pid = name.removeprefix("flowbench-").removeprefix("server-")
        if not (name.startswith("flowbench-") and pid.isdigit()) or alive(int(pid)):
            continue
        parent = os.path.join(own, name)
        for child in _subdirs(parent):
            path = os.path.join(parent, child)
            kill_until_gone(lambda: _procs(path))
            _rmdir(path)
        _rmdir(parent)


def _subdirs(path: str) -> list[str]:
    try:
        return [e.name for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _procs(path: str) -> list[int]:
    try:
        with open(os.path.join(path, "cgroup.procs"), "rb") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _enable_v2_controllers(own: str, parent: str) -> bool:
    """Hands memory and pids down from `own` through `parent` to worker cgroups; returns
    whether it could. A cgroup with processes cannot hand controllers down, so when this
    process is in `own` it first moves into a leaf of its own (and back if others remain)."""
    if not {"memory", "pids"} <= set(_read(own, "cgroup.controllers").split()):
        return False
    if not _subtree(own):
        leaf = os.path.join(own, f"flowbench-server-{os.getpid()}")
        try:
            os.makedirs(leaf, exist_ok=True)
            _write(leaf, "cgroup.procs", os.getpid())
        except OSError:
            _rmdir(leaf)
            return False
        if not _subtree(own):
            try:
                _write(own, "cgroup.procs", os.getpid())
            except OSError:
                pass
            _rmdir(leaf)
            return False
    return _subtree(parent)


def _subtree(path: str) -> bool:
    try:
        _write(path, "cgroup.subtree_control", "+memory +pids")
        return True
    except OSError:
        return False


def _read(directory: str, name: str) -> str:
    try:
        with open(os.path.join(directory, name)) as f:
            return f.read()
    except OSError:
        return ""


@lru_cache(maxsize=1)
def find_cgroups() -> CgroupHost | None:
    """Returns where this process can make worker cgroups, or None where it can make none
    (no writable cgroup: an unprivileged container, a v2 host without delegation)."""
    own = _own_paths()
    mounts = _mounts()
    for mount_root, mount_point, fstype, _ in mounts:
        if fstype == "cgroup2" and "memory" not in own:   # a v2 host: one hierarchy
            directory = _own_dir(mount_root, mount_point, own.get("", "/"))
            if directory and os.access(directory, os.W_OK):
                parent = _parent_for_workers(directory)
                if parent and _enable_v2_controllers(directory, parent):
                    freezes = os.path.exists(os.path.join(parent, "cgroup.freeze"))  # 5.2+
                    return _found(CgroupHost(memory=parent, memory_version=2, pids=parent,
                                             unified=parent if freezes else None))
                if parent:
                    _rmdir(parent)
    wanted = ("memory",) if os.geteuid() == 0 else ("memory", "pids")
    found = {}
    for mount_root, mount_point, fstype, options in mounts:
        for controller in wanted:
            if fstype == "cgroup" and controller in options and controller in own and \
                    controller not in found:
                directory = _own_dir(mount_root, mount_point, own[controller])
                if directory and os.access(directory, os.W_OK):
                    found[controller] = _parent_for_workers(directory)
    if not any(found.values()):
        return None
    return _found(CgroupHost(memory=found.get("memory"), memory_version=1,
                             pids=found.get("pids")))


def _found(host: CgroupHost) -> CgroupHost:
    atexit.register(_remove_parents, {host.memory, host.pids, host.unified} - {None})
    return host


def _remove_parents(parents: set[str]) -> None:
    """Removes this process's parents of worker cgroups as it exits (the next start removes
    what a process that died left)."""
    for path in parents:
        try:
            os.rmdir(path)
        except OSError:
            pass   # a worker still being stopped: the next start removes it
