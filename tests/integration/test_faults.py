"""Faults during load: a worker SIGKILLed and restarted, Redis stopped and started again, the web
process killed and restarted while a browser and a raw WebSocket client watch. Every execution
still ends with the right output and a whole history; the watchers see every event once.

The workload here is the mixed one (tests/integration/workload.py) with, on every Task, the Retry
the Lambda console writes by default (`Lambda.ServiceException` and friends): a Task whose worker
died while its function ran fails with Lambda.ServiceException and is retried by that rule, as
AWS retries a failure of the Lambda service (at-least-once for Tasks). Top-level states are still
entered exactly once per visit, and event ids stay 1..N.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration import workload
from tests.integration.cluster import WebSocketClosed, WebSocketRefused, wait_until

LOAD = 500
# How long Redis stays down: the fault's own length, not a wait for anything.
REDIS_OUTAGE_SECONDS = 3
CONSOLE_RETRY = {"ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException",
                                 "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
                 "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}
WATCHED = {
    "Comment": "Fifteen rounds of a one-second Wait: long enough to watch through a web restart",
    "StartAt": "Count",
    "States": {
        "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 1, "Next": "More?"},
        "More?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 15, "Next": "Count"}],
                  "Default": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


def with_console_retry(definition: dict) -> dict:
    """Returns the definition with the console's default Retry first on every Task, nested too."""
    definition = copy.deepcopy(definition)

    def visit(states: dict):
        for state in states.values():
            if state["Type"] == "Task":
                state["Retry"] = [CONSOLE_RETRY, *state.get("Retry", [])]
            for branch in state.get("Branches", []):
                visit(branch["States"])
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                visit(processor["States"])
    visit(definition["States"])
    return definition


def fault_machine(kind: str) -> str:
    return f"it-f-{kind}"


@pytest.fixture(scope="module")
def fault_mix(mix, cluster):
    """Copies of the workload's machines with the console's Retry; returns their top-level names."""
    client = mix
    arn = workload.function_arn_prefix(client)
    definitions = dict(workload._definitions(arn))
    seed = client.ok("GET", f"/api/state-machines/{workload.SEED_MACHINE}")
    definitions[workload.SEED_MACHINE] = json.loads(seed["definition"])
    top = {}
    for kind, spec in workload.KINDS.items():
        definition = with_console_retry(definitions[spec.machine])
        client.ok("POST", "/api/state-machines", {"name": fault_machine(kind), "type": "STANDARD",
                                                  "role": workload.ROLE, "definition": json.dumps(definition)},
                  status=201)
        client.ok("POST", f"/api/state-machines/{fault_machine(kind)}/versions", status=201)
        top[kind] = set(definition["States"])
    client.ok("POST", "/api/state-machines", {"name": "it-f-watched", "type": "STANDARD", "role": workload.ROLE,
                                              "definition": json.dumps(WATCHED)}, status=201)
    client.ok("POST", "/api/state-machines/it-f-watched/versions", status=201)
    return top


def start_fault_run(client, kind: str, seq: int) -> workload.Run:
    given, expected, invocations = workload.KINDS[kind].case(seq)
    started = client.ok("POST", f"/api/state-machines/{fault_machine(kind)}/executions",
                        {"input": given, "name": f"f-{kind}-{seq}-{uuid.uuid4().hex[:6]}"}, status=201)
    return workload.Run(started["id"], kind, seq, given, expected, invocations)


class RawWatcher(threading.Thread):
    """A WebSocket client that records every event id it is sent (no client-side dedup) and, when
    the server goes away, reconnects and subscribes after the last id it has, as the page does."""

    def __init__(self, client, execution_id: str):
        super().__init__(name="raw-watcher", daemon=True)
        self.client = client
        self.execution_id = execution_id
        self.ids: list[int] = []
        self.reconnects = 0
        self.status = None
        self.error = None

    def run(self):
        deadline = time.monotonic() + 240
        try:
            while self.status in (None, "RUNNING") and time.monotonic() < deadline:
                try:
                    with self.client.websocket(f"/ws/executions/{self.execution_id}/", timeout=60) as socket:
                        socket.send_json({"type": "subscribe", "after": self.ids[-1] if self.ids else 0})
                        while self.status in (None, "RUNNING"):
                            message = socket.receive_json()
                            if message["type"] == "events":
                                self.ids += [event["id"] for event in message["events"]]
                            elif message["type"] == "execution":
                                self.status = message["execution"]["status"]
                except (WebSocketClosed, WebSocketRefused, ConnectionError, OSError):
                    self.reconnects += 1
                    threading.Event().wait(0.2)   # the page's own back-off before it reconnects
        except Exception as exc:   # reported by the test
            self.error = exc


