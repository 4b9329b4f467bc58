"""The ASL engine benchmark: state transitions per second of Flowbench's engine beside a peer engine.

    .venv/bin/python -m bench.asl [--quick] [--no-peer] [--only W1 ...] [--profile W1]
                                  [--in-flight N]

Runs the shared workloads (`shared/bench/workloads/w1..w5.json`, beside the repository) in
Flowbench's `runtime.asl` and, in the same invocation, in the npm package aws-local-stepfunctions
(the peer), installed into a temporary folder from `bench/peer/package.json` and driven by
`bench/peer/run.mjs` (one node process for the whole run). For each workload and engine: the
state machine is built once; every expected output is checked (main input and `alt_cases`,
untimed; the first check is the warm-up); then executions run in one process until the time
budget has passed (at least `min_runs`): one after the other, except in the `W5 task (worker)`
row, which keeps N executions in flight on both engines (the table's "in flight" column;
`--in-flight N`, default 4). Transitions per second = transitions x executions / seconds. The budget is split into rounds that alternate between the two engines, and
each engine's best round is reported, so that load from other processes on the machine skews
both engines alike.

Both engines record history while timed: Flowbench keeps every event in `result.history`, and the
peer keeps every event in its own in-memory event log.

W5 calls a task function, and the two engines cannot call it the same way, so it has three rows:

- `W5 task (worker)`: Flowbench invokes `handlers/train.py` through `runtime.functions` (a real
  warm worker process in the sandbox, one round trip per Task state); the peer overrides each
  Task state with its `taskResourceLocalHandlers` option, calling `train.mjs`'s handler
  in-process. N executions are in flight on each side, as a service runs its executions: on
  Flowbench's side N threads each run one execution after the other (while one waits for its
  function's answer, another's engine runs, and the runner gives each concurrent call a warm
  worker of its own, on the other core); on the peer's side N chains of executions run at
  once in its one event loop (`Promise.all`). An untimed N-wide batch comes first on both
  sides (so Flowbench's N warm workers are started before timing).
- `W5 task in-process`: Flowbench calls `train.py`'s handler in-process (`InProcessInvoker`);
  the peer as above. This is the like-for-like row.
- `W5 no task`: both run `definition_no_task` (each Task replaced by a Pass with the same result).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKLOADS_DIR = REPO_ROOT.parent / "shared" / "bench" / "workloads"
PEER_DIR = Path(__file__).resolve().parent / "peer"
TASK_FUNCTION_NAME = "youth-training"

BUDGET_SECONDS, MIN_RUNS, ROUNDS = 3.0, 1, 3
IN_FLIGHT = 4   # executions at once in the W5 worker row (see the module docstring)
QUICK_BUDGET_SECONDS, QUICK_MIN_RUNS, QUICK_ROUNDS = 0.4, 1, 2


class BenchmarkError(Exception):
    """A workload could not be measured: missing files, a wrong output, an engine failure."""


@dataclass(frozen=True)
class Measurement:
    """Executions timed for one workload on one engine, or why there is no figure."""

    executions: int = 0
    seconds: float = 0.0
    transitions: int = 0
    error: str | None = None

    @property
    def rate(self) -> float | None:
        """Returns transitions per second, or None without a figure."""
        if self.error or not self.seconds:
            return None
        return self.transitions * self.executions / self.seconds


NOT_RUN = Measurement(error="not run (--no-peer)")


@dataclass(frozen=True)
class Row:
    """One line of the table: a workload variant, its Flowbench and peer measurements."""

    label: str
    transitions: int
    flowbench: Measurement
    peer: Measurement
    in_flight: int = 1


@dataclass(frozen=True)
class Variant:
    """A workload as one row runs it: which definition, how Flowbench calls tasks, the peer job."""

    key: str
    label: str
    workload: dict
    definition: dict
    invoker: str | None = None          # None, "worker" or "in-process"
    peer_key: str | None = None         # the peer measurement shown on this row
    peer_local_task_handler: bool = False
    in_flight: int = 1                  # executions kept running at once, on both engines


# ---------------------------------------------------------------------------------------------
# Workloads

def load_workloads(directory: Path = WORKLOADS_DIR) -> dict[str, dict]:
    """Returns {"W1": workload, ...} from the shared folder; raises BenchmarkError if it is absent."""
    paths = sorted(directory.glob("w*.json"))
    if not paths:
        raise BenchmarkError(f"no workloads in {directory}: the shared folder must sit beside "
                             f"the repository")
    return {path.stem.upper(): json.loads(path.read_text(encoding="utf-8")) for path in paths}


def variants(workloads: dict[str, dict], in_flight: int = 1) -> list[Variant]:
    """Returns the table's rows in order: W1-W4 as they are, and W5's three ways of calling tasks
    (the worker row with `in_flight` executions at once)."""
    rows = []
    for name, workload in workloads.items():
        if "definition_no_task" not in workload:
            rows.append(Variant(name, name, workload, workload["definition"], peer_key=name))
            continue
        rows += [
            Variant(name, f"{name} task (worker)", workload, workload["definition"], "worker",
                    peer_key=name, peer_local_task_handler=True, in_flight=in_flight),
            Variant(f"{name}-inprocess", f"{name} task in-process", workload,
                    workload["definition"], "in-process", peer_key=name,
                    peer_local_task_handler=True),
            Variant(f"{name}-no-task", f"{name} no task", workload,
                    workload["definition_no_task"], peer_key=f"{name}-no-task"),
        ]
    return rows


def checks_of(workload: dict) -> list[tuple[str, Any, Any]]:
    """Returns (label, input, expected output) for the main input and every alt case."""
    checks = [("the main input", workload["input"], workload["expected_output"])]
    checks += [(f"alt case {index}", case["input"], case["expected_output"])
               for index, case in enumerate(workload.get("alt_cases") or (), start=1)]
    return checks


def task_handler_path(workload: dict, suffix: str) -> Path:
    """Returns the path of the workload's task handler ending in `suffix` (".py" or ".mjs")."""
    for part in workload["task_handler"].split("|"):
        if part.strip().endswith(suffix):
            return WORKLOADS_DIR / part.strip()
    raise BenchmarkError(f"{workload['name']} names no {suffix} task handler")


