"""How soon a dead worker's executions move to another: the distributed mode's recovery time.

    python -m bench.takeover [--leases 10,30] [--executions-per-worker 24]

For each lease length: a cluster of two Celery workers (tests/integration/cluster.py: its own
PostgreSQL database and Redis), executions whose Task blocks until released, so that each worker
runs its threads' worth and holds as many more it took from the broker. Worker 0 is SIGKILLed;
printed is the time from the kill until every execution it held (running or only taken) was taken
up by the other worker, beside the bound this design promises (one lease, plus the sweep's second)
and what the broker alone would give (its visibility timeout: an hour).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time


def measure(lease: int, per_worker: int) -> tuple[int, float]:
    """Returns (executions worker 0 held, seconds from its kill until all of them moved)."""
    from tests.integration import workload
    from tests.integration.blocking import BLOCKER, Gate, deploy_blocker
    from tests.integration.cluster import Cluster, wait_until

    threads = per_worker // 2
    with Cluster(workers=2, lease_seconds=lease, threads=threads).start() as cluster:
        admin = cluster.client()
        deploy_blocker(admin)
        arn = workload.function_arn_prefix(admin)
        machine = workload.published_machine(admin, {"StartAt": "Call", "States": {"Call": {
            "Type": "Task", "Resource": arn + BLOCKER, "End": True,
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1}]}}})
        gate = Gate()
        try:
            ids = [admin.ok("POST", f"/api/state-machines/{machine}/executions", {"input": {"port": gate.port}},
                            status=201)["id"] for _ in range(per_worker * 2)]
            gate.wait_for(threads * 2)

            def owners() -> dict:
                return dict(cluster.sql("SELECT id::text, lease_owner FROM editor_execution "
                                        "WHERE id = ANY(%s::uuid[])", [ids]))
            wait_until(lambda: all(owners().values()), 120, "every execution to be held by a worker")
            pid = str(cluster.worker_processes[0].pid)
            held = [i for i, owner in owners().items() if owner.split(":")[1] == pid]
            killed = time.monotonic()
            cluster.kill_worker(0, signal.SIGKILL)
            wait_until(lambda: all((owners()[i] or ":").split(":")[1] != pid for i in held), lease * 4,
                       "the dead worker's executions to move", interval=0.05)
            moved = time.monotonic() - killed
            gate.open()
            workload.wait_for_end(cluster, ids, 300, "executions")
            return len(held), moved
        finally:
            gate.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.takeover", description=__doc__.splitlines()[0])
    parser.add_argument("--leases", default="10,30", help="lease lengths to measure, seconds (default 10,30)")
    parser.add_argument("--executions-per-worker", type=int, default=24,
                        help="executions each worker holds: half running, half taken ahead (default 24)")
    options, _ = parser.parse_known_args(argv)
    print("Worker SIGKILLed with executions running and taken ahead: time until all of them moved")
    print(f"{'lease s':>8} {'held':>5} {'moved after s':>14} {'bound s (lease + sweep)':>24} "
          f"{'broker alone s':>15}")
    for lease in (int(part) for part in options.leases.split(",")):
        held, moved = measure(lease, options.executions_per_worker)
        print(f"{lease:>8} {held:>5} {moved:>14.1f} {lease + 1:>24} {3600:>15}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (this benchmark's own processes included)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
