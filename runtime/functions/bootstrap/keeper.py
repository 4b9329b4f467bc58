"""Flowbench's keeper: the parent of one plain-backend worker, which reaps all it leaves.

    keeper.py [--uid N] [--limit NAME=VALUE ...] -- WORKER ARGV...

Runs as the host's user (root: then the worker cannot signal it), forks the worker with its
resource limits and user id, and adopts every orphan the worker leaves (child subreaper), so no
process of the worker outlives it and none becomes a zombie that no one reaps. When the worker
exits, or the keeper gets SIGTERM, every remaining descendant is killed and reaped; the keeper
then exits as the worker did (128 + signal number when a signal killed it).
"""

import ctypes
import os
import resource
import signal
import sys

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
LIMITS = {"nproc": resource.RLIMIT_NPROC, "nofile": resource.RLIMIT_NOFILE,
          "fsize": resource.RLIMIT_FSIZE, "as": resource.RLIMIT_AS, "core": resource.RLIMIT_CORE}
libc = ctypes.CDLL(None, use_errno=True)


def parse(argv):
    uid, limits = None, []
    while argv[0] != "--":
        option, value = argv[0], argv[1]
        argv = argv[2:]
        if option == "--uid":
            uid = int(value)
        else:
            name, number = value.split("=")
            limits.append((LIMITS[name], int(number)))
    return uid, limits, argv[1:]


def start_worker(uid, limits, argv):
    """In the forked child: become the worker (limits, uid, death signal), never returns."""
    try:
        # A session of its own is also a scheduler autogroup of its own: a worker that forks
        # hundreds of busy processes shares one CPU slot instead of starving its neighbours.
        os.setsid()
        for limit, value in limits:
            resource.setrlimit(limit, (value, value))
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        # Set after the uid change, which clears it.
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        os.execv(argv[0], argv)
    finally:
        os._exit(127)


def children():
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def kill_everything():
    """Kills and reaps every descendant; orphans keep coming to this subreaper until none is
    left."""
    while True:
        for pid in children():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def main():
    uid, limits, argv = parse(sys.argv[1:])
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    signal.signal(signal.SIGTERM, lambda *_: (kill_everything(), os._exit(128 + 15)))
    worker = os.fork()
    if worker == 0:
        start_worker(uid, limits, argv)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        if pid == worker:
            kill_everything()
            if os.WIFSIGNALED(status):
                os._exit(128 + os.WTERMSIG(status))
            os._exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