def fault_run_problems(client, run: workload.Run, counts: dict, top_states: set[str]) -> list[str]:
    where = f"{run.kind} #{run.seq} ({run.id})"
    execution = client.ok("GET", f"/api/executions/{run.id}")
    if execution["status"] != "SUCCEEDED":
        return [f"{where}: {execution['status']} with {execution['error']}: {(execution['cause'] or '')[:300]}"]
    problems = []
    if json.loads(execution["output"]) != run.expected:
        problems.append(f"{where}: output {execution['output'][:300]} is not the expected one")
    events = client.ok("GET", f"/api/executions/{run.id}/events")["events"]
    problems += [f"{where}: {p}" for p in workload.history_problems(events)]
    attempts = workload.task_attempts(events)
    recorded, running = counts.get(run.id, (0, 0))
    if attempts < run.invocations:
        problems.append(f"{where}: {attempts} Task attempts, fewer than the {run.invocations} it needs")
    if recorded > attempts:
        problems.append(f"{where}: {recorded} Invocation rows for {attempts} Task attempts in the history")
    if running:
        problems.append(f"{where}: {running} Invocation rows left 'running'")
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")
               and e["stateEnteredEventDetails"]["name"] in top_states]
    visits = _top_level_visits(run)
    if len(entered) != visits:
        problems.append(f"{where}: top-level states entered {len(entered)} times ({entered}), not {visits}")
    return problems


def _top_level_visits(run: workload.Run) -> int:
    # seed: the Choice and two Tasks; map: the Map; parallel: the Parallel; retry: the Task, then
    # the Pass its Catch leads to.
    return {"seed": 3, "map": 1, "parallel": 1, "retry": 2}[run.kind]


def test_executions_survive_a_killed_worker_a_redis_restart_and_a_web_restart(cluster, fault_mix, browser):
    client = cluster.client()
    seqs = workload._take_seqs(LOAD)
    kinds = list(workload.KINDS)
    with ThreadPoolExecutor(8) as pool:
        runs = list(pool.map(lambda seq: start_fault_run(client, kinds[seq % len(kinds)], seq), seqs))
    keys = [uuid.UUID(run.id) for run in runs]

    def finished() -> int:
        return cluster.sql("SELECT count(*) FROM editor_execution WHERE id = ANY(%s) AND status <> 'RUNNING'",
                           [keys])[0][0]

    # A worker dies mid-load, as a machine would, and comes back.
    wait_until(lambda: finished() >= LOAD // 10, 120, "a tenth of the load to finish before the worker dies")
    victim = cluster.worker_processes[0].pid

    def leases_held() -> int:
        return cluster.sql("SELECT count(*) FROM editor_execution WHERE status = 'RUNNING' AND lease_owner LIKE %s",
                           [f"%:{victim}:%"])[0][0]
    wait_until(lambda: leases_held() > 0, 60, "worker 0 to hold executions when it dies")
    cluster.kill_worker(0)
    cluster.start_worker(0)
    # Redis goes away (and with it every queued job and group membership), then comes back.
    wait_until(lambda: finished() >= LOAD // 4, 180, "a quarter of the load to finish before Redis stops")
    cluster.stop_redis()
    time.sleep(REDIS_OUTAGE_SECONDS)   # the outage's length (nothing is being waited for)
    cluster.start_redis()

    # The web process dies while a browser and a raw client watch an execution, and comes back.
    watched = client.ok("POST", "/api/state-machines/it-f-watched/executions", {"input": {"n": 0}}, status=201)
    raw = RawWatcher(client, watched["id"])
    raw.start()
    context = browser.new_context()
    try:
        context.add_cookies([{"name": name, "value": value, "url": cluster.base_url}
                             for name, value in client.cookies.items()])
        page = context.new_page()
        page.goto(f"{cluster.base_url}/executions/{watched['id']}/")
        page.wait_for_function("() => window.flowbench.history && window.flowbench.history.events.length >= 3",
                               timeout=60_000)
        wait_until(lambda: len(raw.ids) >= 3, 60, "the raw watcher to get its first events")
        cluster.kill_web()
        cluster.start_web()

        workload.wait_for_end(cluster, [run.id for run in runs] + [watched["id"]], 300, "executions under faults")
        page.wait_for_function("() => window.flowbench.history.events.at(-1).type === 'ExecutionSucceeded'",
                               timeout=60_000)
        shown = [int(text) for text in page.locator("#events tbody tr.ev td:first-child").all_inner_texts()]
        connections = page.evaluate("window.flowbench.connections")
    finally:
        context.close()
    raw.join(60)

    counts = workload.invocation_counts(cluster, [run.id for run in runs])
    with ThreadPoolExecutor(8) as pool:
        found = pool.map(lambda run: fault_run_problems(client, run, counts, fault_mix[run.kind]), runs)
    problems = [problem for batch in found for problem in batch]
    assert not problems, workload.problems_summary(problems, len(runs))

    watched_end = client.ok("GET", f"/api/executions/{watched['id']}")
    assert (watched_end["status"], json.loads(watched_end["output"])) == ("SUCCEEDED", {"n": 15})
    total = len(client.ok("GET", f"/api/executions/{watched['id']}/events")["events"])
    assert shown == list(range(1, total + 1)), f"the page shows {shown}"
    assert connections >= 2, "the page never reconnected, so the web restart was not watched"
    assert raw.error is None, f"the raw watcher failed: {raw.error!r}"
    assert raw.ids == list(range(1, total + 1)), f"the raw watcher was sent {raw.ids}"
    assert raw.reconnects >= 1
