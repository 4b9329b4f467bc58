"""The ASL engine benchmark: state transitions per second of Flowbench's engine beside a peer engine.

    .venv/bin/python -m bench.asl [--quick] [--no-peer] [--only W1 ...] [--profile W1]

Runs the shared workloads (`shared/bench/workloads/w1..w5.json`, beside the repository) in
Flowbench's `runtime.asl` and, in the same invocation, in the npm package aws-local-stepfunctions
(the peer), installed into a temporary folder from `bench/peer/package.json` and driven by
`bench/peer/run.mjs`. For each workload and engine: the state machine is built once; every
expected output is checked (main input and `alt_cases`, untimed; the first check is the warm-up);
then executions run one after the other in one process until the time budget has passed (at least
`min_runs`). Transitions per second = transitions x executions / seconds.

Both engines record history while timed: Flowbench keeps every event in `result.history`, and the
peer keeps every event in its own in-memory event log.

W5 calls a task function, and the two engines cannot call it the same way, so it has three rows:

- `W5 task`: Flowbench invokes `handlers/train.py` through `runtime.functions` (a real warm
  worker process, one round trip per Task state); the peer overrides each Task state with its
  `taskResourceLocalHandlers` option, calling `train.mjs`'s handler in-process.
- `W5 task in-process`: Flowbench calls `train.py`'s handler in-process through `FakeInvoker`;
  the peer as above. This is the like-for-like row.
- `W5 no task`: both run `definition_no_task` (each Task replaced by a Pass with the same result).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import json
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKLOADS_DIR = REPO_ROOT.parent / "shared" / "bench" / "workloads"
PEER_DIR = Path(__file__).resolve().parent / "peer"
TASK_FUNCTION_NAME = "youth-training"

BUDGET_SECONDS, MIN_RUNS = 2.0, 3
QUICK_BUDGET_SECONDS, QUICK_MIN_RUNS = 0.3, 1


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


@dataclass(frozen=True)
class Row:
    """One line of the table: a workload variant, its Flowbench and peer measurements."""

    label: str
    transitions: int
    flowbench: Measurement
    peer: Measurement


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


# ---------------------------------------------------------------------------------------------
# Workloads

def load_workloads(directory: Path = WORKLOADS_DIR) -> dict[str, dict]:
    """Returns {"W1": workload, ...} from the shared folder; raises BenchmarkError if it is absent."""
    paths = sorted(directory.glob("w*.json"))
    if not paths:
        raise BenchmarkError(f"no workloads in {directory}: the shared folder must sit beside "
                             f"the repository")
    return {path.stem.upper(): json.loads(path.read_text(encoding="utf-8")) for path in paths}


def variants(workloads: dict[str, dict]) -> list[Variant]:
    """Returns the table's rows in order: W1-W4 as they are, and W5's three ways of calling tasks."""
    rows = []
    for name, workload in workloads.items():
        if "definition_no_task" not in workload:
            rows.append(Variant(name, name, workload, workload["definition"], peer_key=name))
            continue
        rows += [
            Variant(name, f"{name} task (worker)", workload, workload["definition"], "worker",
                    peer_key=name, peer_local_task_handler=True),
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
            from runtime.asl.invoker import FakeInvoker

            namespace: dict = {}
            exec(compile(code, "train.py", "exec"), namespace)
            return FakeInvoker({TASK_FUNCTION_NAME: namespace["handler"]})
        from runtime.functions import FunctionRunner, FunctionSpec
        from runtime.tasks import LambdaInvoker

        if self._runner is None:
            self._runner_context = FunctionRunner()
            self._runner = self._runner_context.__enter__()
        spec = FunctionSpec(name=TASK_FUNCTION_NAME, runtime="python", handler="train.handler",
                            files={"train.py": code}, timeout=10, memory=128)
        return LambdaInvoker(
            lambda name: spec if _function_name(name) == TASK_FUNCTION_NAME else None,
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


def measure_flowbench(variant: Variant, invokers: TaskInvokers, budget: float, min_runs: int
                      ) -> Measurement:
    """Returns the timed executions of one variant in Flowbench's engine (or why it failed)."""
    try:
        from runtime.asl import StateMachine

        machine = StateMachine(variant.definition)
        invoker = invokers.invoker(variant.invoker, variant.workload)

        def run(given):
            return machine.run(given, invoker=invoker)

        check_flowbench(run, variant.workload)
        given = variant.workload["input"]
        executions, started, elapsed = 0, time.perf_counter(), 0.0
        while executions < min_runs or elapsed < budget:
            run(given)
            executions += 1
            elapsed = time.perf_counter() - started
        return Measurement(executions, elapsed, variant.workload["transitions"])
    except Exception as failure:  # reported in the table; the other rows still run
        return Measurement(error=f"{type(failure).__name__}: {failure}"[:300])


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


