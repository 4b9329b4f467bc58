"""A server stopped any way mid-execution loses nothing: SIGTERM (Ctrl+C, a service manager) and
SIGKILL (a crash), during a Wait, during a Task whose function runs, during a Map of such Tasks, in
both modes: the embedded install (`make run`'s server: one web process on SQLite, executions on
its threads) and the distributed one (the worker that runs the execution is the one stopped).

Every execution ends SUCCEEDED after the restart with one contiguous history, no top-level state
entered twice and no aborted or failed end; a Map goes on from its iterations (those that had
finished are not run again). A Task whose function was running when the process
was killed fails with Lambda.ServiceException and its Retry runs it again (at-least-once, as in
AWS); on SIGTERM the function gets its grace to answer, and its result is kept: it runs once.
"""

from __future__ import annotations

import fnmatch
import json
import os
import signal
import tempfile
from pathlib import Path

import pytest

from tests.integration import workload
from tests.integration.blocking import BLOCKER, Gate, deploy_blocker
from tests.integration.cluster import Cluster, wait_until

RETRY = [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 3}]
SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}
WORK_DIRS = str(Path(tempfile.gettempdir()) / "flowbench-functions-*")


def definitions(arn: str) -> dict:
    task = {"Type": "Task", "Resource": arn + BLOCKER, "Retry": RETRY}
    return {
        # Shorter than either mode's lease: a longer Wait parks (tests/integration/test_parking.py).
        "wait": {"StartAt": "Before", "States": {
            "Before": {"Type": "Pass", "Next": "Hold"},
            "Hold": {"Type": "Wait", "Seconds": 5, "Next": "Done"},
            "Done": {"Type": "Pass", "End": True}}},
        "task": {"StartAt": "Call", "States": {
            "Call": {**task, "Next": "Done"},
            "Done": {"Type": "Pass", "End": True}}},
        "map": {"StartAt": "Each", "States": {
            "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "Next": "Done",
                     "ItemSelector": {"port.$": "$.port", "item.$": "$$.Map.Item.Value"},
                     "ItemProcessor": {"StartAt": "Call", "States": {"Call": {**task, "End": True}}}},
            "Done": {"Type": "Pass", "End": True}}},
        # The same items as child executions of a Distributed Map (editor.services.map_runs).
        "map_run": {"StartAt": "Each", "States": {
            "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "Next": "Done",
                     "ItemSelector": {"port.$": "$.port", "item.$": "$$.Map.Item.Value"},
                     "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                       "StartAt": "Call", "States": {"Call": {**task, "End": True}}}},
            "Done": {"Type": "Pass", "End": True}}},
    }


def set_up(client) -> dict:
    """Deploys the blocking function and creates the three machines; returns {kind: machine name}."""
    deploy_blocker(client)
    arn = workload.function_arn_prefix(client)
    return {kind: workload.published_machine(client, definition)
            for kind, definition in definitions(arn).items()}


@pytest.fixture(scope="module")
def embedded():
    """`make run`'s server on a fresh data folder, restarted by the tests."""
    server = Cluster(embedded=True, lease_seconds=30).start()
    try:
        yield server, set_up(server.client())
    finally:
        server.stop()


@pytest.fixture(scope="module")
def distributed(cluster, admin):
    return cluster, set_up(admin)


def reached(client, execution_id: str, kind: str, gate: Gate) -> None:
    """Waits until the execution stands where the stop must find it."""
    if kind == "wait":
        wait_until(lambda: "WaitStateEntered" in event_types(client, execution_id), 60, "the Wait to be entered")
    else:
        gate.wait_for(1 if kind == "task" else 2)   # (a Map: its first two items call the function)


def event_types(client, execution_id: str) -> list[str]:
    return [e["type"] for e in client.ok("GET", f"/api/executions/{execution_id}/events")["events"]]


def stop_and_start_web(server: Cluster, sig, gate: Gate) -> None:
    server.web.send_signal(sig)
    if sig == signal.SIGTERM:
        gate.open()        # the running function may answer within the stop's grace
    server.web.wait(timeout=60)
    server.web = None
    server.start_web()


def work_dirs_of(pid: int) -> set[str]:
    """Returns the runner work directories process `pid` holds (it keeps each one's lock open)."""
    held = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if fnmatch.fnmatch(target, WORK_DIRS + "/lock"):
            held.add(os.path.dirname(target))
    return held


def stop_and_start_worker(cluster: Cluster, sig, gate: Gate, execution_id: str, kind: str) -> tuple[set, list]:
    """Stops the worker whose lease the execution is under (the lease names its process; for a
    Distributed Map, that of a child running an item), then starts it again; the other worker
    carries the execution on meanwhile. Returns the work directories the stopped worker held and
    the Map items whose children it ran."""
    if kind == "map_run":
        owner = wait_until(lambda: next((o for *_, o in cluster.map_children(execution_id) if o), None), 30,
                           "a child's lease owner")
    else:
        owner = wait_until(lambda: cluster.sql("SELECT lease_owner FROM editor_execution WHERE id = %s",
                                               [execution_id])[0][0], 30, "the execution's lease owner")
    pid = int(owner.split(":")[1])
    held = work_dirs_of(pid)
    cut = children_run_by(cluster, execution_id, pid) if kind == "map_run" else []
    restart_worker(cluster, sig, gate, pid)
    return held, cut


