"""Long Waits hold no worker thread (the execution parks until the Wait is due), and Stop reaches
an execution wherever it is: running on a worker, or parked with no worker at all."""

from __future__ import annotations

import json
import uuid

import pytest

from runtime.asl.timestamps import parse_timestamp
from tests.integration import workload
from tests.integration.cluster import wait_until

# The cluster's workers have 2 x 6 threads; more Waits than that at once prove none holds one.
PARKED = 48
LONG_WAIT = {"StartAt": "Rest", "States": {
    "Rest": {"Type": "Wait", "Seconds": 10, "Next": "Done"},   # longer than the cluster's 8 s lease
    "Done": {"Type": "Pass", "Result": "rested", "ResultPath": "$.after", "End": True}}}
SPIN = {"StartAt": "Spin", "States": {
    "Spin": {"Type": "Pass", "Next": "Pause"},
    "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Spin"}}}   # runs until stopped


# More iterations than the cluster's workers have threads, each in a Wait longer than the lease.
WIDE = 20
MAP_OF_WAITS = {"StartAt": "Each", "States": {"Each": {
    "Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.rested", "End": True,
    "ItemProcessor": {"StartAt": "Rest", "States": {
        "Rest": {"Type": "Wait", "Seconds": 10, "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"i.$": "$.i", "after": "rested"}, "End": True}}}}}}


@pytest.fixture(scope="module")
def machines(mix):
    return {"rest": workload.published_machine(mix, LONG_WAIT), "spin": workload.published_machine(mix, SPIN),
            "wide": workload.published_machine(mix, MAP_OF_WAITS)}


def parked_now(cluster, keys) -> int:
    return cluster.sql("SELECT count(*) FROM editor_execution WHERE id = ANY(%s) AND status = 'RUNNING' "
                       "AND lease_owner = '' AND lease_until > now()", [keys])[0][0]


def test_more_long_waits_than_worker_threads_all_wait_at_once_and_finish(cluster, machines):
    client = cluster.client()
    started = [client.ok("POST", f"/api/state-machines/{machines['rest']}/executions", {"input": {"i": i}},
                         status=201)["id"] for i in range(PARKED)]
    keys = [uuid.UUID(i) for i in started]

    # Every one of them waits at the same moment, more than the workers have threads.
    wait_until(lambda: parked_now(cluster, keys) == PARKED, 60, f"all {PARKED} executions to be parked at once")
    workload.wait_for_end(cluster, started, 60, "parked executions")

    for i, execution_id in enumerate(started):
        execution = client.ok("GET", f"/api/executions/{execution_id}")
        assert (execution["status"], json.loads(execution["output"])) == ("SUCCEEDED", {"i": i, "after": "rested"})
        events = client.ok("GET", f"/api/executions/{execution_id}/events")["events"]
        assert workload.history_problems(events) == []
        assert [e["type"] for e in events] == [
            "ExecutionStarted", "WaitStateEntered", "WaitStateExited", "PassStateEntered", "PassStateExited",
            "ExecutionSucceeded"]
        # Parked or not, the Wait lasted its 10 seconds (what it means, not how fast anything is).
        waited = (parse_timestamp(events[2]["timestamp"]) - parse_timestamp(events[1]["timestamp"]))
        assert waited.total_seconds() >= 9.999, waited


def test_a_map_of_long_waits_parks_with_every_iteration_waiting_and_then_succeeds(cluster, machines):
    client = cluster.client()
    items = [{"i": i} for i in range(WIDE)]
    execution = client.ok("POST", f"/api/state-machines/{machines['wide']}/executions",
                          {"input": {"items": items}}, status=201)
    key = uuid.UUID(execution["id"])

    def all_waiting_and_parked():
        entered = cluster.sql("SELECT count(*) FROM editor_executionevent WHERE execution_id = %s "
                              "AND type = 'WaitStateEntered'", [key])[0][0]
        return entered == WIDE and parked_now(cluster, [key]) == 1
    # Every iteration waits at once while no worker holds the execution (nor a thread for it).
    wait_until(all_waiting_and_parked, 60, f"the Map's {WIDE} iterations to wait, parked")
    workload.wait_for_end(cluster, [execution["id"]], 60, "the parked Map")

    ended = client.ok("GET", f"/api/executions/{execution['id']}")
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"])["rested"] == [{"i": i, "after": "rested"} for i in range(WIDE)]
    events = client.ok("GET", f"/api/executions/{execution['id']}/events")["events"]
    assert workload.history_problems(events) == []
    kinds = [e["type"] for e in events]
    assert kinds.count("WaitStateEntered") == kinds.count("WaitStateExited") == WIDE
    assert kinds.count("MapIterationStarted") == kinds.count("MapIterationSucceeded") == WIDE
    # Each Wait lasted its 10 seconds, parked or not.
    by_id = {e["id"]: e for e in events}
    for exited in (e for e in events if e["type"] == "WaitStateExited"):
        entered = by_id[exited["previousEventId"]]
        assert entered["type"] == "WaitStateEntered"
        waited = parse_timestamp(exited["timestamp"]) - parse_timestamp(entered["timestamp"])
        assert waited.total_seconds() >= 9.999, waited


def test_a_parked_execution_survives_its_worker_dying(cluster, machines):
    client = cluster.client()
    execution = client.ok("POST", f"/api/state-machines/{machines['rest']}/executions", {"input": {"i": -1}},
                          status=201)
    key = [uuid.UUID(execution["id"])]
    wait_until(lambda: parked_now(cluster, key) == 1, 60, "the execution to park")
    # Both workers go away while it waits; fresh ones take it when the Wait is due.
    cluster.kill_worker(0)
    cluster.kill_worker(1)
    cluster.start_worker(0)
    cluster.start_worker(1)
    workload.wait_for_end(cluster, [execution["id"]], 60, "the parked execution")
    ended = client.ok("GET", f"/api/executions/{execution['id']}")
    assert (ended["status"], json.loads(ended["output"])) == ("SUCCEEDED", {"i": -1, "after": "rested"})


def test_stop_reaches_an_execution_on_a_worker_and_a_parked_one(cluster, machines):
    client = cluster.client()
    spinning = client.ok("POST", f"/api/state-machines/{machines['spin']}/executions", {"input": {}}, status=201)
    resting = client.ok("POST", f"/api/state-machines/{machines['rest']}/executions", {"input": {}}, status=201)
    wait_until(lambda: cluster.sql("SELECT lease_owner FROM editor_execution WHERE id = %s",
                                   [uuid.UUID(spinning["id"])])[0][0] != "", 60, "a worker to run the spinning one")
    wait_until(lambda: parked_now(cluster, [uuid.UUID(resting["id"])]) == 1, 60, "the resting one to park")

    for execution in (spinning, resting):
        stopped = client.post(f"/api/executions/{execution['id']}/stop", {"error": "Enough", "cause": "the test"})
        assert stopped.status_code == 200, stopped.text
    workload.wait_for_end(cluster, [spinning["id"], resting["id"]], 30, "the stopped executions")

    for execution in (spinning, resting):
        ended = client.ok("GET", f"/api/executions/{execution['id']}")
        assert (ended["status"], ended["error"], ended["cause"]) == ("ABORTED", "Enough", "the test")
        events = client.ok("GET", f"/api/executions/{execution['id']}/events")["events"]
        assert workload.history_problems(events, terminal="ExecutionAborted") == []
