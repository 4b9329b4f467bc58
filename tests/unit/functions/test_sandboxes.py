"""The sandbox backends, driven directly through the base class's start / invoke / stop."""

import json
import os
import shutil
import tempfile
import time
import uuid

import pytest

from runtime.functions import FunctionSpec, resolve_runtime
from runtime.functions.runner import make_readable, lambda_environment
from runtime.functions.runtimes import BOOTSTRAP_DIR
from runtime.functions.sandbox import BACKENDS, InitFailed, Sandbox, SandboxSettings
from tests.unit.functions.helpers import processes_with_marker


@pytest.fixture(params=sorted(BACKENDS))
def make_sandbox(request):
    """Returns a factory of sandboxes of one backend for a Python handler `source`, in a work
    directory laid out as FunctionRunner lays out its own (reachable by worker uids)."""
    work_dir = tempfile.mkdtemp(prefix="flowbench-sandbox-test-")
    os.chmod(work_dir, 0o711)
    shutil.copytree(BOOTSTRAP_DIR, os.path.join(work_dir, "runtime"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    make_readable(os.path.join(work_dir, "runtime"))
    made = []

    def make(source, marker):
        code = os.path.join(work_dir, f"code-{len(made)}")
        os.mkdir(code)
        with open(os.path.join(code, "handler.py"), "w") as f:
            f.write(source)
        make_readable(code)
        spec = FunctionSpec(name="direct", handler="handler.handler",
                            files={"handler.py": source}, env={"MARKER": marker})
        runtime = resolve_runtime("python")
        env = lambda_environment(spec, runtime, spec.handler, "us-east-1", "stream")
        sandbox = BACKENDS[request.param](spec, runtime, code, SandboxSettings(work_dir), env)
        made.append(sandbox)
        return sandbox

    yield make
    for sandbox in made:
        sandbox.stop()
    shutil.rmtree(work_dir)


def request_for(event) -> bytes:
    return json.dumps({"id": str(uuid.uuid4()), "deadline": int(time.time() * 1000) + 3000,
                       "arn": "arn", "event": event}).encode()


def test_every_backend_is_a_sandbox_with_start_invoke_and_stop():
    assert set(BACKENDS) == {"bubblewrap", "plain"}
    for backend in BACKENDS.values():
        assert issubclass(backend, Sandbox)
        assert backend.name in BACKENDS
        for method in ("start", "invoke", "stop"):
            assert callable(getattr(backend, method))


def test_a_sandbox_starts_answers_and_stops_without_leftovers(make_sandbox):
    marker = uuid.uuid4().hex
    sandbox = make_sandbox("def handler(event, context):\n    print('hi')\n    return event\n",
                           marker)
    init_lines = []
    assert sandbox.start(init_lines.append) > 0
    assert sandbox.alive and init_lines == []
    lines = []
    reply = sandbox.invoke(request_for({"x": 1}), time.monotonic() + 3, lines.append, 128)
    assert (reply.kind, json.loads(reply.body), lines) == ("ok", {"x": 1}, ["hi"])
    current, peak = sandbox.memory_kb()
    assert 0 < current <= peak
    assert processes_with_marker(marker)
    sandbox.stop()
    assert not sandbox.alive
    assert processes_with_marker(marker) == []
    sandbox.stop()  # twice is harmless


def test_a_worker_and_what_it_starts_are_batch_scheduled(make_sandbox):
    # Woken by a request, a worker does not preempt the host's thread on that CPU (base.py).
    source = ("import os, subprocess\n"
              "CHILD = 'import os; print(os.sched_getscheduler(0))'\n"
              "def handler(event, context):\n"
              "    child = subprocess.run(['python3', '-c', CHILD], capture_output=True)\n"
              "    return [os.sched_getscheduler(0), int(child.stdout)]\n")
    sandbox = make_sandbox(source, uuid.uuid4().hex)
    sandbox.start(lambda line: None)
    reply = sandbox.invoke(request_for(None), time.monotonic() + 5, lambda line: None, 128)
    assert json.loads(reply.body) == [os.SCHED_BATCH, os.SCHED_BATCH]
    assert os.sched_getscheduler(0) == os.SCHED_OTHER   # the host's own threads are as they were


def test_a_sandbox_that_cannot_load_its_handler_fails_to_start(make_sandbox):
    marker = uuid.uuid4().hex
    sandbox = make_sandbox("import nothere\n", marker)
    with pytest.raises(InitFailed) as failed:
        sandbox.start(lambda line: None)
    assert failed.value.reply.kind == "init-error"
    assert json.loads(failed.value.reply.body)["errorType"] == "Runtime.ImportModuleError"
    assert processes_with_marker(marker) == []


def test_a_sandbox_past_its_deadline_is_stopped(make_sandbox):
    marker = uuid.uuid4().hex
    sandbox = make_sandbox("def handler(event, context):\n    while True:\n        pass\n",
                           marker)
    sandbox.start(lambda line: None)
    reply = sandbox.invoke(request_for(None), time.monotonic() + 0.2, lambda line: None, 128)
    assert reply.kind == "timeout"
    assert not sandbox.alive and processes_with_marker(marker) == []
