"""Hostile functions, against both sandbox backends.

Each one is contained with a clear error, leaves no process behind, and an ordinary function
invoked while it runs is unaffected. A guarantee is asserted on every backend that gives it on
this host: isolation from the host's files, signals and network on `isolating_runner` (bubblewrap;
plain too when Flowbench runs as root, see conftest.py), the rest on both backends. What the
sandbox holds against a function's memory, CPU and process ids: test_containment.py.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid

import pytest

from runtime.functions import FunctionRunner
from tests.unit.functions.conftest import holdings
from tests.unit.functions.helpers import (PY_FORK_BOMB, hostile, processes_with_marker,
                                          python_function, unique)

# Generous timeouts where time is not what a test is about: a shared CI machine can be slow.
ORDINARY = python_function("def handler(event, context):\n    return {'ordinary': event}\n",
                           name="ordinary", timeout=60)
TRY_READING = ("def handler(event, context):\n"
               "    print('started')\n"
               "    seen = {}\n"
               "    for path in event:\n"
               "        try:\n"
               "            seen[path] = open(path).read()[:20]\n"
               "        except OSError as exc:\n"
               "            seen[path] = type(exc).__name__\n"
               "    return seen\n")


def invoke_alongside(runner: FunctionRunner, spec, event=None):
    """Runs `spec` in a thread; once it has logged "started", invokes an ordinary function and
    checks it is unaffected. Returns the hostile invocation."""
    started = threading.Event()
    result = {}

    def on_log(line):
        if "started" in line:
            started.set()

    def run():
        try:
            result["inv"] = runner.invoke(spec, event, on_log=on_log)
        finally:
            started.set()

    thread = threading.Thread(target=run)
    thread.start()
    started.wait()
    ordinary = runner.invoke(ORDINARY, {"n": 1})
    assert ordinary.error is None and ordinary.payload == {"ordinary": {"n": 1}}, ordinary.logs
    thread.join()
    return result["inv"]


def test_a_fork_bomb_times_out_and_leaves_no_process(fresh_runner):
    marker = uuid.uuid4().hex
    spec = hostile(PY_FORK_BOMB + "def handler(event, context):\n"
                                  "    print('started', flush=True)\n"
                                  "    bomb()\n", marker)
    inv = invoke_alongside(fresh_runner, spec)
    # Whichever limit it reaches first: its time, or its memory (a cgroup counts what each of
    # its processes costs the kernel too).
    if inv.error["errorType"] == "Runtime.OutOfMemory":
        assert inv.max_memory_mb == 128
    else:
        assert inv.error["errorType"] == "Sandbox.Timedout"
        assert "Task timed out after 1.00 seconds" in inv.error["errorMessage"]
    assert processes_with_marker(marker) == []


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_a_memory_hog_is_killed_with_out_of_memory(held_runner):
    marker = uuid.uuid4().hex
    spec = hostile("def handler(event, context):\n"
                   "    print('started', flush=True)\n"
                   "    chunks = []\n"
                   "    while True:\n"
                   "        chunks.append(b'x' * (1 << 20))\n", marker, timeout=60)
    inv = invoke_alongside(held_runner, spec)
    assert inv.error["errorType"] == "Runtime.OutOfMemory"
    assert "Runtime exited with error: signal: killed" in inv.error["errorMessage"]
    assert inv.max_memory_mb == 128
    assert "Runtime.OutOfMemory" in inv.logs
    assert processes_with_marker(marker) == []


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_a_single_huge_allocation_is_out_of_memory_too(held_runner):
    spec = hostile("def handler(event, context):\n"
                   "    print('started', flush=True)\n"
                   "    return len(b'x' * (4 << 30))\n", uuid.uuid4().hex, timeout=60)
    inv = invoke_alongside(held_runner, spec)
    assert inv.error["errorType"] == "Runtime.OutOfMemory"


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_a_node_memory_hog_is_killed_with_out_of_memory(held_runner):
    marker = uuid.uuid4().hex
    spec = hostile("exports.handler = async () => {\n"
                   "  console.log('started');\n"
                   "  const chunks = [];\n"
                   "  for (;;) chunks.push(Buffer.alloc(1 << 20, 1));\n"
                   "};\n", marker, language="node", timeout=60)
    inv = invoke_alongside(held_runner, spec)
    assert inv.error["errorType"] == "Runtime.OutOfMemory"
    assert processes_with_marker(marker) == []


def test_an_infinite_loop_times_out_and_the_next_call_gets_a_fresh_worker(fresh_runner):
    marker = uuid.uuid4().hex
    spec = hostile("def handler(event, context):\n"
                   "    print('started', flush=True)\n"
                   "    if event == 'loop':\n"
                   "        while True:\n"
                   "            pass\n"
                   "    return 'fine'\n", marker)
    inv = invoke_alongside(fresh_runner, spec, "loop")
    assert inv.error == {"errorType": "Sandbox.Timedout", "errorMessage":
                         f"RequestId: {inv.request_id} Error: Task timed out after 1.00 seconds"}
    assert inv.timed_out
    assert f"{inv.request_id} Task timed out after 1.00 seconds" in inv.logs
    assert processes_with_marker(marker) == []
    again = fresh_runner.invoke(spec, "ok")
    assert again.payload == "fine" and again.init_ms is not None


def test_a_function_that_never_answers_times_out(fresh_runner):
    marker = uuid.uuid4().hex
    spec = hostile("import threading\n"
                   "def handler(event, context):\n"
                   "    print('started', flush=True)\n"
                   "    threading.Event().wait()\n", marker)
    inv = invoke_alongside(fresh_runner, spec)
    assert inv.error["errorType"] == "Sandbox.Timedout"
    assert processes_with_marker(marker) == []


def test_a_node_function_that_never_answers_times_out(fresh_runner):
    marker = uuid.uuid4().hex
    spec = hostile("exports.handler = () => {\n"
                   "  console.log('started');\n"
                   "  setInterval(() => {}, 1000);\n"
                   "  return new Promise(() => {});\n"
                   "};\n", marker, language="node")
    inv = invoke_alongside(fresh_runner, spec)
    assert inv.error["errorType"] == "Sandbox.Timedout"
    assert processes_with_marker(marker) == []


def test_a_module_that_never_finishes_loading_times_out(fresh_runner):
    marker = uuid.uuid4().hex
    spec = hostile("print('started', flush=True)\n"
                   "while True:\n"
                   "    pass\n", marker)
    inv = invoke_alongside(fresh_runner, spec)
    assert inv.error["errorType"] == "Sandbox.Timedout"
    assert processes_with_marker(marker) == []


def run_contained(runner: FunctionRunner, source: str, event=None, **config):
    """Runs hostile Python `source` (which prints "started") alongside an ordinary function,
    retires its worker and checks that none of its processes is left; returns the
    invocation."""
    marker = uuid.uuid4().hex
    spec = hostile(source, marker, **config)
    inv = invoke_alongside(runner, spec, event)
    runner.retire(spec.name)
    assert processes_with_marker(marker) == []
    return inv


def test_a_function_cannot_see_the_hosts_environment(runner, monkeypatch):
    monkeypatch.setenv("FLOWBENCH_HOST_SECRET", "hunter2")
    inv = run_contained(runner, "import os\n"
                                "def handler(event, context):\n"
                                "    print('started')\n"
                                "    return dict(os.environ)\n", env={"MINE": "yes"})
    env = inv.payload
    assert "FLOWBENCH_HOST_SECRET" not in env
    assert not set(env) & {"HOME", "USER", "PYENV_ROOT", "VIRTUAL_ENV", "SHELL"}
    assert env["MINE"] == "yes"
    assert "hunter2" not in str(env)


def test_a_function_cannot_read_the_projects_files(isolating_runner, tmp_path):
    secret = tmp_path / "settings_secret.txt"
    secret.write_text("hunter2")
    secret.chmod(0o600)
    project_file = os.path.abspath(__file__)
    seen = run_contained(isolating_runner, TRY_READING,
                         [str(secret), project_file, "/root/.bashrc"]).payload
    if isolating_runner.backend_name == "bubblewrap":
        # Nothing of the host but /usr (and a few /etc files) is mounted.
        assert seen == {str(secret): "FileNotFoundError", project_file: "FileNotFoundError",
                        "/root/.bashrc": "FileNotFoundError"}
    else:
        # Plain, as root: the worker's own uid cannot read files only their owner may read.
        assert seen[str(secret)] == "PermissionError"
        assert seen["/root/.bashrc"] in ("PermissionError", "FileNotFoundError")


def test_a_function_cannot_read_a_private_folder_or_what_is_in_it(isolating_runner, tmp_path):
    # As the data folder is kept (flowbench.settings): the folder 0700, the database 0600.
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    database = data / "flowbench.sqlite3"
    database.write_text("SQLite format 3")
    database.chmod(0o600)
    seen = run_contained(isolating_runner, TRY_READING, [str(database)]).payload
    assert seen[str(database)] in ("PermissionError", "FileNotFoundError")


def test_a_function_cannot_write_outside_tmp(isolating_runner):
    project_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pwned.txt")
    inv = run_contained(isolating_runner, "import os, tempfile\n"
                                          "def handler(event, context):\n"
                                          "    print('started')\n"
                                          "    done = {}\n"
                                          "    root = os.environ['LAMBDA_TASK_ROOT']\n"
                                          "    for path in event + [root + '/x']:\n"
                                          "        try:\n"
                                          "            open(path, 'w').write('x')\n"
                                          "            done[path] = 'written'\n"
                                          "        except OSError as exc:\n"
                                          "            done[path] = type(exc).__name__\n"
                                          "    tmp = os.path.join(tempfile.gettempdir(), 'mine')\n"
                                          "    open(tmp, 'w').write('x')\n"
                                          "    done['tmp'] = open(tmp).read()\n"
                                          "    return done\n",
                        [project_path, "/usr/pwned", "/etc/pwned", "/pwned", "/dev/pwned"])
    done = inv.payload
    assert done.pop("tmp") == "x"
    assert "written" not in done.values(), done
    assert not os.path.exists(project_path)
    assert not os.path.exists("/usr/pwned")


def test_what_a_function_leaves_in_shared_temporary_folders_goes_with_its_worker(
        isolating_runner):
    marker = uuid.uuid4().hex
    paths = [f"/tmp/left-{marker}", f"/var/tmp/left-{marker}", f"/dev/shm/left-{marker}",
             f"/tmp/left-dir-{marker}/inner"]
    inv = run_contained(isolating_runner, "import os\n"
                                          "def handler(event, context):\n"
                                          "    print('started')\n"
                                          "    written = []\n"
                                          "    for path in event:\n"
                                          "        try:\n"
                                          "            os.makedirs(os.path.dirname(path),\n"
                                          "                        exist_ok=True)\n"
                                          "            open(path, 'w').write('x')\n"
                                          "            written.append(path)\n"
                                          "        except OSError:\n"
                                          "            pass\n"
                                          "    return written\n", paths)
    assert f"/tmp/left-{marker}" in inv.payload       # it could write there ...
    for path in paths:                                 # ... and nothing of it outlives it
        assert not os.path.exists(path), path
    assert not os.path.exists(f"/tmp/left-dir-{marker}")


def test_a_function_printing_100_mb_gets_truncated_logs(runner):
    inv = run_contained(runner, "import sys\n"
                                "def handler(event, context):\n"
                                "    print('started')\n"
                                "    chunk = 'y' * (1 << 20)\n"
                                "    for _ in range(100):\n"
                                "        sys.stdout.write(chunk)\n"
                                "    print()\n"
                                "    return 'done'\n", timeout=60)
    assert inv.payload == "done"
    assert "[Flowbench: log output truncated after 1048576 bytes]" in inv.logs
    assert len(inv.logs) < 2 * (1 << 20)
    assert inv.logs.rstrip("\n").split("\n")[-1].startswith("REPORT RequestId:")


KILL_PARENT = ("import os, signal\n"
               "def handler(event, context):\n"
               "    print('started')\n"
               "    try:\n"
               "        os.kill(os.getppid(), signal.SIGKILL)\n"
               "    except OSError as exc:\n"
               "        return type(exc).__name__\n"
               "    return 'sent'\n")


def test_a_function_that_kills_its_parent_harms_only_itself(runner):
    # Whatever becomes of its own worker, the ordinary function beside it is unaffected and
    # none of its processes is left (run_contained checks both).
    run_contained(runner, KILL_PARENT)


def test_a_function_cannot_signal_its_sandboxs_processes(isolating_runner):
    inv = run_contained(isolating_runner, KILL_PARENT)
    if isolating_runner.backend_name == "bubblewrap":
        # Its parent is the PID namespace's init, which ignores signals from inside.
        assert inv.payload == "sent" and inv.error is None
    else:
        # Its parent is its keeper, which runs as root.
        assert inv.payload == "PermissionError"


def test_a_function_that_kills_its_own_worker_gets_an_exit_error(runner):
    inv = run_contained(runner, "import os, signal\n"
                                "def handler(event, context):\n"
                                "    print('started')\n"
                                "    os.kill(os.getpid(), signal.SIGKILL)\n")
    assert inv.error == {"errorType": "Runtime.ExitError", "errorMessage":
                         f"RequestId: {inv.request_id} Error: Runtime exited with error: "
                         "signal: killed"}


def test_a_background_child_left_running_is_killed_with_its_worker(runner):
    marker = uuid.uuid4().hex
    spec = hostile("import subprocess\n"
                   "def handler(event, context):\n"
                   "    print('started')\n"
                   "    subprocess.Popen(['setsid', 'sleep', '1000'],\n"
                   "                     start_new_session=True)\n"
                   "    subprocess.Popen(['sleep', '1000'])\n"
                   "    return 'left them'\n", marker)
    assert invoke_alongside(runner, spec).payload == "left them"
    assert len(processes_with_marker(marker)) >= 3  # alive while the worker is warm
    assert runner.retire(spec.name) == 1
    assert processes_with_marker(marker) == []


def test_a_fork_that_returns_into_the_worker_cannot_answer_for_it(runner):
    spec = python_function("import os\n"
                           "def handler(event, context):\n"
                           "    pid = os.fork()\n"
                           "    if pid:\n"
                           "        os.waitpid(pid, 0)\n"
                           "        return 'parent'\n"
                           "    return 'child'\n", name=unique("forker"))
    assert runner.invoke(spec, {}).payload == "parent"
    assert runner.invoke(spec, {}).payload == "parent"


def test_user_prints_cannot_forge_protocol_frames(runner):
    inv = run_contained(runner, "import sys, struct\n"
                                "def handler(event, context):\n"
                                "    print('started')\n"
                                "    body = b'\"forged\"'\n"
                                "    sys.stdout.buffer.write(b'R' + struct.pack('>I', len(body)) + body)\n"
                                "    sys.stdout.flush()\n"
                                "    return 'real'\n")
    assert inv.payload == "real"


def test_a_worker_writing_garbage_on_its_protocol_pipe_is_replaced(runner):
    inv = run_contained(runner, "import os, sys\n"
                                "def handler(event, context):\n"
                                "    print('started')\n"
                                "    os.write(int(sys.argv[2]), b'Z' + b'\\xff' * 64)\n"
                                "    return 'ok'\n")
    assert inv.error["errorType"] == "Runtime.ExitError"


NETWORK_PROBE = ("import socket\n"
                 "def handler(event, context):\n"
                 "    names = sorted(name for _, name in socket.if_nameindex())\n"
                 "    try:\n"
                 "        socket.create_connection(('127.0.0.1', event), timeout=5).close()\n"
                 "        reached = True\n"
                 "    except OSError:\n"
                 "        reached = False\n"
                 "    return {'interfaces': names, 'reached': reached}\n")


@pytest.mark.parametrize("network", [True, False])
def test_the_network_switch_cuts_the_network(isolating_runner, network):
    with socket.create_server(("127.0.0.1", 0)) as host_service:   # as PostgreSQL, Redis, the web
        spec = python_function(NETWORK_PROBE, name=unique("net"), network=network)
        seen = isolating_runner.invoke(spec, host_service.getsockname()[1]).payload
    if network:
        assert seen["reached"] and len(seen["interfaces"]) >= 1
    else:
        assert seen == {"interfaces": ["lo"], "reached": False}


def test_a_function_sees_no_host_path_in_its_namespaces_processes():
    # Only bubblewrap gives a function a PID namespace (a plain worker sees the host's).
    spec = python_function("import os\n"
                           "def handler(event, context):\n"
                           "    return [open(f'/proc/{pid}/cmdline').read()\n"
                           "            for pid in os.listdir('/proc') if pid.isdigit()]\n",
                           name=unique("cmdline"))
    with FunctionRunner("bubblewrap") as runner:
        seen = runner.invoke(spec, {}).payload
        work_dir = runner._work_dir
    assert len(seen) == 2                 # the namespace's init and the worker
    assert not any(work_dir in line or "/tmp/" in line for line in seen), seen
    assert "--args" in seen[0]            # bwrap read its options, host paths, from a pipe


def test_closing_the_runner_removes_every_worker_and_its_files(fresh_runner):
    marker = uuid.uuid4().hex
    spec = hostile("def handler(event, context):\n    return 1\n", marker)
    fresh_runner.invoke(spec, {})
    work_dir = fresh_runner._work_dir
    assert processes_with_marker(marker)
    fresh_runner.close()
    assert processes_with_marker(marker) == []
    assert not os.path.exists(work_dir)