# ---------------------------------------------------------------------------------------------
# Flowbench

class InProcessInvoker:
    """Calls one Python handler in this process for every function name, as the peer's local
    task handler override does (unlike the test FakeInvoker, it keeps no record of calls)."""

    def __init__(self, handler: Callable[[Any, Any], Any]):
        self.handler = handler

    def invoke_function(self, name, payload, *, qualifier=None, timeout=None, arn="", state=""):
        """Returns the handler's response to `payload` as the function's outcome."""
        from runtime.asl.invoker import FunctionOutcome

        return FunctionOutcome(payload=self.handler(payload, None))


class TaskInvokers:
    """Builds the invokers a W5 row needs; owns the FunctionRunner of the worker row."""

    def __init__(self):
        self._runner_context = None
        self._runner = None

    def invoker(self, kind: str | None, workload: dict):
        """Returns the invoker for `kind` ("worker", "in-process" or None)."""
        if kind is None:
            return None
        code = task_handler_path(workload, ".py").read_text(encoding="utf-8")
        if kind == "in-process":
            namespace: dict = {}
            exec(compile(code, "train.py", "exec"), namespace)
            return InProcessInvoker(namespace["handler"])
        from runtime.functions import FunctionRunner, FunctionSpec
        from runtime.tasks import LambdaInvoker

        if self._runner is None:
            self._runner_context = FunctionRunner()
            self._runner = self._runner_context.__enter__()
        spec = FunctionSpec(name=TASK_FUNCTION_NAME, runtime="python", handler="train.handler",
                            files={"train.py": code}, timeout=10, memory=128)
        return LambdaInvoker(
            lambda name, qualifier: spec if _function_name(name) == TASK_FUNCTION_NAME else None,
            self._runner)

    def close(self) -> None:
        if self._runner_context is not None:
            self._runner_context.__exit__(None, None, None)
            self._runner_context = self._runner = None


def _function_name(reference: str) -> str:
    if ":function:" in reference:
        reference = reference.split(":function:", 1)[1]
    return reference.split(":", 1)[0]


