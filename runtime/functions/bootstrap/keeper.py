"""Flowbench's keeper: the parent of one plain-backend worker, which reaps all it leaves.

    keeper.py [--uid N] [--unshare-net] [--cgroup PROCS_FILE ...] [--limit NAME=VALUE ...]
              -- WORKER ARGV...

Runs as the host's user (root: then the worker cannot signal it), forks the worker with its
resource limits and user id, and adopts every orphan the worker leaves (child subreaper), so no
process of the worker outlives it and none becomes a zombie that no one reaps. Before it drops
to its uid, the worker joins its cgroup (each cgroup.procs file given) and, with --unshare-net
(root only), a network namespace of its own where only loopback exists. When the worker exits,
or the keeper gets SIGTERM, every remaining descendant is killed and reaped; the keeper then
exits as the worker did (128 + signal number when a signal killed it).
"""

import ctypes
import fcntl
import os
import resource
import signal
import struct
import sys

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
LIMITS = {"nproc": resource.RLIMIT_NPROC, "nofile": resource.RLIMIT_NOFILE,
          "fsize": resource.RLIMIT_FSIZE, "as": resource.RLIMIT_AS, "core": resource.RLIMIT_CORE}
libc = ctypes.CDLL(None, use_errno=True)


def parse(argv):
    """Returns the options as a dict (uid, unshare_net, cgroups, limits) and the worker's argv."""
    options = {"uid": None, "unshare_net": False, "cgroups": [], "limits": []}
    while argv[0] != "--":
        option = argv.pop(0)
        if option == "--unshare-net":
            options["unshare_net"] = True
            continue
        value = argv.pop(0)
        if option == "--uid":
            options["uid"] = int(value)
        elif option == "--cgroup":
            options["cgroups"].append(value)
        else:
            name, number = value.split("=")
            options["limits"].append((LIMITS[name], int(number)))
    return options, argv[1:]


def own_network():
    """Moves this process into a new network namespace and brings its loopback up."""
    import socket  # only network-off workers need it: the others start faster without

    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def start_worker(options, argv):
    """In the forked child: become the worker (cgroup, network, limits, uid, death signal);
    never returns."""
    try:
        for procs in options["cgroups"]:
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        if options["unshare_net"]:
            own_network()
        # A session of its own is also a scheduler autogroup of its own: a worker that forks
        # hundreds of busy processes shares one CPU slot instead of starving its neighbours.
        os.setsid()
        uid = options["uid"]
        for limit, value in options["limits"]:
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
    options, argv = parse(sys.argv[1:])
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    signal.signal(signal.SIGTERM, lambda *_: (kill_everything(), os._exit(128 + 15)))
    worker = os.fork()
    if worker == 0:
        start_worker(options, argv)
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
