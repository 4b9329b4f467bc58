"""Fixtures for the function runner's tests: one runner per sandbox backend.

Every test that takes `runner` runs once per backend, so both backends meet the same contract.
"""

import pytest

from runtime.functions import FunctionRunner

BACKENDS = ("bubblewrap", "plain")


@pytest.fixture(scope="session", params=BACKENDS)
def runner(request):
    """A runner shared by the session's tests of one backend (workers stay warm)."""
    with FunctionRunner(backend=request.param, idle_timeout=600) as shared:
        yield shared


@pytest.fixture(params=BACKENDS)
def fresh_runner(request):
    """A runner of its own for tests that break workers or count them."""
    with FunctionRunner(backend=request.param, idle_timeout=600) as own:
        yield own

