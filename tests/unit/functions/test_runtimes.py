"""Which runtimes this host offers, and how ids map onto them."""

import pytest

from runtime.functions import (FunctionRunner, FunctionSpec, InvalidFunctionSpec,
                               RuntimeNotAvailable, available_runtimes, resolve_runtime)
from runtime.functions import runtimes


def test_the_hosts_python_and_node_are_listed_with_lambdas_ids():
    ids = [r.id for r in available_runtimes()]
    assert "python3.11" in ids
    assert any(i.startswith("nodejs") and i.endswith(".x") for i in ids)
    assert all(r.executable.startswith("/usr/") for r in available_runtimes())


def test_a_family_name_picks_the_newest_installed_version():
    assert resolve_runtime("python").family == "python"
    assert resolve_runtime("nodejs").id == next(
        r.id for r in available_runtimes() if r.family == "nodejs")


def test_a_python_version_that_is_not_installed_runs_on_the_hosts_python():
    assert resolve_runtime("python3.12").id == resolve_runtime("python").id


def test_an_unknown_runtime_is_refused_naming_the_supported_ones():
    with pytest.raises(RuntimeNotAvailable, match="use python, python3.N, nodejs, nodejsN.x, ruby, ruby3.N, "
                                                  "provided.al2023 or provided.al2"):
        resolve_runtime("java21")


def test_a_missing_language_says_what_to_install(monkeypatch):
    python_only = tuple(r for r in available_runtimes() if r.family == "python")
    monkeypatch.setattr(runtimes, "available_runtimes", lambda: python_only)
    with pytest.raises(RuntimeNotAvailable, match=r"install Node.js .*apt-get install nodejs"):
        resolve_runtime("nodejs20.x")
    with pytest.raises(RuntimeNotAvailable, match=r"install Ruby 3 .*apt-get install ruby"):
        resolve_runtime("ruby3.3")


def test_invoking_a_runtime_that_is_not_installed_raises_before_running(monkeypatch):
    monkeypatch.setattr(runtimes, "available_runtimes", lambda: ())
    spec = FunctionSpec(name="nothing", runtime="python3.12", files={})
    with FunctionRunner(backend="plain") as runner:
        with pytest.raises(RuntimeNotAvailable, match="apt-get install python3"):
            runner.invoke(spec, {})


def test_the_invocation_reports_the_runtime_that_actually_ran_it(runner):
    spec = FunctionSpec(name="which", runtime="python3.12", handler="h.h",
                        files={"h.py": "def h(e, c):\n    return 1\n"})
    assert runner.invoke(spec, {}).runtime == resolve_runtime("python3.12").id


@pytest.mark.parametrize("config, message", [
    ({"name": "a/b"}, "Invalid function name"),
    ({"timeout": 0}, "Timeout must be between"),
    ({"memory": 64}, "MemorySize must be between"),
    ({"files": {"../escape.py": ""}}, "Invalid code file path"),
    ({"files": {"/abs.py": ""}}, "Invalid code file path"),
    ({"env": {"A=B": "x"}}, "Invalid environment variable name"),
])
def test_a_spec_lambda_would_refuse_is_refused(config, message):
    with pytest.raises(InvalidFunctionSpec, match=message):
        FunctionSpec(**{"name": "ok", **config})


def test_the_version_key_changes_with_code_and_configuration_only():
    base = FunctionSpec(name="f", files={"a.py": "x"}, env={"A": "1"})
    assert FunctionSpec(name="f", files={"a.py": "x"}, env={"A": "1"}).version_key == \
        base.version_key
    for changed in (dict(files={"a.py": "y"}), dict(env={"A": "2"}), dict(memory=256),
                    dict(version="2"), dict(network=False), dict(handler="a.b")):
        spec = FunctionSpec(**{"name": "f", "files": {"a.py": "x"}, "env": {"A": "1"},
                               **changed})
        assert spec.version_key != base.version_key


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="Unknown sandbox backend 'docker'"):
        FunctionRunner(backend="docker")


def test_the_default_sandbox_is_bubblewrap():
    from runtime.functions import bubblewrap_works
    with FunctionRunner() as runner:
        assert runner.backend_name == "bubblewrap"
        assert (runner.unavailable is None) == bubblewrap_works()


def test_without_bubblewrap_the_runner_refuses_rather_than_falling_back_to_plain(monkeypatch):
    from runtime.functions import FunctionSpec, SandboxUnavailable, service_error
    monkeypatch.setattr("runtime.functions.sandbox.bubblewrap_problem",
                        lambda: "bwrap says: No permissions to create new namespace")
    spec = FunctionSpec(name="refused", handler="h.handler",
                        files={"h.py": "def handler(e, c): pass"})
    with FunctionRunner() as runner:
        assert runner.backend_name == "bubblewrap"
        with pytest.raises(SandboxUnavailable) as refused:
            runner.invoke(spec, {})
        assert runner.workers() == {}
    error_type, message = service_error(refused.value)
    assert error_type == "ServiceException"
    assert "No permissions to create new namespace" in message
    assert "apt-get install bubblewrap" in message and "FLOWBENCH_SANDBOX=plain" in message