def check_flowbench(run: Callable[[Any], Any], workload: dict) -> None:
    """Runs every check of the workload; raises BenchmarkError on the first wrong result."""
    for label, given, expected in checks_of(workload):
        result = run(given)
        if result.status != "SUCCEEDED":
            raise BenchmarkError(f"{label}: {result.status} {result.error}: {result.cause}")
        if result.output != expected:
            raise BenchmarkError(f"{label}: output differs from expected_output: "
                                 f"{json.dumps(result.output, ensure_ascii=False)[:300]}")
        if not result.history:
            raise BenchmarkError(f"{label}: the run recorded no history")


def prepare_flowbench(variant: Variant, invokers: TaskInvokers) -> Callable[[Any], Any]:
    """Builds the variant's state machine once, checks its outputs; returns `run(input)`."""
    from runtime.asl import StateMachine

    machine = StateMachine(variant.definition)
    invoker = invokers.invoker(variant.invoker, variant.workload)

    def run(given):
        return machine.run(given, invoker=invoker)

    check_flowbench(run, variant.workload)
    if variant.in_flight > 1:   # starts the warm workers the timed rounds will use
        run_in_flight(run, variant.workload["input"], variant.in_flight, 0.0, 3)
    return run


def time_flowbench(run: Callable[[Any], Any], variant: Variant, budget: float, min_runs: int
                   ) -> Measurement:
    """Returns executions of the variant's input timed one after the other for `budget` s."""
    given = variant.workload["input"]
    if variant.in_flight > 1:
        executions, elapsed = run_in_flight(run, given, variant.in_flight, budget, min_runs)
        return Measurement(executions, elapsed, variant.workload["transitions"])
    executions, started, elapsed = 0, time.perf_counter(), 0.0
    while executions < min_runs or elapsed < budget:
        run(given)
        executions += 1
        elapsed = time.perf_counter() - started
    return Measurement(executions, elapsed, variant.workload["transitions"])


