"""The distributed mode's cluster for the integration tests: one per session, two workers.

PostgreSQL at 127.0.0.1:5432 and `redis-server` on PATH are required. Without them the tests skip
saying which is missing, unless FLOWBENCH_REQUIRE_SERVICES=1 (CI), where they fail instead.
"""

from __future__ import annotations

import os

import pytest

from tests.integration import workload
from tests.conftest import summary_lines
from tests.integration.cluster import Cluster, missing_services


def require_services() -> None:
    missing = missing_services()
    if not missing:
        return
    message = "the integration tests need PostgreSQL and redis-server: " + "; ".join(missing)
    if os.environ.get("FLOWBENCH_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (FLOWBENCH_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.session.config.stash[FAILED] = True
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def cluster(request):
    """A running cluster: its own database, Redis, daphne and 2 Celery workers of 6 threads.
    The lease is 8 s: short, so faults resume quickly, yet long enough that a 2-core machine
    loaded by other work does not let a live worker's leases run out.

    When a test failed, the cluster's data folder (one log per process) is kept and named."""
    require_services()
    # 6 threads a worker: 6 executions whose Maps run 10 iterations at once stay under a worker's
    # 64 concurrent invocations of one function (beyond it Lambda, and Flowbench, throttle: 429).
    started = Cluster(workers=2, lease_seconds=8, threads=6).start()
    try:
        yield started
    finally:
        failed = request.config.stash.get(FAILED, False)
        started.stop(keep_data=failed)
        if failed:
            summary_lines(request.config).append(f"integration cluster logs kept in {started.data_dir}")


@pytest.fixture(scope="session")
def admin_session(cluster):
    """A boto3 session with the cluster's administrator's one access key, shared by the tests (an
    administrator may hold two keys)."""
    import boto3

    lines = dict(line.split("=", 1) for line in cluster.manage("create_access_key", "admin").split())
    return boto3.session.Session(aws_access_key_id=lines["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=lines["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")


@pytest.fixture(scope="session")
def admin(cluster):
    """The administrator's signed-in client (owner of the samples and the workload)."""
    return cluster.client()


@pytest.fixture(scope="session")
def mix(admin):
    """The workload's functions and machines, created once; returns the administrator's client."""
    workload.setup(admin)
    return admin
