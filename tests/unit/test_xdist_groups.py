"""How `make test` splits the suite among pytest-xdist workers (tests/conftest.py `_group`): the
tests of the shared integration cluster must all run on one worker (each worker that ran any would
start a cluster of its own, and PostgreSQL's connections would run out), and every other file is a
unit of its own, so that the workers share them out."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import _group

ROOT = Path(__file__).resolve().parents[2]


def test_the_clusters_tests_share_one_unit_and_the_embedded_restarts_another():
    assert _group("tests/integration/test_faults.py::test_executions_survive_a_killed_worker") == "integration"
    assert _group("tests/integration/test_load.py::test_500_executions") == "integration"
    assert _group("tests/integration/test_restarts.py::test_survives[distributed-SIGKILL-map]") == "integration"
    assert _group("tests/integration/test_restarts.py::test_survives[embedded-SIGTERM-wait]") == "integration-embedded"


def test_every_other_test_goes_with_its_file():
    assert _group("tests/web/test_access_keys.py::AccountMigrationTests::test_existing_people") == \
        "tests/web/test_access_keys.py"
    assert _group("tests/e2e/test_machine_design.py::test_start[chromium]") == "tests/e2e/test_machine_design.py"
    assert _group("tests/unit/asl/test_machine.py::test_x") == "tests/unit/asl/test_machine.py"


def test_the_embedded_variants_ask_for_no_part_of_the_cluster():
    """The `[embedded` tests run in a unit of their own, beside the cluster's: the `embedded`
    fixture they take their install from may not ask for the cluster, or for what is built on it,
    which would start a second cluster on their worker."""
    import importlib
    import inspect

    built_on_the_cluster = {"cluster", "admin_session", "admin", "mix", "distributed"}
    checked = 0
    for path in sorted((ROOT / "tests/integration").glob("test_*.py")):
        if '"embedded"' not in path.read_text():   # a test parametrised with an embedded mode
            continue
        module = importlib.import_module(f"tests.integration.{path.stem}")
        fixture = module.embedded
        function = getattr(fixture, "_get_wrapped_function", lambda: fixture)()
        assert not set(inspect.signature(function).parameters) & built_on_the_cluster, path.name
        checked += 1
    assert checked >= 3   # test_restarts, test_event_restarts, test_callback_restarts