def run_in_flight(run: Callable[[Any], Any], given: Any, in_flight: int, budget: float,
                  min_runs: int) -> tuple[int, float]:
    """Returns (executions, seconds) of `in_flight` threads each running executions one after
    the other until `budget` s have passed (each at least `min_runs`), timed until the last
    one ends; raises BenchmarkError if one fails."""
    counts, failures = [0] * in_flight, []
    start = threading.Barrier(in_flight + 1)

    def chain(index: int) -> None:
        start.wait()
        try:
            while counts[index] < min_runs or time.perf_counter() - started < budget:
                result = run(given)
                if result.status != "SUCCEEDED":
                    raise BenchmarkError(f"{result.status} {result.error}: {result.cause}")
                counts[index] += 1
        except Exception as failure:   # reported once every thread has ended
            failures.append(failure)

    threads = [threading.Thread(target=chain, args=(i,), name=f"bench-execution-{i}")
               for i in range(in_flight)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise BenchmarkError(f"an execution in flight failed: {failures[0]}")
    return sum(counts), elapsed


# ---------------------------------------------------------------------------------------------
# The peer

def install_peer(folder: Path) -> Path:
    """Installs the peer's npm package into `folder`; returns the install prefix."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise BenchmarkError("node and npm are needed for the peer engine")
    shutil.copy(PEER_DIR / "package.json", folder / "package.json")
    completed = subprocess.run(
        ["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error"],
        capture_output=True, text=True, timeout=600)
    if completed.returncode != 0:
        raise BenchmarkError(f"npm install failed: {completed.stderr.strip()[-500:]}")
    return folder


class PeerEngine:
    """The peer in a node process of its own (`bench/peer/run.mjs`), installed in a temporary
    folder; commands go as JSON lines to its stdin, answers come back on its stdout."""

    def __init__(self, task_handler: Path | None):
        self._folder = tempfile.TemporaryDirectory(prefix="flowbench-peer-")
        try:
            prefix = install_peer(Path(self._folder.name))
            self._process = subprocess.Popen(
                ["node", str(PEER_DIR / "run.mjs"), str(prefix), str(task_handler or "")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                encoding="utf-8")
        except BaseException:
            self._folder.cleanup()
            raise

    def _ask(self, command: dict) -> dict:
        self._process.stdin.write(json.dumps(command, ensure_ascii=False) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise BenchmarkError(f"the peer stopped: {self._process.stderr.read()[-500:]}")
        answer = json.loads(line)
        if answer.get("error"):
            raise BenchmarkError(answer["error"])
        return answer

    def prepare(self, key: str, variant: Variant) -> None:
        """Builds and checks the workload in the peer; raises BenchmarkError if it is wrong."""
        workload = variant.workload
        self._ask({"op": "prepare", "key": key, "definition": variant.definition,
                   "input": workload["input"], "expected_output": workload["expected_output"],
                   "alt_cases": workload.get("alt_cases") or [],
                   "transitions": workload["transitions"],
                   "local_task_handler": variant.peer_local_task_handler})

    def time(self, key: str, budget: float, min_runs: int, in_flight: int = 1) -> Measurement:
        """Returns the peer's executions of a prepared workload timed for `budget` s, with
        `in_flight` chains of executions running at once."""
        answer = self._ask({"op": "time", "key": key, "budget": budget, "min_runs": min_runs,
                            "in_flight": in_flight})
        return Measurement(answer["executions"], answer["seconds"], answer["transitions"])

    def close(self) -> None:
        try:
            self._process.stdin.close()
            self._process.wait(timeout=30)
        finally:
            if self._process.poll() is None:
                self._process.kill()
            self._folder.cleanup()


# ---------------------------------------------------------------------------------------------
# Measuring

def best(measurements: list[Measurement]) -> Measurement:
    """Returns the round with the highest rate (or the first error when no round has a figure)."""
    figures = [m for m in measurements if m.rate is not None]
    if not figures:
        return measurements[0] if measurements else Measurement(error="not measured")
    return max(figures, key=lambda m: m.rate)


def _failed(failure: BaseException) -> Measurement:
    return Measurement(error=f"{type(failure).__name__}: {failure}"[:300])


def measure(rows: list[Variant], peer: PeerEngine | None, peer_error: str | None,
            budget: float, min_runs: int, rounds: int) -> list[Row]:
    """Returns the table's rows: each variant prepared on both engines, then timed in `rounds`
    rounds alternating Flowbench and the peer, each engine's best round kept."""
    invokers = TaskInvokers()
    prepared_peer: dict[str, str | None] = {}
    results = []
    try:
        for variant in rows:
            try:
                run = prepare_flowbench(variant, invokers)
                ours_error = None
            except Exception as failure:  # shown in the table; the other rows still run
                run, ours_error = None, _failed(failure)
            key = variant.peer_key
            if peer is not None and key not in prepared_peer:
                try:
                    peer.prepare(key, variant)
                    prepared_peer[key] = None
                except Exception as failure:
                    prepared_peer[key] = str(_failed(failure).error)
            ours, theirs = [], []
            for _ in range(rounds):
                if run is not None:
                    ours.append(time_flowbench(run, variant, budget / rounds, min_runs))
                if peer is not None and prepared_peer.get(key) is None:
                    theirs.append(peer.time(key, budget / rounds, min_runs, variant.in_flight))
            if theirs:
                peer_figure = best(theirs)
            elif peer is None and peer_error is None:
                peer_figure = NOT_RUN
            else:
                peer_figure = Measurement(error=prepared_peer.get(key) or peer_error)
            results.append(Row(variant.label, variant.workload["transitions"],
                               ours_error or best(ours), peer_figure, variant.in_flight))
    finally:
        invokers.close()
    return results


# ---------------------------------------------------------------------------------------------
# Output

def _rate_text(measurement: Measurement) -> str:
    rate = measurement.rate
    return f"{rate:,.0f}" if rate is not None else "n/a"


def table(rows: list[Row]) -> str:
    """Returns the results table: workload | transitions | in flight | Flowbench tr/s |
    peer tr/s | ratio."""
    header = ("workload", "transitions", "in flight", "Flowbench tr/s", "peer tr/s", "ratio")
    lines = []
    for row in rows:
        ours, theirs = row.flowbench.rate, row.peer.rate
        ratio = f"{ours / theirs:.2f}x" if ours and theirs else "n/a"
        lines.append((row.label, str(row.transitions), str(row.in_flight),
                      _rate_text(row.flowbench), _rate_text(row.peer), ratio))
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    render = lambda cells: " | ".join(  # noqa: E731 - a local formatter
        cell.ljust(width) if index == 0 else cell.rjust(width)
        for index, (cell, width) in enumerate(zip(cells, widths)))
    out = [render(header), "-+-".join("-" * width for width in widths)]
    out += [render(line) for line in lines]
    notes = [f"  {row.label} {side}: {measurement.error}" for row in rows
             for side, measurement in (("Flowbench", row.flowbench), ("peer", row.peer))
             if measurement.error and measurement is not NOT_RUN]
    return "\n".join(out + (["", "no figure:"] + notes if notes else []))


def profile(variant: Variant, runs: int, sort: str) -> None:
    """Prints the top 25 functions of cProfile over `runs` Flowbench executions of `variant`."""
    from runtime.asl import StateMachine

    invokers = TaskInvokers()
    try:
        machine = StateMachine(variant.definition)
        invoker = invokers.invoker(variant.invoker, variant.workload)
        machine.run(variant.workload["input"], invoker=invoker)  # warm-up, not profiled
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(runs):
            machine.run(variant.workload["input"], invoker=invoker)
        profiler.disable()
    finally:
        invokers.close()
    print(f"cProfile of {runs} execution(s) of {variant.label}, by {sort}:")
    pstats.Stats(profiler).strip_dirs().sort_stats(sort).print_stats(25)


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark from the command line; returns 0 when every Flowbench row has a figure."""
    parser = argparse.ArgumentParser(prog="python -m bench.asl",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"time each row for {QUICK_BUDGET_SECONDS} s instead of "
                             f"{BUDGET_SECONDS} s")
    parser.add_argument("--no-peer", action="store_true", help="measure Flowbench only")
    parser.add_argument("--only", nargs="+", metavar="KEY", type=str.upper,
                        help="rows to run, by key: W1 ... W5, W5-INPROCESS, W5-NO-TASK")
    parser.add_argument("--profile", metavar="KEY", type=str.upper,
                        help="print cProfile's top 25 for one row instead of the table")
    parser.add_argument("--profile-runs", type=int, default=5, metavar="N")
    parser.add_argument("--in-flight", type=int, default=IN_FLIGHT, metavar="N",
                        help=f"executions at once in the W5 worker row, on both engines "
                             f"(default {IN_FLIGHT})")
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative", "ncalls"),
                        help="order of the --profile listing (default tottime)")
    args, _ = parser.parse_known_args(argv)   # `python -m bench` passes every module the same options

    if args.in_flight < 1:
        parser.error("--in-flight is at least 1")
    rows = variants(load_workloads(), args.in_flight)
    if args.profile:
        chosen = [v for v in rows if v.key.upper() == args.profile]
        if not chosen:
            parser.error(f"no row {args.profile}; rows: {', '.join(v.key for v in rows)}")
        profile(chosen[0], args.profile_runs, args.sort)
        return 0
    if args.only:
        rows = [v for v in rows if v.key.upper() in args.only]
    budget, min_runs, rounds = ((QUICK_BUDGET_SECONDS, QUICK_MIN_RUNS, QUICK_ROUNDS)
                                if args.quick else (BUDGET_SECONDS, MIN_RUNS, ROUNDS))

    peer, peer_error = None, None
    if not args.no_peer:
        try:
            handlers = [task_handler_path(v.workload, ".mjs") for v in rows
                        if v.peer_local_task_handler]
            peer = PeerEngine(handlers[0] if handlers else None)
        except (BenchmarkError, OSError, subprocess.SubprocessError) as failure:
            peer_error = f"peer unavailable: {failure}"[:300]
    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    try:
        results = measure(rows, peer, peer_error, budget, min_runs, rounds)
    finally:
        if peer is not None:
            peer.close()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"ASL engine benchmark: {budget} s per row and engine in {rounds} alternating rounds "
          f"(best round shown, each at least {min_runs} executions), after an untimed check and "
          f"warm-up; history recorded on both engines; \"in flight\": executions run at once on "
          f"each engine; load average {load_at_start:.1f} at the start, {load:.1f} at the end, "
          f"on {os.cpu_count()} CPUs")
    print(table(results))
    return 0 if all(row.flowbench.error is None for row in results) else 1


if __name__ == "__main__":
    sys.exit(main())
