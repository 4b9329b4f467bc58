"""Distributed Maps in the distributed mode: each item is a child execution of its own, dispatched
to whichever worker takes it, so a wide Map runs on every worker at once; a worker that dies
mid-run loses no item and starts none twice (editor.services.map_runs)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration import workload
from tests.integration.cluster import wait_until

ITEMS = 24
# Each item rests 3 s on its thread (shorter than the lease: it does not park), then answers.
FAN_OUT = {"StartAt": "Each", "States": {"Each": {
    "Type": "Map", "ItemsPath": "$.items", "Label": "Fan", "End": True,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                      "StartAt": "Rest", "States": {
                          "Rest": {"Type": "Wait", "Seconds": 3, "Next": "Done"},
                          "Done": {"Type": "Pass", "Parameters": {"i.$": "$.i", "done": True}, "End": True}}}}}}


@pytest.fixture(scope="module")
def fan_out(mix):
    return workload.published_machine(mix, FAN_OUT)


def start(cluster, machine) -> str:
    client = cluster.client()
    return client.ok("POST", f"/api/state-machines/{machine}/executions",
                     {"input": {"items": [{"i": i} for i in range(ITEMS)]}}, status=201)["id"]


def running_owners(cluster, parent: str) -> set[str]:
    """The processes running the parent's children now."""
    rows = cluster.sql("SELECT DISTINCT c.lease_owner FROM editor_execution c JOIN editor_maprun r "
                       "ON c.map_run_id = r.id WHERE r.execution_id = %s AND c.status = 'RUNNING' "
                       "AND c.lease_owner <> ''", [uuid.UUID(parent)])
    return {row[0] for row in rows}


def assert_ran_once_each_and_succeeded(cluster, parent: str) -> None:
    client = cluster.client()
    ended = client.ok("GET", f"/api/executions/{parent}")
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"]) == [{"i": i, "done": True} for i in range(ITEMS)]
    children = cluster.sql("SELECT c.map_index, c.status, c.input FROM editor_execution c JOIN editor_maprun r "
                           "ON c.map_run_id = r.id WHERE r.execution_id = %s ORDER BY c.map_index",
                           [uuid.UUID(parent)])
    # One child per item, each started once, each succeeded on its own item.
    assert [(index, status, json.loads(text)) for index, status, text in children] == \
        [(i, "SUCCEEDED", {"i": i}) for i in range(ITEMS)]
    assert cluster.sql("SELECT status FROM editor_maprun WHERE execution_id = %s", [uuid.UUID(parent)]) == \
        [("SUCCEEDED",)]
    events = client.ok("GET", f"/api/executions/{parent}/events")["events"]
    assert workload.history_problems(events) == []
    kinds = [e["type"] for e in events]
    assert kinds.count("MapRunStarted") == kinds.count("MapRunSucceeded") == 1
    assert "MapIterationStarted" not in kinds   # the items' events are the children's own


def test_a_wide_distributed_map_runs_its_items_on_both_workers_at_once(cluster, fan_out):
    parent = start(cluster, fan_out)
    seen: set[str] = set()

    def both_at_work():
        seen.update(running_owners(cluster, parent))
        return len({owner.split(":")[1] for owner in seen}) >= 2
    wait_until(both_at_work, 60, "the Map's children to run on both workers")
    workload.wait_for_end(cluster, [parent], 120, "the distributed Map")
    assert_ran_once_each_and_succeeded(cluster, parent)


def test_a_worker_killed_mid_run_loses_no_item_and_starts_none_twice(cluster, fan_out):
    parent = start(cluster, fan_out)
    victim = str(cluster.worker_processes[0].pid)
    wait_until(lambda: any(owner.split(":")[1] == victim for owner in running_owners(cluster, parent)), 60,
               "a child of the Map to run on worker 0")
    cluster.kill_worker(0)
    cluster.start_worker(0)
    workload.wait_for_end(cluster, [parent], 180, "the distributed Map after a worker died")
    assert_ran_once_each_and_succeeded(cluster, parent)
    # The children the dead worker held were taken over, not started again.
    taken = cluster.sql("SELECT count(*) FROM editor_execution c JOIN editor_maprun r ON c.map_run_id = r.id "
                        "WHERE r.execution_id = %s AND c.takeovers > 0", [uuid.UUID(parent)])[0][0]
    assert taken >= 1
