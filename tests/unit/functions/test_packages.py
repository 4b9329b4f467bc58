"""Dependencies from requirements.txt and package.json: installed once per content into a
package that every worker mounts read-only, on both sandbox backends."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

from runtime.functions import FunctionSpec, resolve_runtime
from runtime.functions.packages import BUILD_PREFIX, InstallFailed, PackageCache

PYTHON = resolve_runtime("python")
NODE = resolve_runtime("nodejs")


@pytest.fixture(scope="module")
def cache():
    # Workers run under uids of their own: the cache must be reachable by them (not 0700).
    root = tempfile.mkdtemp(prefix="flowbench-test-packages-")
    os.chmod(root, 0o755)
    yield PackageCache(os.path.join(root, "packages"))
    shutil.rmtree(root, ignore_errors=True)


def spec_with(cache, runtime, files, handler, name="pkg"):
    lines = []
    path = cache.ensure(runtime, files, on_line=lines.append, timeout=300)
    return FunctionSpec(name=name, runtime=runtime.id, handler=handler, files=files,
                        packages=path, network=False), lines


def test_a_python_function_imports_a_package_from_its_requirements(runner, cache):
    files = {"requirements.txt": "six==1.16.0\n",
             "lambda_function.py": "import six\n\ndef handler(event, context):\n"
                                   "    return [six.__version__, six.__file__]\n"}
    spec, lines = spec_with(cache, PYTHON, files, "lambda_function.handler")
    inv = runner.invoke(spec, {})
    assert inv.error is None, inv.error
    version, where = inv.payload
    assert version == "1.16.0"
    assert not where.startswith("/var/task")   # from the package, not the code


def test_a_package_with_native_code_works(runner, cache):
    files = {"requirements.txt": "PyYAML==6.0.2\n",
             "lambda_function.py": "import yaml\n\ndef handler(event, context):\n"
                                   "    return [yaml.__with_libyaml__,\n"
                                   "            yaml.load('a: [1, 2]', Loader=yaml.CLoader)]\n"}
    spec, _ = spec_with(cache, PYTHON, files, "lambda_function.handler", name="native")
    inv = runner.invoke(spec, {})
    assert inv.error is None, inv.error
    assert inv.payload == [True, {"a": [1, 2]}]


def test_the_package_is_read_only_for_the_function(runner, cache):
    files = {"requirements.txt": "six==1.16.0\n",
             "lambda_function.py": "import six\n\ndef handler(event, context):\n"
                                   "    open(six.__file__, 'a').write('x')\n"}
    spec, _ = spec_with(cache, PYTHON, files, "lambda_function.handler", name="readonly")
    inv = runner.invoke(spec, {})
    assert inv.error is not None
    assert inv.error["errorType"] in ("OSError", "PermissionError")


@pytest.mark.parametrize("module", ["commonjs", "esm"])
def test_a_node_function_requires_a_dependency_from_package_json(runner, cache, module):
    package = '{"name": "fn", "version": "1.0.0", "dependencies": {"is-odd": "3.0.1"}}'
    if module == "esm":
        files = {"package.json": package, "index.mjs":
                 "import isOdd from 'is-odd';\nexport const handler = async (e) => isOdd(e.n);\n"}
    else:
        files = {"package.json": package, "index.js":
                 "const isOdd = require('is-odd');\nexports.handler = async (e) => isOdd(e.n);\n"}
    spec, _ = spec_with(cache, NODE, files, "index.handler", name=f"node-{module}")
    inv = runner.invoke(spec, {"n": 3})
    assert inv.error is None, inv.error
    assert inv.payload is True


def test_a_second_install_of_the_same_file_installs_nothing(cache):
    files = {"requirements.txt": "six==1.16.0\n# again\n", "lambda_function.py": ""}
    first = cache.ensure(PYTHON, files)
    installs = cache.installs
    lines = []
    again = cache.ensure(PYTHON, dict(files, **{"lambda_function.py": "changed = 1\n"}),
                         on_line=lines.append)
    assert again == first
    assert cache.installs == installs
    assert any("cached package" in line for line in lines)


def test_code_without_dependency_files_has_no_package(cache):
    assert cache.ensure(PYTHON, {"lambda_function.py": ""}) == ""
    assert cache.ensure(NODE, {"index.js": ""}) == ""


def test_a_requirement_that_does_not_resolve_fails_with_pips_message(cache):
    files = {"requirements.txt": "flowbench-no-such-package-xyz==1.0\n"}
    with pytest.raises(InstallFailed) as caught:
        cache.ensure(PYTHON, files)
    assert "flowbench-no-such-package-xyz" in str(caught.value)
    assert not os.path.exists(cache.path(PYTHON, files))
    assert not [n for n in os.listdir(cache.root) if n.startswith(BUILD_PREFIX)]


def test_an_install_killed_midway_leaves_no_package_that_is_used(cache):
    files = {"requirements.txt": "six==1.15.0\n"}
    path = cache.path(PYTHON, files)
    script = ("from runtime.functions import resolve_runtime;"
              "from runtime.functions.packages import PackageCache;"
              f"PackageCache({cache.root!r}).ensure(resolve_runtime('python'),"
              f"{{'requirements.txt': {files['requirements.txt']!r}}},"
              "on_line=lambda line: print(line, flush=True))")
    child = subprocess.Popen([sys.executable, "-c", script], cwd=os.getcwd(), process_group=0,
                             stdout=subprocess.PIPE, text=True)
    # The installer says it starts once its staging directory exists: kill it then.
    for line in child.stdout:
        if line.startswith("Installing dependencies"):
            break
    key = os.path.basename(path)
    assert [n for n in os.listdir(cache.root) if n.startswith(f"{BUILD_PREFIX}{key}-")]
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert not os.path.exists(path)
    made = cache.ensure(PYTHON, files)
    assert made == path
    assert os.path.isfile(os.path.join(path, "python", "six.py"))
    assert not [n for n in os.listdir(cache.root) if n.startswith(f"{BUILD_PREFIX}{key}-")]


def test_install_scripts_run_sandboxed_with_a_clean_environment_and_a_failed_build_fails(cache, monkeypatch):
    # The server's secrets must not reach an install script, nor the host's files.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "server-secret")
    script = ("env; test -e /work && echo HOST-$((1+1))-FILES; test -e /root && ls /root && echo HOST-$((1+2))-HOME;"
              " echo building native code >&2; exit 3")
    files = {"package.json": json.dumps({"name": "fn", "version": "1.0.0", "scripts": {"install": script}})}
    lines = []
    with pytest.raises(InstallFailed) as caught:
        cache.ensure(NODE, files, on_line=lines.append)
    assert "building native code" in str(caught.value)
    said = "\n".join(lines)
    assert "npm" in str(caught.value) and "HOST-2-FILES" not in said and "HOST-3-HOME" not in said
    assert "server-secret" not in said and "AWS_SECRET_ACCESS_KEY" not in said
    assert not os.path.exists(cache.path(NODE, files))


def test_an_install_past_its_time_limit_is_killed(cache):
    files = {"package.json": json.dumps({"name": "fn", "version": "1.0.0",
                                         "scripts": {"install": "echo started; sleep 600"}})}
    with pytest.raises(InstallFailed) as caught:
        cache.ensure(NODE, files, timeout=3)
    assert "did not finish within 3 seconds" in str(caught.value)
    assert not os.path.exists(cache.path(NODE, files))
