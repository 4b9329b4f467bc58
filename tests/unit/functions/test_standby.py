"""Standby workers (runtime/functions/standby.py): a cold start of a function whose shape has a
standby worker ready takes it, and the function cannot tell: its code, environment, working
directory, module path, time zone and errors are those of a worker started for it; functions a
standby cannot serve start as before; the replacement starts by itself; nothing outlives close()."""

from __future__ import annotations

import os
import tempfile

import pytest

from runtime.functions import FunctionRunner, FunctionSpec
from tests.unit.functions.conftest import BACKENDS
from tests.unit.functions.helpers import node_function, python_function, unique
from tests.unit.functions.test_ruby_and_custom_runtimes import SHELL_BOOTSTRAP, custom, executable

PY_REPORT = """import os, sys, time
import helper

def handler(event, context):
    return {"name": context.function_name, "arn": context.invoked_function_arn,
            "mine": os.environ.get("MINE"), "env": sorted(os.environ), "cwd": os.getcwd(),
            "files": sorted(os.listdir(os.environ["LAMBDA_TASK_ROOT"])), "path0": sys.path[0],
            "tz": time.tzname[0], "helper": helper.WORD}
"""
JS_REPORT = """const fs = require("fs");
exports.handler = async (event, context) => ({
  name: context.functionName, mine: process.env.MINE, env: Object.keys(process.env).sort(),
  cwd: process.cwd(), files: fs.readdirSync(process.env.LAMBDA_TASK_ROOT).sort(),
  helper: require("./lib/helper.js").word,
  tz: new Intl.DateTimeFormat("en", {timeZoneName: "short"}).formatToParts(new Date()).find(p => p.type === "timeZoneName").value,
});
"""
RB_REPORT = """require_relative 'helper'

def handler(event:, context:)
  { 'name' => context.function_name, 'mine' => ENV['MINE'], 'env' => ENV.keys.sort, 'cwd' => Dir.pwd,
    'files' => Dir.children(ENV['LAMBDA_TASK_ROOT']).sort, 'helper' => HELPER_WORD, 'tz' => Time.now.zone }
end
"""


def reporting(family: str, word: str) -> FunctionSpec:
    """A function of `family` (128 MB, network off) that reports what it sees of itself."""
    if family == "python":
        return python_function(PY_REPORT, name=unique("sb-py"), network=False, env={"MINE": word},
                               files={"helper.py": f"WORD = {word!r}\n"})
    if family == "nodejs":
        return node_function(JS_REPORT, name=unique("sb-js"), network=False, env={"MINE": word},
                             files={"lib/helper.js": f"exports.word = {word!r};\n"})
    return FunctionSpec(name=unique("sb-rb"), runtime="ruby", handler="function.handler", network=False,
                        env={"MINE": word}, files={"function.rb": RB_REPORT,
                                                  "helper.rb": f"HELPER_WORD = {word!r}\n"})


def shape(family: str) -> FunctionSpec:
    """A spec naming only a shape: the runtime, 128 MB, /tmp 512 MB, network off."""
    return FunctionSpec(name="shape", runtime=family, network=False)


@pytest.fixture(params=BACKENDS)
def standby_runner(request):
    with FunctionRunner(backend=request.param, idle_timeout=600, standby=1) as own:
        yield own


@pytest.fixture(params=BACKENDS)
def plain_runner(request):
    """A runner without standby workers: what a worker started for its function sees."""
    with FunctionRunner(backend=request.param, idle_timeout=600) as own:
        yield own


@pytest.mark.parametrize("family", ["python", "nodejs", "ruby"])
def test_a_cold_start_takes_a_standby_worker_and_the_function_cannot_tell(family, standby_runner):
    standby_runner.prestart(shape(family), wait=True)
    assert list(standby_runner.standby_workers().values()) == [1]
    first = standby_runner.invoke(reporting(family, "first"), {})
    assert first.error is None, first.logs
    assert standby_runner.standby_taken == 1
    assert first.init_ms is not None and "INIT_START" in first.logs
    # The replacement starts by itself; the next new function of the shape takes it.
    standby_runner.prestart(shape(family), wait=True)
    second_spec = reporting(family, "second")
    second = standby_runner.invoke(second_spec, {})
    assert standby_runner.standby_taken == 2, second.logs
    for inv, word in ((first, "first"), (second, "second")):
        report = inv.payload
        assert (report["mine"], report["helper"], report["tz"]) == (word, word, "UTC")
        assert report["name"].startswith("sb-")
    # Each sees its own code only, where a worker started for it would.
    assert second.payload["name"] == second_spec.name
    expected_files = sorted(p.split("/")[0] for p in second_spec.files)
    assert second.payload["files"] == sorted(set(expected_files))
    # Warm afterwards: the same worker, no init.
    again = standby_runner.invoke(second_spec, {})
    assert again.init_ms is None and again.payload["mine"] == "second"


