"""Fixtures for the function runner's tests: runners per sandbox backend, and per way of holding
a worker (with the host's cgroups, or without any).

Every test that takes `runner` runs once per backend, so both backends meet the same contract.
A guarantee that only some backends give on this host is tested on exactly those (ISOLATING):
the plain backend isolates a function from the host's files, signals and network only when
Flowbench runs as root (each worker then has a user id of its own). That limit is said in the
README and on the function page; a test never passes by asserting the limit.
"""

import os

import pytest

from runtime.functions import FunctionRunner
from runtime.functions.sandbox import find_cgroups

BACKENDS = ("bubblewrap", "plain")
AS_ROOT = os.geteuid() == 0
ISOLATING = BACKENDS if AS_ROOT else ("bubblewrap",)
HOST_CGROUPS = find_cgroups()
CGROUP_MEMORY = HOST_CGROUPS is not None and HOST_CGROUPS.memory is not None


def holdings(backends=BACKENDS, *, cgroups=(True, False)):
    """Returns pytest params (backend, use cgroups) for `backends`: with the host's cgroups
    (where it has any) and without, ids such as "bubblewrap-cgroup", "plain-no-cgroup"."""
    params = []
    for backend in backends:
        for use in cgroups:
            if use and HOST_CGROUPS is None:
                continue
            params.append(pytest.param((backend, use),
                                       id=f"{backend}-{'cgroup' if use else 'no-cgroup'}"))
    return params


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


@pytest.fixture(params=ISOLATING)
def isolating_runner(request):
    """A runner of a backend that isolates functions from the host on this machine."""
    with FunctionRunner(backend=request.param, idle_timeout=600) as own:
        yield own


@pytest.fixture
def held_runner(request):
    """A runner of the (backend, use cgroups) the test is parametrized with (see `holdings`),
    passed indirectly: @pytest.mark.parametrize("held_runner", holdings(), indirect=True)."""
    backend, cgroups = request.param
    with FunctionRunner(backend=backend, cgroups=cgroups, idle_timeout=600) as own:
        yield own