def measure_peer(rows: list[Variant], budget: float, min_runs: int) -> dict[str, Measurement]:
    """Returns {peer key: Measurement} for the peer jobs of `rows`, run in one node process."""
    jobs: dict[str, dict] = {}
    for variant in rows:
        if variant.peer_key and variant.peer_key not in jobs:
            workload = variant.workload
            jobs[variant.peer_key] = {
                "key": variant.peer_key, "definition": variant.definition,
                "input": workload["input"], "expected_output": workload["expected_output"],
                "alt_cases": workload.get("alt_cases") or [],
                "transitions": workload["transitions"],
                "local_task_handler": variant.peer_local_task_handler,
            }
    if not jobs:
        return {}
    handler = next((task_handler_path(v.workload, ".mjs") for v in rows
                    if v.peer_local_task_handler), PEER_DIR / "run.mjs")
    try:
        with tempfile.TemporaryDirectory(prefix="flowbench-peer-") as folder:
            prefix = install_peer(Path(folder))
            job_path = Path(folder) / "job.json"
            job_path.write_text(json.dumps({"budget": budget, "min_runs": min_runs,
                                            "task_handler": str(handler),
                                            "workloads": list(jobs.values())}),
                                encoding="utf-8")
            completed = subprocess.run(["node", str(PEER_DIR / "run.mjs"), str(prefix),
                                        str(job_path)],
                                       capture_output=True, text=True, timeout=1800)
            if completed.returncode != 0:
                raise BenchmarkError(f"the peer failed: {completed.stderr.strip()[-500:]}")
            report = json.loads(completed.stdout.strip().splitlines()[-1])
    except (BenchmarkError, OSError, subprocess.SubprocessError, ValueError) as failure:
        return {key: Measurement(error=str(failure)[:300]) for key in jobs}
    return {item["key"]: Measurement(item.get("executions", 0), item.get("seconds", 0.0),
                                     item.get("transitions", 0), item.get("error"))
            for item in report["results"]}


# ---------------------------------------------------------------------------------------------
# Output

def _rate_text(measurement: Measurement) -> str:
    rate = measurement.rate
    return f"{rate:,.0f}" if rate is not None else "n/a"


def table(rows: list[Row]) -> str:
    """Returns the results table: workload | transitions | Flowbench tr/s | peer tr/s | ratio."""
    header = ("workload", "transitions", "Flowbench tr/s", "peer tr/s", "ratio")
    lines = []
    for row in rows:
        ours, theirs = row.flowbench.rate, row.peer.rate
        ratio = f"{ours / theirs:.2f}x" if ours and theirs else "n/a"
        lines.append((row.label, str(row.transitions), _rate_text(row.flowbench),
                      _rate_text(row.peer), ratio))
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    render = lambda cells: " | ".join(  # noqa: E731 - a local formatter
        cell.ljust(width) if index == 0 else cell.rjust(width)
        for index, (cell, width) in enumerate(zip(cells, widths)))
    out = [render(header), "-+-".join("-" * width for width in widths)]
    out += [render(line) for line in lines]
    notes = [f"  {row.label} {side}: {measurement.error}" for row in rows
             for side, measurement in (("Flowbench", row.flowbench), ("peer", row.peer))
             if measurement.error]
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
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative", "ncalls"),
                        help="order of the --profile listing (default tottime)")
    args = parser.parse_args(argv)

    rows = variants(load_workloads())
    if args.profile:
        chosen = [v for v in rows if v.key.upper() == args.profile]
        if not chosen:
            parser.error(f"no row {args.profile}; rows: {', '.join(v.key for v in rows)}")
        profile(chosen[0], args.profile_runs, args.sort)
        return 0
    if args.only:
        rows = [v for v in rows if v.key.upper() in args.only]
    budget, min_runs = ((QUICK_BUDGET_SECONDS, QUICK_MIN_RUNS) if args.quick
                        else (BUDGET_SECONDS, MIN_RUNS))

    invokers = TaskInvokers()
    try:
        ours = {v.key: measure_flowbench(v, invokers, budget, min_runs) for v in rows}
    finally:
        invokers.close()
    theirs = ({} if args.no_peer else measure_peer(rows, budget, min_runs))
    skipped = Measurement(error="not run (--no-peer)")
    results = [Row(v.label, v.workload["transitions"], ours[v.key],
                   theirs.get(v.peer_key, skipped)) for v in rows]
    print(f"ASL engine benchmark: {budget} s per row (at least {min_runs} executions) after an "
          f"untimed check and warm-up; history recorded on both engines")
    print(table(results))
    return 0 if all(ours[v.key].error is None for v in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
