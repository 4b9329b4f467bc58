"""Tallies the ASL conformance suite: prints the pass rate and fails the run below the minimum."""

from __future__ import annotations

import pytest

from tests.unit.asl import conformance

_TALLY = {"passed": 0, "ran": 0}
_VERDICT: dict[str, str] = {}
_REPLAY_TEST = "test_the_engine_reproduces_the_recorded_execution"


def _is_replay(report) -> bool:
    return report.nodeid.rpartition("::")[2].partition("[")[0] == _REPLAY_TEST


def pytest_runtest_logreport(report):
    # Counted as the cases run (not as collected: --collect-only or -k runs none or some), and a
    # case erroring in setup counts as run and not passed.
    if not _is_replay(report):
        return
    if report.when == "call" or (report.when == "setup" and report.failed):
        _TALLY["ran"] += 1
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == "conformance_passed":
            _TALLY["passed"] += bool(value)


def pytest_sessionfinish(session, exitstatus):
    if not _TALLY["ran"]:
        return
    try:
        total = len(conformance.load_cases())
    except conformance.CorpusMissing:
        return
    passed, ran = _TALLY["passed"], _TALLY["ran"]
    if ran < total:
        _VERDICT["line"] = (f"ASL conformance: {passed}/{ran} selected cases passed (corpus: "
                            f"{total}; the {conformance.PASS_RATE_REQUIRED:.0f}% minimum applies "
                            f"to full runs)")
        return
    rate = 100.0 * passed / total
    _VERDICT["line"] = f"ASL conformance: {passed}/{total} passed ({rate:.1f}%)"
    if rate < conformance.PASS_RATE_REQUIRED:
        _VERDICT["line"] += f" - below the required {conformance.PASS_RATE_REQUIRED:.0f}%: FAILED"
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if "line" in _VERDICT:
        terminalreporter.write_sep("=", _VERDICT["line"])
