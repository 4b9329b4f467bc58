"""Hostile functions in Ruby and in custom runtimes, against both sandbox backends: the rows of
test_hostile_functions.py for the runtimes that came later. Each is contained with a clear error,
leaves no process behind, and an ordinary function invoked meanwhile is unaffected."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from runtime.functions import FunctionSpec
from tests.unit.functions.conftest import holdings
from tests.unit.functions.helpers import processes_with_marker, unique
from tests.unit.functions.test_hostile_functions import invoke_alongside

# A custom runtime's bootstrap in Python (any language will do: this one is on the sandbox's /usr),
# running HANDLE's `handle(event)` for each event it gets from the Runtime API.
PY_BOOTSTRAP = '''#!/usr/bin/python3
import json, os, urllib.request
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
%s
while True:
    with urllib.request.urlopen(API + "next") as reply:
        request_id = reply.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(reply.read())
    print("started", flush=True)
    body = json.dumps(handle(event)).encode()
    urllib.request.urlopen(urllib.request.Request(API + request_id + "/response", data=body,
                                                  method="POST")).read()
'''


def ruby(source: str, marker: str, **config) -> FunctionSpec:
    config.setdefault("timeout", 1)
    return FunctionSpec(name=unique("hostile-rb"), runtime="ruby", handler="function.handler",
                        files={"function.rb": source}, env={"FLOWBENCH_TEST_MARKER": marker}, **config)


def custom(handle: str, marker: str, **config) -> FunctionSpec:
    config.setdefault("timeout", 1)
    bootstrap = {"text": PY_BOOTSTRAP % handle, "executable": True}
    return FunctionSpec(name=unique("hostile-custom"), runtime="provided.al2023", handler="function.handler",
                        files={"bootstrap": bootstrap}, env={"FLOWBENCH_TEST_MARKER": marker}, **config)


def shell(script: str, marker: str, **config) -> FunctionSpec:
    config.setdefault("timeout", 1)
    return FunctionSpec(name=unique("hostile-sh"), runtime="provided.al2", handler="function.handler",
                        files={"bootstrap": {"text": script, "executable": True}},
                        env={"FLOWBENCH_TEST_MARKER": marker}, **config)


def test_a_ruby_fork_bomb_times_out_and_leaves_no_process(fresh_runner):
    marker = uuid.uuid4().hex
    spec = ruby("def handler(event:, context:)\n  puts 'started'\n  loop { fork rescue nil }\nend\n", marker)
    inv = invoke_alongside(fresh_runner, spec)
    assert inv.error["errorType"] in ("Sandbox.Timedout", "Runtime.OutOfMemory")
    assert processes_with_marker(marker) == []


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_a_ruby_memory_hog_is_killed_with_out_of_memory(held_runner):
    marker = uuid.uuid4().hex
    spec = ruby("def handler(event:, context:)\n  puts 'started'\n  chunks = []\n"
                "  loop { chunks << ('x' * (1 << 20)) }\nend\n", marker, timeout=60)
    inv = invoke_alongside(held_runner, spec)
    assert inv.error["errorType"] == "Runtime.OutOfMemory"
    assert inv.max_memory_mb == 128
    assert processes_with_marker(marker) == []


def test_a_ruby_infinite_loop_times_out_and_the_next_call_gets_a_fresh_worker(fresh_runner):
    marker = uuid.uuid4().hex
    spec = ruby("def handler(event:, context:)\n  puts 'started'\n  loop {} if event == 'loop'\n"
                "  'fine'\nend\n", marker)
    inv = invoke_alongside(fresh_runner, spec, "loop")
    assert inv.error["errorType"] == "Sandbox.Timedout" and inv.timed_out
    assert processes_with_marker(marker) == []
    again = fresh_runner.invoke(spec, "ok")
    assert again.payload == "fine" and again.init_ms is not None


def test_a_ruby_child_left_running_is_killed_with_its_worker(runner):
    marker = uuid.uuid4().hex
    spec = ruby("def handler(event:, context:)\n  puts 'started'\n"
                "  Process.detach(spawn('sleep', '1000', pgroup: true))\n  'left it'\nend\n", marker)
    assert invoke_alongside(runner, spec).payload == "left it"
    assert len(processes_with_marker(marker)) >= 2
    assert runner.retire(spec.name) == 1
    assert processes_with_marker(marker) == []


def test_ruby_and_a_bootstrap_cannot_read_the_projects_files(isolating_runner, tmp_path):
    secret = tmp_path / "settings_secret.txt"
    secret.write_text("hunter2")
    secret.chmod(0o600)
    paths = [str(secret), os.path.abspath(__file__)]
    reader = ruby("def handler(event:, context:)\n  puts 'started'\n"
                  "  event.to_h { |p| [p, (File.read(p)[0, 20] rescue $!.class.name)] }\nend\n",
                  uuid.uuid4().hex, timeout=30)
    seen = isolating_runner.invoke(reader, paths).payload
    assert "hunter2" not in str(seen)
    assert seen[str(secret)] in ("Errno::ENOENT", "Errno::EACCES")
    bootstrap = custom("def handle(event):\n"
                       "    seen = {}\n"
                       "    for path in event:\n"
                       "        try:\n"
                       "            seen[path] = open(path).read()[:20]\n"
                       "        except OSError as exc:\n"
                       "            seen[path] = type(exc).__name__\n"
                       "    return seen\n", uuid.uuid4().hex, timeout=30)
    seen = isolating_runner.invoke(bootstrap, paths).payload
    assert "hunter2" not in str(seen)
    assert seen[str(secret)] in ("FileNotFoundError", "PermissionError")


@pytest.mark.parametrize("network", [True, False])
def test_the_network_switch_cuts_a_bootstrap_s_network_but_not_its_runtime_api(isolating_runner, network):
    probe = custom("import socket\n"
                   "def handle(port):\n"
                   "    try:\n"
                   "        socket.create_connection(('127.0.0.1', port), timeout=5).close()\n"
                   "        return True\n"
                   "    except OSError:\n"
                   "        return False\n", uuid.uuid4().hex, network=network, timeout=30)
    with socket.create_server(("127.0.0.1", 0)) as host_service:
        inv = isolating_runner.invoke(probe, host_service.getsockname()[1])
    assert inv.error is None, inv.logs   # the Runtime API answered, whatever the switch
    assert inv.payload is network


def test_a_shell_fork_bomb_bootstrap_times_out_and_leaves_no_process(fresh_runner):
    marker = uuid.uuid4().hex
    # The bomb goes off while the worker handles its first event, as a handler's would.
    spec = shell("#!/bin/bash\n"
                 "exec 3<>/dev/tcp/${AWS_LAMBDA_RUNTIME_API%:*}/${AWS_LAMBDA_RUNTIME_API#*:}\n"
                 "printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.0\\r\\n\\r\\n' >&3\n"
                 "read -r status <&3\n"
                 "echo started\n"
                 "bomb() { bomb | bomb & }\n"
                 "bomb\n"
                 "wait\n", marker)
    inv = invoke_alongside(fresh_runner, spec)
    assert inv.error["errorType"] in ("Sandbox.Timedout", "Runtime.OutOfMemory", "Runtime.ExitError")
    assert processes_with_marker(marker) == []


@pytest.mark.parametrize("held_runner", holdings(), indirect=True)
def test_a_bootstrap_hogging_memory_is_killed_with_out_of_memory(held_runner):
    marker = uuid.uuid4().hex
    spec = custom("def handle(event):\n"
                  "    chunks = []\n"
                  "    while True:\n"
                  "        chunks.append(b'x' * (1 << 20))\n", marker, timeout=60)
    inv = invoke_alongside(held_runner, spec)
    assert inv.error["errorType"] == "Runtime.OutOfMemory"
    assert processes_with_marker(marker) == []


def test_a_bootstrap_that_never_answers_times_out_and_its_children_go(fresh_runner):
    marker = uuid.uuid4().hex
    spec = custom("import subprocess\n"
                  "def handle(event):\n"
                  "    subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
                  "    subprocess.run(['sleep', '1000'])\n", marker)
    inv = invoke_alongside(fresh_runner, spec)
    assert inv.error["errorType"] == "Sandbox.Timedout"
    assert processes_with_marker(marker) == []


def test_a_bootstrap_cannot_answer_for_another_request(runner):
    marker = uuid.uuid4().hex
    spec = custom("def handle(event):\n"
                  "    import urllib.error, urllib.request\n"
                  "    try:\n"
                  "        urllib.request.urlopen(urllib.request.Request(\n"
                  "            API + 'not-the-request/response', data=b'\"forged\"', method='POST'))\n"
                  "    except urllib.error.HTTPError as exc:\n"
                  "        return {'refused': exc.code}\n"
                  "    return {'refused': None}\n", marker, timeout=30)
    inv = runner.invoke(spec, {})
    assert inv.payload == {"refused": 400}, inv.logs


VICTIM_BOOTSTRAP = '''#!/usr/bin/python3
import json, os, socket, urllib.request
ADDRESS = os.environ["AWS_LAMBDA_RUNTIME_API"]
API = "http://" + ADDRESS + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(API + "next") as reply:
        request_id = reply.headers["Lambda-Runtime-Aws-Request-Id"]
        gate = json.loads(reply.read())
    print("api", ADDRESS, "id", request_id, flush=True)
    with socket.create_connection(("127.0.0.1", gate)) as conn:
        conn.recv(2)
    urllib.request.urlopen(urllib.request.Request(API + request_id + "/response", data=b'"mine"',
                                                  method="POST")).read()
'''
FORGER = ("import urllib.request\n"
          "def handler(event, context):\n"
          "    url = f\"http://{event['address']}/2018-06-01/runtime/invocation/{event['id']}/response\"\n"
          "    try:\n"
          "        with urllib.request.urlopen(urllib.request.Request(url, data=b'\"forged\"', method='POST'),\n"
          "                                    timeout=10) as reply:\n"
          "            return reply.status\n"
          "    except OSError as exc:\n"
          "        return 'refused: ' + type(exc).__name__\n")


def test_another_function_cannot_answer_for_a_custom_runtime_through_its_runtime_api(isolating_runner):
    import threading

    from tests.unit.functions.helpers import Gate, python_function

    gate = Gate()
    seen = {}
    told = threading.Event()

    def on_log(line):
        if line.startswith("api "):
            _, seen["address"], _, seen["id"] = line.split()
            told.set()

    victim = FunctionSpec(name=unique("victim"), runtime="provided.al2023", handler="function.handler",
                          files={"bootstrap": {"text": VICTIM_BOOTSTRAP, "executable": True}}, timeout=60)
    result = {}
    thread = threading.Thread(target=lambda: result.update(inv=isolating_runner.invoke(victim, gate.port,
                                                                                       on_log=on_log)))
    thread.start()
    try:
        told.wait()
        forger = python_function(FORGER, name=unique("forger"), network=True, timeout=30)
        attempt = isolating_runner.invoke(forger, seen)
        assert attempt.error is None, attempt.logs
        assert str(attempt.payload).startswith("refused"), attempt.payload
    finally:
        gate.open()
        thread.join()
        gate.close()
    assert result["inv"].payload == "mine"
