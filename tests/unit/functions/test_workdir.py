"""What a runner leaves on the machine: its work directory and its cgroups, private while it
lives, removed by the next start once it died (never while another process uses them)."""

import os
import signal
import stat
import subprocess
import sys

import pytest

from runtime.functions import FunctionRunner
from runtime.functions.sandbox import cgroups
from tests.unit.functions.conftest import AS_ROOT, HOST_CGROUPS

DIES_HOLDING_A_RUNNER = ("import os, signal\n"
                         "from runtime.functions import FunctionRunner\n"
                         "runner = FunctionRunner('plain')\n"
                         "print(runner._work_dir, flush=True)\n"
                         "os.kill(os.getpid(), signal.SIGKILL)\n")


def test_a_runner_removes_the_work_dirs_of_dead_runners_only():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    dead = subprocess.run([sys.executable, "-c", DIES_HOLDING_A_RUNNER], capture_output=True,
                          text=True, cwd=root)
    assert dead.returncode == -signal.SIGKILL
    abandoned = dead.stdout.strip()
    assert os.path.isdir(abandoned)
    with FunctionRunner("plain") as alive:
        with FunctionRunner("plain") as starting:
            assert not os.path.exists(abandoned)
            assert os.path.isdir(alive._work_dir)        # its owner still holds its lock
            assert starting._work_dir != alive._work_dir
        work_dir = alive._work_dir
    assert not os.path.exists(work_dir)


def test_the_work_dir_is_private_and_workers_can_only_pass_through_it():
    with FunctionRunner("plain") as runner:
        # Workers under uids of their own (root) must reach their code: pass, never list.
        expected = 0o711 if AS_ROOT else 0o700
        for path in (runner._work_dir, os.path.join(runner._work_dir, "code")):
            assert stat.S_IMODE(os.stat(path).st_mode) == expected


@pytest.mark.parametrize("host", [HOST_CGROUPS] if HOST_CGROUPS else [])
def test_the_cgroups_of_a_dead_process_are_removed_and_a_live_ones_kept(host):
    own = os.path.dirname(host.unified or host.memory or host.pids)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True)
    dead = os.path.join(own, f"flowbench-{int(finished.stdout)}")
    os.makedirs(os.path.join(dead, "w1-left"))
    live = os.path.join(own, f"flowbench-{os.getppid()}")
    os.makedirs(live, exist_ok=True)
    try:
        cgroups._remove_abandoned(own)
        assert not os.path.exists(dead)
        assert os.path.isdir(live)
    finally:
        os.rmdir(live)