@pytest.mark.parametrize("family", ["python", "nodejs", "ruby"])
def test_a_standby_worker_s_function_sees_what_a_worker_started_for_it_sees(family, standby_runner):
    backend = standby_runner.backend_name
    with FunctionRunner(backend=backend, idle_timeout=600) as started_for_it:
        spec = reporting(family, "same")
        standby_runner.prestart(shape(family), wait=True)
        from_standby = standby_runner.invoke(spec, {}).payload
        assert standby_runner.standby_taken == 1
        cold = started_for_it.invoke(spec, {}).payload
    assert from_standby["env"] == cold["env"]
    if backend == "bubblewrap":   # the plain backend's code folder is a host path of each runner
        assert from_standby["cwd"] == cold["cwd"] == "/var/task"
        assert from_standby.get("path0") == cold.get("path0")


@pytest.mark.parametrize("source, handler, error_type", [
    ("def handler(event, context)\n    return 1\n", "handler.handler", "Runtime.UserCodeSyntaxError"),
    ("def other(event, context):\n    return 1\n", "handler.handler", "Runtime.HandlerNotFound"),
    ("raise RuntimeError('no config')\n", "handler.handler", "RuntimeError"),
    ("import not_a_module\n", "handler.handler", "Runtime.ImportModuleError"),
], ids=["syntax", "missing-handler", "raises-on-load", "import-error"])
def test_a_function_that_cannot_load_fails_from_a_standby_as_from_a_cold_start(
        source, handler, error_type, standby_runner, plain_runner):
    spec = python_function(source, name=unique("sb-broken"), handler=handler, network=False)
    standby_runner.prestart(shape("python"), wait=True)
    from_standby = standby_runner.invoke(spec, {})
    assert standby_runner.standby_taken == 1
    cold = plain_runner.invoke(spec, {})
    assert from_standby.error["errorType"] == cold.error["errorType"] == error_type, from_standby.logs
    assert from_standby.error["errorMessage"] == cold.error["errorMessage"]
    # The broken worker is gone; the function still runs once fixed.
    fixed = python_function("def handler(event, context):\n    return 'fixed'\n", name=spec.name, network=False)
    assert standby_runner.invoke(fixed, {}).payload == "fixed"


def test_shapes_a_standby_cannot_serve_start_their_own_sandbox(standby_runner):
    standby_runner.prestart(shape("python"), wait=True)
    with tempfile.TemporaryDirectory() as packages:
        os.makedirs(os.path.join(packages, "python"))
        with open(os.path.join(packages, "python", "extra.py"), "w") as f:
            f.write("WORD = 'installed'\n")
        for path in (packages, os.path.join(packages, "python")):
            os.chmod(path, 0o755)   # workers under uids of their own read it
        os.chmod(os.path.join(packages, "python", "extra.py"), 0o644)
        spec = python_function("import extra\ndef handler(event, context):\n    return extra.WORD\n",
                               name=unique("sb-packages"), network=False, packages=packages)
        assert standby_runner.invoke(spec, {}).payload == "installed"
    bigger = python_function("def handler(event, context):\n    return 'big'\n", name=unique("sb-big"),
                             network=False, memory=256)
    assert standby_runner.invoke(bigger, {}).payload == "big"
    bootstrapped = standby_runner.invoke(custom({"bootstrap": executable(SHELL_BOOTSTRAP)}, network=False,
                                                timeout=30), "hi")
    assert bootstrapped.payload["event"] == "hi", bootstrapped.logs
    assert standby_runner.standby_taken == 0
    # A shape seen once gets standby workers of its own: the next 256 MB function takes one.
    standby_runner.prestart(FunctionSpec(name="shape", runtime="python", network=False, memory=256), wait=True)
    next_bigger = python_function("def handler(event, context):\n    return 'big too'\n",
                                  name=unique("sb-big"), network=False, memory=256)
    assert standby_runner.invoke(next_bigger, {}).payload == "big too"
    assert standby_runner.standby_taken == 1


def test_close_stops_every_standby_worker(standby_runner):
    standby_runner.prestart(shape("python"), wait=True)
    standby_runner.prestart(shape("nodejs"), wait=True)
    kept = [s for k in standby_runner._standby._shapes.values() for s in k.ready]
    assert len(kept) == 2 and all(s.alive for s in kept)
    folders = [s.code_dir for s in kept]
    standby_runner.close()
    assert not any(s.alive for s in kept)
    assert not any(os.path.exists(folder) for folder in folders)