def children_run_by(server: Cluster, execution_id: str, pid: int) -> list[int]:
    """The items of the execution's Distributed Map whose children process `pid` runs now."""
    return [index for index, _, _, owner in server.map_children(execution_id)
            if owner and owner.split(":")[1] == str(pid)]


def restart_worker(cluster: Cluster, sig, gate: Gate, pid: int) -> None:
    """Stops the worker of process `pid` (on SIGTERM, the gate opens: a running function answers
    within the stop's grace), then starts it again."""
    index = next(i for i, p in cluster.worker_processes.items() if p.pid == pid)
    if sig == signal.SIGTERM:
        worker = cluster.worker_processes[index]
        worker.send_signal(sig)
        gate.open()
        worker.wait(timeout=90)
        cluster.worker_processes.pop(index)
    else:
        cluster.kill_worker(index, sig)
    cluster.start_worker(index)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wait", "task", "map", "map_run"])
@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_an_execution_survives_its_process_being_stopped(request, mode, sig, kind):
    server, machines = request.getfixturevalue(mode)
    client = server.client()
    gate = Gate()
    try:
        given = {"port": gate.port, "items": [1, 2, 3, 4]}
        execution = client.ok("POST", f"/api/state-machines/{machines[kind]}/executions", {"input": given},
                              status=201)["id"]
        reached(client, execution, kind, gate)

        if mode == "embedded":
            made = work_dirs_of(server.web.pid)
            cut = children_run_by(server, execution, server.web.pid) if kind == "map_run" else []
            stop_and_start_web(server, SIGNALS[sig], gate)
        else:
            made, cut = stop_and_start_worker(server, SIGNALS[sig], gate, execution, kind)
        gate.open()
        if sig == "SIGKILL" and kind != "wait":
            # A killed process cannot remove them: the restarted one does, as it starts.
            assert made, "the stopped process ran a function: it had a work directory"
            wait_until(lambda: not any(os.path.exists(d) for d in made), 60, "the killed process's work dirs to go")
        # Read from the database, not the web: the restarted process resumes without any request.
        wait_until(lambda: server.execution_status(execution) != "RUNNING", 120, f"the execution to end after {sig}")
    finally:
        gate.close()

    described = client.ok("GET", f"/api/executions/{execution}")
    assert described["status"] == "SUCCEEDED", described
    events = client.ok("GET", f"/api/executions/{execution}/events")["events"]
    assert workload.history_problems(events) == []
    top = set(definitions("")[kind]["States"])
    entered = [e["stateEnteredEventDetails"]["name"] for e in events
               if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] in top]
    assert sorted(entered) == sorted(set(entered)), f"a top-level state entered twice: {entered}"
    invocations = client.ok("GET", f"/api/executions/{execution}/invocations")["invocations"]
    assert all(i["state"] == "Call" for i in invocations), invocations
    assert all(i["status"] != "running" for i in invocations), invocations
    if kind == "task":
        failed = [e for e in events if e["type"] == "LambdaFunctionFailed"]
        if sig == "SIGTERM":
            # The function answered within the grace: its result was kept, it ran once.
            assert (len(invocations), failed) == (1, []), (invocations, failed)
        else:
            assert [f["lambdaFunctionFailedEventDetails"]["error"] for f in failed] == ["Lambda.ServiceException"]
            assert len(invocations) == 2
    if kind == "map":
        assert json.loads(described["output"]) == [{"item": i, "answered": True} for i in (1, 2, 3, 4)]
        # The Map went on from its iterations: each began once, and only the two running when the
        # process went away (killed: cut off; stopped: they answered within the grace) ran again.
        started = [e["mapIterationStartedEventDetails"]["index"] for e in events if e["type"] == "MapIterationStarted"]
        assert sorted(started) == [0, 1, 2, 3]
        assert len(invocations) == (6 if sig == "SIGKILL" else 4), invocations
    if kind == "map_run":
        assert json.loads(described["output"]) == [{"item": i, "answered": True} for i in (1, 2, 3, 4)]
        # One child per item, none started twice; the parent's history holds the Map Run only.
        children = server.map_children(execution)
        assert [(index, status) for index, status, *_ in children] == [(i, "SUCCEEDED") for i in range(4)]
        assert "MapIterationStarted" not in [e["type"] for e in events]
        calls = [call for _, _, child, _ in children
                 for call in client.ok("GET", f"/api/executions/{child}/invocations")["invocations"]]
        assert all(call["status"] != "running" for call in calls), calls
        # The children the stopped process ran (at least one) called their function again only
        # when it was killed: on SIGTERM their calls answered within the grace.
        assert cut, "the stopped process ran a child of the Map"
        assert len(calls) == 4 + (len(cut) if sig == "SIGKILL" else 0), (cut, calls)
