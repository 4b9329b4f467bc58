"""Tallies the ASL conformance suite: prints the pass rate and fails the run below the minimum."""

from __future__ import annotations

import pytest

from tests.unit.asl import conformance

_TALLY = {"passed": 0, "ran": 0}
_VERDICT: dict[str, str] = {}


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == "conformance_passed":
            _TALLY["ran"] += 1
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
