"""The conformance tally (conftest.py) counts the cases that ran, not those collected: a collect-
only run or a selection says nothing false and fails nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SUITE = "tests/unit/asl/test_conformance.py"


def pytest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_collecting_only_prints_no_tally_and_succeeds():
    done = pytest("--collect-only", SUITE)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "ASL conformance" not in done.stdout


def test_a_selection_is_tallied_as_the_cases_that_ran():
    done = pytest(SUITE, "-k", "state_pass_result or state_pass_regex_json_path_base")
    assert done.returncode == 0, done.stdout[-2000:]
    assert "ASL conformance: 2/2 selected cases passed (corpus: 662;" in done.stdout


def test_deselecting_every_case_prints_no_tally():
    done = pytest(SUITE, "tests/unit/asl/test_conformance_comparer.py", "-k",
                  "not test_the_engine_reproduces")
    assert done.returncode == 0, done.stdout[-2000:]
    assert "ASL conformance" not in done.stdout
