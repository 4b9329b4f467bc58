"""A worker that dies strands nothing: the executions it ran and those it had only taken from the
broker (a worker takes jobs ahead of running them) are all held under its lease while it lives, so
the other worker takes every one of them up within one lease of its death, and they all succeed."""

from __future__ import annotations

import signal

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration import workload
from tests.integration.blocking import BLOCKER, Gate, deploy_blocker
from tests.integration.cluster import wait_until

RETRY = [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 3}]


@pytest.mark.slow
def test_a_dead_workers_running_and_taken_executions_all_move_to_the_other(cluster, admin):
    deploy_blocker(admin)
    arn = workload.function_arn_prefix(admin)
    machine = workload.published_machine(admin, {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": arn + BLOCKER, "Retry": RETRY, "End": True}}})
    per_worker = cluster.threads * 2          # its threads' worth running, as many taken ahead
    gate = Gate()
    try:
        ids = [admin.ok("POST", f"/api/state-machines/{machine}/executions", {"input": {"port": gate.port}},
                        status=201)["id"] for _ in range(per_worker * len(cluster.worker_processes))]
        gate.wait_for(cluster.threads * len(cluster.worker_processes))

        def owners() -> dict:
            return dict(cluster.sql("SELECT id::text, lease_owner FROM editor_execution WHERE id = ANY(%s::uuid[])",
                                    [ids]))
        # Every execution is held by a worker now: none waits unowned in a worker's memory.
        wait_until(lambda: all(owners().values()), 60, "every execution to be held by a worker")
        pid = cluster.worker_processes[0].pid
        held = [i for i, owner in owners().items() if owner.split(":")[1] == str(pid)]
        assert len(held) == per_worker, f"worker 0 holds {len(held)} executions, not {per_worker}"

        assert "started as" in cluster.log_tail("worker-0", 200)   # it said what it is
        cluster.kill_worker(0, signal.SIGKILL)
        # Within one lease (and the sweep's second) of the kill, the other worker has them all.
        wait_until(lambda: all(str(pid) not in (owners()[i] or ":").split(":")[1] for i in held),
                   cluster.lease_seconds * 3, "the dead worker's executions to move")
        gate.open()
        workload.wait_for_end(cluster, ids, 180, "executions")
    finally:
        gate.close()
        if 0 not in cluster.worker_processes:
            cluster.start_worker(0)
    for execution in held:
        described = admin.ok("GET", f"/api/executions/{execution}")
        assert described["status"] == "SUCCEEDED", described
        events = admin.ok("GET", f"/api/executions/{execution}/events")["events"]
        assert workload.history_problems(events) == []
    # The operator sees it: the takeovers are logged by the worker that made them, and counted.
    logs = "".join(cluster.log_path(f"worker-{i}").read_text(errors="replace") for i in cluster.worker_processes)
    untold = [execution for execution in held if f"taking over execution {execution}" not in logs]
    assert not untold, f"no takeover logged for {untold} of {held}"
    text = admin.get("/metrics").text
    resumed = next(s.value for f in text_string_to_metric_families(text) for s in f.samples
                   if s.name == "flowbench_executions_resumed_total")
    assert resumed >= len(held)


def test_health_says_whether_the_services_and_the_workers_answer(cluster):
    anonymous = httpx.Client(base_url=cluster.base_url, timeout=30)
    try:
        assert anonymous.get("/health/", headers={"Accept": "application/json"}).status_code == 200
        assert anonymous.get("/health/workers", headers={"Accept": "application/json"}).status_code == 200
        stopped = list(cluster.worker_processes)
        for index in stopped:
            cluster.kill_worker(index, signal.SIGKILL)
        try:
            workers = anonymous.get("/health/workers", headers={"Accept": "application/json"})
            assert workers.status_code == 500
            assert "Celery" in workers.text
            # The web process itself is fine: a load balancer keeps sending it requests.
            assert anonymous.get("/health/", headers={"Accept": "application/json"}).status_code == 200
        finally:
            for index in stopped:
                cluster.start_worker(index)
    finally:
        anonymous.close()
