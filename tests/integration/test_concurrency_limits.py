"""Lambda's concurrency limits hold across the cluster: a function's reserved concurrency counts
its invocations on every worker, a dead worker's places come back within a lease, and what one
worker can run at once makes work wait, never fail."""

from __future__ import annotations

import signal
import uuid

import pytest

from tests.integration import workload
from tests.integration.blocking import BLOCKS, Gate
from tests.integration.cluster import Cluster, wait_until

THROTTLE_RETRY = {"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 2, "MaxAttempts": 15,
                  "BackoffRate": 1}
SERVICE_RETRY = {"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 3}


def reserved_blocker(client, reserved: int) -> str:
    """Deploys a blocking function of its own with `reserved` concurrency; returns its name."""
    name = f"it-reserved-{uuid.uuid4().hex[:6]}"
    client.ok("POST", "/api/functions", {"name": name, "runtime": "python"}, status=201)
    client.ok("PUT", f"/api/functions/{name}/code", {"files": {"lambda_function.py": BLOCKS}})
    client.ok("PUT", f"/api/functions/{name}/configuration",
              {"timeout": 60, "network": True, "reserved_concurrency": reserved})
    client.ok("POST", f"/api/functions/{name}/deploy")
    return name


def calling(client, function: str, retry: list) -> str:
    arn = workload.function_arn_prefix(client)
    return workload.published_machine(client, {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": arn + function, "Retry": retry, "End": True}}})


def start(client, machine: str, given) -> str:
    return client.ok("POST", f"/api/state-machines/{machine}/executions", {"input": given}, status=201)["id"]


def described(client, execution: str) -> dict:
    return client.ok("GET", f"/api/executions/{execution}")


@pytest.mark.slow
def test_reserved_concurrency_counts_invocations_on_every_worker(cluster, admin):
    machine = calling(admin, reserved_blocker(admin, 2), [])
    gate = Gate()
    try:
        running = [start(admin, machine, {"port": gate.port}) for _ in range(2)]
        gate.wait_for(2)
        # Wherever it lands, a third invocation finds the function's two places taken.
        third = start(admin, machine, {"port": gate.port})
        workload.wait_for_end(cluster, [third], 60, "the third execution")
        assert (described(admin, third)["status"], described(admin, third)["error"]) == \
            ("FAILED", "Lambda.TooManyRequestsException")
        gate.open()
        workload.wait_for_end(cluster, running, 60, "the two running executions")
    finally:
        gate.close()
    assert [described(admin, e)["status"] for e in running] == ["SUCCEEDED", "SUCCEEDED"]


@pytest.mark.slow
def test_a_dead_workers_places_come_back(cluster, admin):
    machine = calling(admin, reserved_blocker(admin, 1), [SERVICE_RETRY, THROTTLE_RETRY])
    gate = Gate()
    try:
        execution = start(admin, machine, {"port": gate.port})
        gate.wait_for(1)
        owner = cluster.sql("SELECT lease_owner FROM editor_execution WHERE id = %s", [execution])[0][0]
        index = next(i for i, p in cluster.worker_processes.items() if str(p.pid) == owner.split(":")[1])
        cluster.kill_worker(index, signal.SIGKILL)    # it dies holding the function's one place
        cluster.start_worker(index)
        gate.open()
        workload.wait_for_end(cluster, [execution], 120, "the execution")
    finally:
        gate.close()
    # Its Task failed with the worker, then found the place free again (not held forever).
    assert described(admin, execution)["status"] == "SUCCEEDED", described(admin, execution)


@pytest.mark.slow
def test_maps_wider_than_a_workers_capacity_wait_and_all_succeed():
    with Cluster(workers=2, lease_seconds=8, threads=8, env={"FLOWBENCH_FUNCTIONS_PER_PROCESS": "20"}).start() as wide:
        client = wide.client()
        workload.setup(client)
        runs = workload.start(client, "map", 60, threads=8)   # 8 x 10 iterations at once on each worker
        workload.wait_for_end(wide, [r.id for r in runs], 600, "the 60 Map executions")
        problems = workload.check_runs(wide, client, runs)
        assert not problems, workload.problems_summary(problems, len(runs))


def test_while_redis_restarts_invocations_run_uncounted_and_the_places_held_come_back(cluster):
    from editor.services.concurrency import RedisLimiter

    limiter = RedisLimiter(f"redis://127.0.0.1:{cluster.redis_port}/0", ttl=60)
    pool = (f"it-restart-{uuid.uuid4().hex[:6]}", 1)
    held = limiter.take(pool)
    assert held is not None and held[1] is not None
    assert limiter.take(pool) is None                  # the pool's one place is taken
    cluster.stop_redis()                               # and Redis forgets it
    try:
        uncounted = limiter.take(pool)
        assert uncounted == (held[0], None)            # an invocation runs instead of failing
        limiter.give_back(uncounted)
        limiter.renew()                                # cannot reach Redis either
    finally:
        cluster.start_redis()
    limiter.renew()
    assert limiter.take(pool) is None                  # the place still held was written back
    limiter.give_back(held)
    assert limiter.take(pool) is not None
