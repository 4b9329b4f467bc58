"""Freezing with signals (where no cgroup freezes a worker): the processes' pidfds and stat files
stay open from one freeze to the next and are closed with the containment; a pid whose process
ended and now names another is never signalled through the old pidfd; every thread is stopped
before a freeze returns. And a cgroup's process list is read afresh at every read.

These drive `Containment` and `stop_all` on processes of the test's own (a process tree with
threads), so they hold whatever the host's cgroups are.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from runtime.functions.sandbox.containment import Containment
from runtime.functions.sandbox.processes import (KEEP_HANDLES, Handle, descendants, forget_all,
                                                 resume_all, stop_all)
from tests.unit.functions.conftest import CGROUP_MEMORY, HOST_CGROUPS

# A process that spins in two threads and in a child it forked, and says when all three run.
SPINNING_TREE = (
    "import os, sys, threading\n"
    "def spin():\n"
    "    while True:\n"
    "        pass\n"
    "threading.Thread(target=spin, daemon=True).start()\n"
    "if os.fork() == 0:\n"
    "    spin()\n"
    "sys.stdout.write('running\\n'); sys.stdout.flush()\n"
    "spin()\n")


@pytest.fixture
def spinning_tree():
    """Yields (root, its pid) of a shell whose child is SPINNING_TREE (root's descendants are the
    processes to freeze), killed afterwards."""
    root = subprocess.Popen(["/bin/sh", "-c", f'"{sys.executable}" -c "$0"; :', SPINNING_TREE],
                            stdout=subprocess.PIPE, start_new_session=True)
    assert root.stdout.readline() == b"running\n"
    try:
        yield root
    finally:
        os.killpg(root.pid, signal.SIGKILL)
        root.wait()
        for pid in descendants(root.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def thread_states(pid: int) -> set[bytes]:
    states = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
            states.add(f.read().rsplit(b")", 1)[1].split()[0])
    return states


def is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def test_a_signal_freeze_keeps_the_processes_pidfds_for_the_next_and_close_releases_them(
        spinning_tree):
    containment = Containment(None)
    containment.attach(spinning_tree.pid, None)
    members = descendants(spinning_tree.pid)
    assert len(members) == 2   # the spinning process (two threads) and its child

    containment.freeze_soon()
    assert containment.frozen.wait(5)
    assert all(thread_states(pid) == {b"T"} for pid in members)   # every thread stopped
    kept = dict(containment._pidfds)
    assert sorted(kept) == sorted(members)

    containment.resume()
    assert all(b"T" not in thread_states(pid) for pid in members)
    # Still open between freezes, and the next freeze uses the same ones.
    assert all(is_open(h.pidfd) and is_open(h.stat_fd) for h in kept.values())
    containment.freeze_soon()
    assert containment.frozen.wait(5)
    assert containment._pidfds == kept
    assert all(thread_states(pid) == {b"T"} for pid in members)

    containment.halt()
    assert all(b"T" not in thread_states(pid) for pid in members)
    containment.close()
    assert containment._pidfds == {}
    assert all(h.closed for h in kept.values())


def test_a_pid_that_names_another_process_now_gets_a_pidfd_of_its_own():
    ended = subprocess.Popen(["sleep", "60"])
    stale = Handle.open(ended.pid)
    ended.kill()
    ended.wait()
    other = subprocess.Popen(["sleep", "60"])
    try:
        # As if `other` had been given the ended process's pid.
        known, stopped = {other.pid: stale}, set()
        stop_all(lambda: [other.pid], known, stopped)
        assert thread_states(other.pid) == {b"T"}
        assert known[other.pid] is not stale and stale.closed
        assert stopped == {other.pid}
        resume_all(known, stopped)
        assert thread_states(other.pid) != {b"T"} and stopped == set()
        assert other.pid in known   # kept for the next freeze
        forget_all(known)
        assert known == {}
    finally:
        other.kill()
        other.wait()


def test_a_freeze_forgets_the_processes_that_ended_since_the_last():
    first, second = subprocess.Popen(["sleep", "60"]), subprocess.Popen(["sleep", "60"])
    try:
        pids = [first.pid, second.pid]
        known, stopped = {}, set()
        stop_all(lambda: list(pids), known, stopped)
        resume_all(known, stopped)
        gone = known[first.pid]
        first.kill()
        first.wait()
        pids.remove(first.pid)
        stop_all(lambda: list(pids), known, stopped)
        assert list(known) == [second.pid] and gone.closed
        resume_all(known, stopped)
        forget_all(known)
    finally:
        for process in (first, second):
            process.kill()
            process.wait()


def test_a_worker_with_many_processes_keeps_no_handles_between_freezes():
    many = [subprocess.Popen(["sleep", "60"]) for _ in range(KEEP_HANDLES + 1)]
    try:
        known, stopped = {}, set()
        stop_all(lambda: [p.pid for p in many], known, stopped)
        handles = list(known.values())
        assert len(handles) == KEEP_HANDLES + 1 and stopped == {p.pid for p in many}
        resume_all(known, stopped)
        assert known == {} and all(h.closed for h in handles)
        assert all(thread_states(p.pid) != {b"T"} for p in many)
    finally:
        for process in many:
            process.kill()
            process.wait()


@pytest.mark.skipif(not CGROUP_MEMORY, reason="the host gives no memory cgroup")
def test_a_cgroups_process_list_is_read_afresh():
    cgroup = HOST_CGROUPS.new_worker(64 << 20, 16)
    started = []
    try:
        assert cgroup.pids() == []
        for _ in range(2):
            started.append(subprocess.Popen(["sleep", "60"]))
            cgroup.add(started[-1].pid)
            assert cgroup.pids() == [p.pid for p in started]
        started[0].kill()
        started[0].wait()
        assert cgroup.pids() == [started[1].pid]
    finally:
        for process in started:
            process.kill()
            process.wait()
        cgroup.kill()
        cgroup.remove()
    assert cgroup.pids() == []
