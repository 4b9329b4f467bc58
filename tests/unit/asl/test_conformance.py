"""Every recorded execution of the ASL conformance corpus, replayed through Flowbench's engine.

A case passes when its status, output (or error and cause) and history event types match what AWS
recorded, compared as `conformance.py` and the corpus README say. Cases listed in
`conformance_failures.txt` must still fail: one that starts passing fails here until its line is
removed. `conftest.py` prints the pass rate and fails the run below the required rate.
"""

from __future__ import annotations

import pytest

from tests.unit.asl import conformance

try:
    CASES = conformance.load_cases()
    CORPUS_ERROR = None
except conformance.CorpusMissing as missing:
    CASES = []
    CORPUS_ERROR = str(missing)

KNOWN_FAILURES = conformance.load_failures()
CASE_PARAMS = ([pytest.param(case, id=case["id"]) for case in CASES] if CASES else
               [pytest.param(None, id="corpus-missing")])


@pytest.fixture(scope="module")
def runner():
    """Yields one FunctionRunner shared by every Lambda case of the module."""
    from runtime.functions import FunctionRunner

    with FunctionRunner() as shared_runner:
        yield shared_runner


@pytest.fixture
def function_runner(request):
    """Returns the shared runner for cases that deploy functions, None for the others."""
    case = request.node.callspec.params["case"]
    return request.getfixturevalue("runner") if case and case.get("functions") else None


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_the_engine_reproduces_the_recorded_execution(case, function_runner, record_property):
    if case is None:
        pytest.fail(CORPUS_ERROR)
    run = conformance.execute_within(case, function_runner)
    record_property("conformance_passed", run.passed)

    if case["id"] in KNOWN_FAILURES:
        if run.passed:
            pytest.fail(f"{case['id']} now matches AWS: remove it from conformance_failures.txt "
                        f"(listed because: {KNOWN_FAILURES[case['id']]})", pytrace=False)
        return

    if run.crash:
        pytest.fail(f"the engine raised while running {case['id']}:\n{run.crash}", pytrace=False)
    if run.outcome:
        pytest.fail("the result departs from AWS's:\n" + "\n".join(map(str, run.outcome)),
                    pytrace=False)
    if run.history:
        pytest.fail(run.history, pytrace=False)
