"""What the sandbox holds against a function, as Lambda does: all its memory (children and
memory-backed files too), no CPU between invocations, a bounded number of process ids, nothing
once its worker is retired.

Each test runs on every backend, with the host's cgroups and without any (`holdings`): what
differs is said where it does (the kernel counts tmpfs files only through a cgroup; without one,
the sandbox's tmpfs are sized instead).
"""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from tests.unit.functions.conftest import CGROUP_MEMORY, holdings
from tests.unit.functions.helpers import (PY_FORK_BOMB, PY_GATE, Gate, hostile,
                                          processes_with_marker, python_function, unique)

# A child that takes `event` MB, tells its parent through a pipe, then waits forever.
HOLD_IN_CHILDREN = (
    "import os\n"
    "def hold(mb, ready):\n"
    "    block = bytearray(mb << 20)\n"
    "    for i in range(0, len(block), 4096):\n"
    "        block[i] = 1\n"
    "    os.write(ready, b'x')\n"
    "    os.read(os.pipe()[0], 1)\n"
    "def spawn(mb):\n"
    "    ready_r, ready_w = os.pipe()\n"
    "    if os.fork() == 0:\n"
    "        os.setsid()\n"
    "        hold(mb, ready_w)\n"
    "    os.read(ready_r, 1)\n")


# Writes 200 MB into the file `event`.
FILL_200_MB = ("def handler(event, context):\n"
               "    with open(event, 'wb') as f:\n"
               "        for _ in range(200):\n"
               "            f.write(b'x' * (1 << 20))\n"
               "            f.flush()\n"
               "    return 'held 200 MB'\n")


PY_SPIN = ("def spin():\n"
           "    while True:\n"
           "        pass\n")


def functions_processes(marker: str) -> list[int]:
    """Returns the pids of what the function started (not its sandbox's own bwrap, init or
    keeper, which only wait and may wake for a child that stopped)."""
    found = []
    for pid in processes_with_marker(marker):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read()
        except OSError:
            continue
        if b"bwrap" not in command and b"keeper.py" not in command:
            found.append(pid)
    return found


def cpu_ns(pids: list[int]) -> int:
    """Returns the CPU time (ns) every thread of `pids` has used so far."""
    total = 0
    for pid in pids:
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
        except OSError:
            pass
    return total


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_children_count_against_the_functions_memory(held_runner):
    marker = uuid.uuid4().hex
    spec = hostile(HOLD_IN_CHILDREN +
                   "def handler(event, context):\n"
                   "    for _ in range(4):\n"
                   "        spawn(60)\n"
                   "    os.wait()\n", marker, timeout=60)
    inv = held_runner.invoke(spec, {})
    assert inv.error["errorType"] == "Runtime.OutOfMemory", inv.logs
    assert inv.max_memory_mb == 128
    assert processes_with_marker(marker) == []


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_node_child_processes_count_against_the_functions_memory(held_runner):
    marker = uuid.uuid4().hex
    spec = hostile("const { spawn } = require('child_process');\n"
                   "exports.handler = () => new Promise(() => {\n"
                   "  for (let i = 0; i < 3; i++) {\n"
                   "    spawn(process.execPath, ['-e',\n"
                   "      'const b = Buffer.alloc(100 << 20, 1);'\n"
                   "      + 'setInterval(() => b[0]++, 1e6)'],\n"
                   "      { stdio: 'inherit' });\n"
                   "  }\n"
                   "});\n", marker, language="node", timeout=60)
    inv = held_runner.invoke(spec, {})
    assert inv.error["errorType"] == "Runtime.OutOfMemory", inv.logs
    assert processes_with_marker(marker) == []


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_max_memory_used_counts_what_children_hold(held_runner):
    spec = hostile(HOLD_IN_CHILDREN +
                   "def handler(event, context):\n"
                   "    spawn(60)\n"
                   "    return 'left a child holding 60 MB'\n", uuid.uuid4().hex, timeout=60)
    inv = held_runner.invoke(spec, {})
    assert inv.error is None, inv.logs
    assert 60 <= inv.max_memory_mb < 128
    assert f"Max Memory Used: {inv.max_memory_mb} MB" in inv.logs


@pytest.mark.parametrize("held_runner", holdings(("bubblewrap",)), indirect=True)
def test_dev_shm_holds_no_more_than_the_functions_memory(held_runner):
    spec = hostile(FILL_200_MB, uuid.uuid4().hex, timeout=60)
    inv = held_runner.invoke(spec, "/dev/shm/fill")
    if held_runner._settings.cgroups is not None:   # counted: the kernel kills past 128 MB
        assert inv.error["errorType"] == "Runtime.OutOfMemory", inv.logs
    else:                                           # sized to the function's memory
        assert inv.error["errorType"] == "OSError" and "No space left" in \
            inv.error["errorMessage"], inv.logs


@pytest.mark.parametrize("held_runner", [p for p in holdings(cgroups=(True,)) if CGROUP_MEMORY],
                         indirect=True)
