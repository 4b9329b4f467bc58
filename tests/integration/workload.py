"""The mixed workload of the distributed mode, shared by tests/integration and bench/load.py.

Four kinds of execution, each with inputs that differ per execution (a sequence number) and an
expected output computed here, from the definitions and the functions' code, not from a run:

    seed      the seed's `youth-football-training` (created by `manage.py prepare`), 2 Tasks
    map       a Map over 100 items, MaxConcurrency 10, each item doubled by a function: 100 Tasks
    parallel  a Parallel of 3 branches (a Pass; a Task; a Pass then a Task): 2 Tasks
    retry     a Task whose function raises TrainingError, retried twice (1 s apart), then caught

    setup(client)                        creates the functions and machines, publishes them
    start(client, kind, n)               starts n executions of one kind: [Run]
    start_mix(client, n, threads=8)      starts n executions, the kinds in turn, from threads
    check_runs(cluster, client, runs)    what is wrong with their ends and histories: [problem]
    wait_for_end(cluster, ids, timeout)  waits until none of the executions is RUNNING

and, for machines a single test makes: new_machine, published_machine, run_to_end.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.integration.cluster import WaitTimeout, wait_until

ROOT = Path(__file__).resolve().parents[2]
ROLE = "flowbench-sample-role"   # created by prepare; its policy allows every function
SEED_MACHINE = "youth-football-training"
ITEMS = 100
TASK_SCHEDULED = ("LambdaFunctionScheduled", "TaskScheduled")
TERMINAL = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}

DOUBLE = "it-double"
FLAKY = "it-flaky"
FUNCTIONS = {
    DOUBLE: "def lambda_handler(event, context):\n"
            "    return event * 2\n",
    FLAKY: "class TrainingError(Exception):\n"
           "    pass\n\n\n"
           "def lambda_handler(event, context):\n"
           "    raise TrainingError(f\"the pitch is flooded (run {event['seq']})\")\n",
}
# Generous: on a loaded 2-core machine a cold sandbox can take a while; time is not under test.
FUNCTION_TIMEOUT = 30


def _definitions(arn: str) -> dict[str, dict]:
    double = arn + DOUBLE
    return {
        "it-map": {
            "Comment": "Double 100 items, 10 at a time",
            "StartAt": "Double each",
            "States": {"Double each": {
                "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 10,
                "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Double",
                                  "States": {"Double": {"Type": "Task", "Resource": double, "End": True}}},
                "End": True}},
        },
        "it-parallel": {
            "Comment": "Three branches: a Pass, a Task, a Pass then a Task",
            "StartAt": "Branches",
            "States": {"Branches": {"Type": "Parallel", "End": True, "Branches": [
                {"StartAt": "Label", "States": {
                    "Label": {"Type": "Pass", "Parameters": {"label": "pass", "n.$": "$.n"}, "End": True}}},
                {"StartAt": "Double n", "States": {
                    "Double n": {"Type": "Task", "Resource": double, "InputPath": "$.n", "End": True}}},
                {"StartAt": "Add two", "States": {
                    "Add two": {"Type": "Pass", "Parameters": {"value.$": "States.MathAdd($.n, 2)"},
                                "OutputPath": "$.value", "Next": "Double it"},
                    "Double it": {"Type": "Task", "Resource": double, "End": True}}},
            ]}},
        },
        "it-retry-catch": {
            "Comment": "Retry TrainingError twice, then catch it",
            "StartAt": "Train",
            "States": {
                "Train": {"Type": "Task", "Resource": arn + FLAKY,
                          "Retry": [{"ErrorEquals": ["TrainingError"], "IntervalSeconds": 1, "MaxAttempts": 2,
                                     "BackoffRate": 1}],
                          "Catch": [{"ErrorEquals": ["TrainingError"], "ResultPath": "$.caught",
                                     "Next": "Recovered"}],
                          "Next": "Trained"},
                "Recovered": {"Type": "Pass", "End": True, "Parameters": {
                    "seq.$": "$.seq", "error.$": "$.caught.Error", "recovered": True}},
                "Trained": {"Type": "Succeed"},
            },
        },
    }


# -- what each kind is given and must give back ---------------------------------------------

def _seed_drills() -> dict:
    """Returns the DRILLS table of the seed's training function (editor/samples/training)."""
    path = ROOT / "editor" / "samples" / "training" / "training.py"
    spec = importlib.util.spec_from_file_location("flowbench_seed_training", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DRILLS


# The seed machine's routes: the Choice on $.TraningType, then the two Tasks' drills in order.
SEED_ROUTES = {"공격수": ("attack", "ball-contest"), "미드필더": ("passing", "free-kick"),
               "수비수": ("defence", "ball-contest")}
POSITIONS = tuple(SEED_ROUTES)


def seed_case(seq: int) -> tuple[dict, dict, int]:
    position = POSITIONS[seq % len(POSITIONS)]
    player = {"TraningType": position, "player": f"선수-{seq}"}
    drills = _seed_drills()
    done = [{"drill": drills[d]["name"], "minutes": drills[d]["minutes"], "focus": drills[d]["focus"]}
            for d in SEED_ROUTES[position]]
    expected = {**player, "trainings": done, "totalMinutes": sum(d["minutes"] for d in done),
                "lastDrill": done[-1]["drill"]}
    return player, expected, 2


def map_case(seq: int) -> tuple[dict, list, int]:
    items = [seq + j for j in range(ITEMS)]
    return {"items": items}, [2 * item for item in items], ITEMS


def parallel_case(seq: int) -> tuple[dict, list, int]:
    return {"n": seq}, [{"label": "pass", "n": seq}, 2 * seq, 2 * (seq + 2)], 2


def retry_case(seq: int) -> tuple[dict, dict, int]:
    # The first call and two retries, all raising; the Catch hands the error to Recovered.
    return {"seq": seq}, {"seq": seq, "error": "TrainingError", "recovered": True}, 3


@dataclass(frozen=True)
class Kind:
    name: str
    machine: str
    case: object   # seq -> (input, expected output, function invocations)


KINDS = {
    "seed": Kind("seed", SEED_MACHINE, seed_case),
    "map": Kind("map", "it-map", map_case),
    "parallel": Kind("parallel", "it-parallel", parallel_case),
    "retry": Kind("retry", "it-retry-catch", retry_case),
}


@dataclass(frozen=True)
class Run:
    """One started execution and what it must end with."""
    id: str
    kind: str
    seq: int
    input: object
    expected: object
    invocations: int   # the function calls it must make (Task attempts)


# -- creating it ------------------------------------------------------------------------------

def function_arn_prefix(client) -> str:
    """Returns "arn:aws:lambda:<region>:<account>:function:" of this install."""
    policy = client.ok("GET", "/api/roles/default-policy")["policy"]
    return policy["Statement"][0]["Resource"].removesuffix("*")


def setup(client) -> None:
    """Creates, deploys and publishes the workload's functions and machines (again: updates them)."""
    for name, code in FUNCTIONS.items():
        created = client.post("/api/functions", {"name": name, "runtime": "python"})
        if created.status_code not in (201, 409):
            raise AssertionError(f"creating function {name}: HTTP {created.status_code} {created.text}")
        client.ok("PUT", f"/api/functions/{name}/code", {"files": {"lambda_function.py": code}})
        client.ok("PUT", f"/api/functions/{name}/configuration", {"timeout": FUNCTION_TIMEOUT})
        client.ok("POST", f"/api/functions/{name}/deploy")
    for name, definition in _definitions(function_arn_prefix(client)).items():
        text = json.dumps(definition, indent=2)
        created = client.post("/api/state-machines", {"name": name, "type": "STANDARD", "role": ROLE,
                                                      "definition": text})
        if created.status_code == 409:
            client.ok("PUT", f"/api/state-machines/{name}", {"definition": text, "role": ROLE})
        elif created.status_code != 201:
            raise AssertionError(f"creating state machine {name}: HTTP {created.status_code} {created.text}")
        client.ok("POST", f"/api/state-machines/{name}/versions")
    client.ok("GET", f"/api/state-machines/{SEED_MACHINE}")


_seq_lock = threading.Lock()
_next_seq = [0]


def _take_seqs(n: int) -> range:
    with _seq_lock:
        first = _next_seq[0]
        _next_seq[0] += n
    return range(first, first + n)


def start_one(client, kind: str, seq: int) -> Run:
    given, expected, invocations = KINDS[kind].case(seq)
    started = client.ok("POST", f"/api/state-machines/{KINDS[kind].machine}/executions",
                        {"input": given, "name": f"{kind}-{seq}-{uuid.uuid4().hex[:8]}"}, status=201)
    return Run(started["id"], kind, seq, given, expected, invocations)


def start(client, kind: str, n: int, threads: int = 1) -> list[Run]:
    """Starts n executions of `kind` (seq numbers unique in this process)."""
    seqs = _take_seqs(n)
    if threads <= 1:
        return [start_one(client, kind, seq) for seq in seqs]
    with ThreadPoolExecutor(threads, thread_name_prefix="start") as pool:
        return list(pool.map(lambda seq: start_one(client, kind, seq), seqs))


def start_mix(client, n: int, threads: int = 8, kinds=tuple(KINDS)) -> list[Run]:
    """Starts n executions, the kinds taken in turn, through the API from `threads` threads."""
    seqs = _take_seqs(n)
    with ThreadPoolExecutor(threads, thread_name_prefix="start") as pool:
        return list(pool.map(lambda seq: start_one(client, kinds[seq % len(kinds)], seq), seqs))


# -- machines made for one test -------------------------------------------------------------

def new_machine(client, definition, name: str | None = None) -> str:
    """Creates a draft machine (drafts may be invalid) and returns its name."""
    name = name or f"it-{uuid.uuid4().hex[:10]}"
    text = definition if isinstance(definition, str) else json.dumps(definition)
    client.ok("POST", "/api/state-machines", {"name": name, "type": "STANDARD", "role": ROLE,
                                              "definition": text}, status=201)
    return name


def published_machine(client, definition) -> str:
    name = new_machine(client, definition)
    client.ok("POST", f"/api/state-machines/{name}/versions", status=201)
    return name


def run_to_end(cluster, client, machine: str, given, timeout: float = 120) -> dict:
    execution = client.ok("POST", f"/api/state-machines/{machine}/executions", {"input": given}, status=201)
    wait_for_end(cluster, [execution["id"]], timeout, f"the execution of {machine}")
    return client.ok("GET", f"/api/executions/{execution['id']}")


# -- checking it ------------------------------------------------------------------------------

def history_problems(events: list[dict], terminal: str = "ExecutionSucceeded") -> list[str]:
    """Returns what is wrong with a finished history: ids 1..N contiguous and unique, one start,
    one end (`terminal`, last), every previousEventId an earlier event."""
    problems = []
    ids = [e["id"] for e in events]
    if ids != list(range(1, len(ids) + 1)):
        duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
        missing = sorted(set(range(1, max(ids, default=0) + 1)) - set(ids))
        problems.append(f"event ids are not 1..{len(ids)} in order (duplicates {duplicates[:5]}, "
                        f"missing {missing[:5]}, first {ids[:8]})")
    if not events or events[0]["type"] != "ExecutionStarted" or events[0]["previousEventId"] != 0:
        problems.append(f"the history does not open with ExecutionStarted (previous 0): {events[:1]}")
    if not events or events[-1]["type"] != terminal:
        problems.append(f"the history ends with {events[-1]['type'] if events else 'nothing'}, not {terminal}")
    types = [e["type"] for e in events]
    if types.count("ExecutionStarted") != 1 or sum(t in TERMINAL for t in types) != 1:
        problems.append(f"{types.count('ExecutionStarted')} ExecutionStarted and "
                        f"{sum(t in TERMINAL for t in types)} terminal events, not one each")
    bad = [e for e in events[1:] if not 1 <= e["previousEventId"] < e["id"]]
    if bad:
        problems.append(f"{len(bad)} events whose previousEventId is not an earlier event, e.g. {bad[0]}")
    return problems


def task_attempts(events: list[dict]) -> int:
    return sum(e["type"] in TASK_SCHEDULED for e in events)


def invocation_counts(cluster, ids) -> dict[str, tuple[int, int]]:
    """Returns {execution id: (Invocation rows, rows still running)} from the database."""
    rows = cluster.sql("SELECT execution_id, count(*), count(*) FILTER (WHERE status = 'running') "
                       "FROM editor_invocation WHERE execution_id = ANY(%s) GROUP BY execution_id",
                       [[uuid.UUID(i) for i in ids]])
    return {str(execution): (count, running) for execution, count, running in rows}


def run_problems(client, run: Run, counts: dict) -> list[str]:
    """Returns what is wrong with one finished run (status, output, history, invocations)."""
    where = f"{run.kind} #{run.seq} ({run.id})"
    execution = client.ok("GET", f"/api/executions/{run.id}")
    if execution["status"] != "SUCCEEDED":
        return [f"{where}: {execution['status']} with {execution['error']}: {(execution['cause'] or '')[:300]}"]
    problems = []
    output = json.loads(execution["output"])
    if output != run.expected:
        problems.append(f"{where}: output {json.dumps(output, ensure_ascii=False)[:300]} != expected "
                        f"{json.dumps(run.expected, ensure_ascii=False)[:300]}")
    events = client.ok("GET", f"/api/executions/{run.id}/events")["events"]
    problems += [f"{where}: {p}" for p in history_problems(events)]
    attempts = task_attempts(events)
    recorded, running = counts.get(run.id, (0, 0))
    if attempts != run.invocations:
        problems.append(f"{where}: {attempts} Task attempts in the history, expected {run.invocations}")
    if recorded != attempts:
        problems.append(f"{where}: {recorded} Invocation rows for {attempts} Task attempts in the history")
    if running:
        problems.append(f"{where}: {running} Invocation rows still 'running' after the execution ended")
    return problems


def check_runs(cluster, client, runs: list[Run], threads: int = 8) -> list[str]:
    """Returns every problem of the finished runs (empty when all ended exactly as expected)."""
    counts = invocation_counts(cluster, [r.id for r in runs])
    with ThreadPoolExecutor(threads, thread_name_prefix="check") as pool:
        found = pool.map(lambda run: run_problems(client, run, counts), runs)
    return [problem for problems in found for problem in problems]


def problems_summary(problems: list[str], total: int) -> str:
    shown = "\n".join(problems[:20])
    more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
    return f"{len(problems)} problems in {total} executions:\n{shown}{more}"


def wait_for_end(cluster, ids, timeout: float, what: str = "executions") -> None:
    """Waits until none of the executions is RUNNING (polling the database), else fails saying
    how many still run."""
    keys = [uuid.UUID(str(i)) for i in ids]
    left = {"n": len(keys)}

    def ended():
        cluster.check_alive()
        left["n"] = cluster.sql("SELECT count(*) FROM editor_execution WHERE id = ANY(%s) AND status = 'RUNNING'",
                                [keys])[0][0]
        return left["n"] == 0

    try:
        wait_until(ended, timeout, f"{len(keys)} {what} to end", interval=0.5)
    except WaitTimeout as exc:
        raise WaitTimeout(f"{exc} ({left['n']} still RUNNING)") from None