def test_files_in_memory_count_against_the_functions_memory(held_runner):
    # bubblewrap's /tmp is a tmpfs, plain's /dev/shm the host's: memory either way.
    folder = "/tmp" if held_runner.backend_name == "bubblewrap" else "/dev/shm"
    marker = uuid.uuid4().hex
    spec = hostile(FILL_200_MB, marker, timeout=60)
    inv = held_runner.invoke(spec, f"{folder}/fill-{marker}")
    assert inv.error["errorType"] == "Runtime.OutOfMemory", inv.logs
    assert not os.path.exists(f"{folder}/fill-{marker}")


def assert_frozen_soon(runner, spec) -> None:
    """Asserts that the idle worker of `spec` is frozen soon after its response."""
    (worker,) = runner._pools[spec.version_key].idle
    assert worker.containment.frozen.wait(timeout=10)


def assert_idle_while_others_run(runner, pids: list[int]) -> None:
    """Asserts that `pids` get no CPU while the host goes on working: 20 invocations of an
    ordinary function."""
    used = cpu_ns(pids)
    ordinary = python_function("def handler(event, context):\n    return event\n",
                               name=unique("ordinary"))
    for n in range(20):
        assert runner.invoke(ordinary, n).payload == n
    assert cpu_ns(pids) == used


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_what_a_function_leaves_running_gets_no_cpu_between_invocations(held_runner):
    marker = uuid.uuid4().hex
    spec = hostile("import os, subprocess, threading\n" + PY_SPIN +
                   "def handler(event, context):\n"
                   "    threading.Thread(target=spin, daemon=True).start()\n"
                   "    subprocess.Popen(['python3', '-c', 'while True: pass'],\n"
                   "                     start_new_session=True)\n"
                   "    if os.fork() == 0:\n"
                   "        spin()\n"
                   "    return 'left three spinning'\n", marker)
    assert held_runner.invoke(spec, {}).payload == "left three spinning"
    assert_frozen_soon(held_runner, spec)
    left = functions_processes(marker)
    assert len(left) == 3
    assert_idle_while_others_run(held_runner, left)
    # Thawed for its next invocation, frozen again after it.
    assert held_runner.invoke(spec, {}).payload == "left three spinning"
    held_runner.retire(spec.name)
    assert processes_with_marker(marker) == []


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_a_worker_invoked_back_to_back_is_frozen_after_its_last_response(held_runner):
    # Back-to-back invocations do not wake the freezer at each response (it goes on watching
    # the worker), and the last one must still be followed by a freeze.
    marker = uuid.uuid4().hex
    spec = hostile("import threading\n" + PY_SPIN +
                   "def handler(event, context):\n"
                   "    if event == 'leave one spinning':\n"
                   "        threading.Thread(target=spin, daemon=True).start()\n"
                   "    return event\n", marker)
    for n in range(200):
        assert held_runner.invoke(spec, n).payload == n
    assert held_runner.invoke(spec, "leave one spinning").payload == "leave one spinning"
    assert_frozen_soon(held_runner, spec)
    (left,) = functions_processes(marker)
    assert_idle_while_others_run(held_runner, [left])
    held_runner.retire(spec.name)


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_a_fork_bomb_left_behind_holds_bounded_process_ids_and_none_after(held_runner):
    marker = uuid.uuid4().hex
    spec = hostile(PY_FORK_BOMB +
                   "def handler(event, context):\n"
                   "    if os.fork() == 0:\n"
                   "        os.setsid()\n"
                   "        bomb()\n"
                   "    return 'left a fork bomb'\n", marker)
    assert held_runner.invoke(spec, {}).payload == "left a fork bomb"
    assert len(processes_with_marker(marker)) <= held_runner._settings.max_processes
    held_runner.retire(spec.name)
    assert processes_with_marker(marker) == []


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_retiring_a_busy_function_lets_its_invocation_finish_then_stops_the_worker(
        held_runner):
    gate, marker = Gate(), uuid.uuid4().hex
    spec = hostile(PY_GATE + "def handler(event, context):\n"
                             "    wait_at_gate(event)\n"
                             "    return 'finished'\n", marker, timeout=60)
    result = {}
    thread = threading.Thread(target=lambda: result.update(inv=held_runner.invoke(spec,
                                                                                  gate.port)))
    thread.start()
    gate.server.settimeout(60)
    conn, _ = gate.server.accept()          # it is running
    assert held_runner.retire(spec.name) == 0
    conn.sendall(b"go")
    thread.join()
    conn.close()
    gate.close()
    assert result["inv"].payload == "finished"
    assert processes_with_marker(marker) == []
    assert spec.version_key not in held_runner.workers()


def test_a_redeploy_retires_only_the_replaced_latest_workers(fresh_runner):
    source = "def handler(event, context):\n    return event\n"
    latest = python_function(source, name=unique("redeployed"))
    published = python_function(source, name=latest.name, version="1")
    other = python_function(source, name=unique("other"))
    for spec in (latest, published, other):
        assert fresh_runner.invoke(spec, 1).payload == 1
    assert fresh_runner.retire(latest.name, version="$LATEST") == 1
    assert set(fresh_runner.workers()) == {published.version_key, other.version_key}
