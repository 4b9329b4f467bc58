"""Replays the recorded ASL conformance corpus through Flowbench's engine and compares the results.

The corpus lives in `shared/conformance/` beside the repository; its README says how a run is
compared with a recorded case, and this module is that comparison, written once for the pytest
suite (`test_conformance.py`) and for the command line:

    .venv/bin/python -m tests.unit.asl.conformance [--only PREFIX] [--verbose] [--jobs N]
        [--show ID] [--repeat N] [--in-process-functions] [--write-failures]

The command runs every case (in parallel threads, Lambda functions through one shared
FunctionRunner), prints pass/fail counts by id prefix, the failures grouped by reason, the first
difference of each failure and the slowest cases. `--show ID` prints one case in full beside
Flowbench's result; `--repeat N` finds cases whose verdict changes from run to run.
"""

from __future__ import annotations

import argparse
import collections
import difflib
import json
import math
import re
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

REPO_ROOT = Path(__file__).resolve().parents[3]
CORPUS_DIR = REPO_ROOT.parent / "shared" / "conformance"
EXECUTIONS_FILE = CORPUS_DIR / "asl-public.jsonl"
FAILURES_FILE = Path(__file__).resolve().with_name("conformance_failures.txt")

PASS_RATE_REQUIRED = 95.0
DEFAULT_FUNCTION_TIMEOUT = 3
TASK_TIMEOUT_HEADROOM = 10
# A case that runs longer than this is reported as a failure instead of holding the suite.
CASE_TIME_LIMIT = 60.0

MASK_WORDS = frozenset({
    "date", "datetime", "timestamp", "RequestId", "X-Amzn-Trace-Id", "x-amzn-RequestId",
    "x-amz-crc32", "snf_role_arn", "sfn_role_arn",
})
PLACEHOLDER = re.compile(r"<[A-Za-z][A-Za-z0-9_.-]*(?::\d+)?>")
# A date-time with a zone designator, anywhere in a text: the recording replaced these with "date".
ZONED_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})")
DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
# In a Lambda error text, the stack trace is the runtime's own (file paths, line numbers).
STACK_TRACE_TEXT = re.compile(r'"stackTrace"\s*:\s*\[.*\]', re.DOTALL)
MASKED_FIELDS_NOTE = re.compile(r"snapshot masked fields: ([^;]*)")
HISTORY_BLOCKS = {"ParallelStateStarted": "Parallel", "MapStateStarted": "Map"}
BLOCK_ENDS = ("StateSucceeded", "StateFailed", "StateAborted")


IN_PROCESS = object()  # the runner argument that asks for handlers run in this process


class CorpusMissing(FileNotFoundError):
    """The shared conformance corpus is not where the suite expects it."""


# ---------------------------------------------------------------------------------------------
# Loading

def load_cases(path: Path = EXECUTIONS_FILE) -> list[dict]:
    """Returns the execution cases of the corpus, in file order; raises CorpusMissing if absent."""
    if not path.is_file():
        raise CorpusMissing(
            f"ASL conformance corpus not found at {path}. The suite expects the shared folder "
            f"beside the repository ({REPO_ROOT.parent / 'shared'}); clone or mount it there.")
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def load_failures(path: Path = FAILURES_FILE) -> dict[str, str]:
    """Returns {case id: reason} from the known-failures list (`id<TAB>reason` lines; `#` comments)."""
    failures: dict[str, str] = {}
    if not path.is_file():
        return failures
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        case_id, _, reason = line.partition("\t")
        failures[case_id.strip()] = reason.strip()
    return failures


def write_failures(failures: dict[str, str], path: Path = FAILURES_FILE) -> None:
    """Writes the known-failures list, sorted by id, one `id<TAB>reason` line each."""
    header = ("# ASL conformance cases known not to match AWS: id<TAB>reason, one per line.\n"
              "# The suite asserts each still fails; remove a line when its case passes.\n")
    body = "".join(f"{case_id}\t{' '.join(reason.split())}\n"
                   for case_id, reason in sorted(failures.items()))
    path.write_text(header + body, encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Normalisation

def normalise(value: Any, replacements: Iterable[tuple[str, str]] = ()) -> Any:
    """Returns `value` rewritten as the recording rewrote volatile values.

    Members whose key contains "timestamp" become "timestamp" (unless they hold a date-time);
    then, in the JSON text, each replacement's real value becomes its placeholder (longest
    first), zoned ISO-8601 date-times become "date", `arn:aws:` becomes `arn:<partition>:` and
    `us-east-1` becomes `<region>`.
    """
    text = json.dumps(_mask_timestamp_members(value), ensure_ascii=False)
    for real, placeholder in sorted(replacements, key=lambda pair: len(pair[0]), reverse=True):
        if real:
            text = text.replace(_json_inner(real), _json_inner(placeholder))
    text = ZONED_DATE_TIME.sub("date", text)
    text = text.replace("arn:aws:", "arn:<partition>:").replace("us-east-1", "<region>")
    return json.loads(text)


def _json_inner(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _mask_timestamp_members(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: ("timestamp" if "timestamp" in key.lower() and not _is_date_time(member)
                      else _mask_timestamp_members(member))
                for key, member in value.items()}
    if isinstance(value, list):
        return [_mask_timestamp_members(member) for member in value]
    return value


def _is_date_time(value: Any) -> bool:
    return isinstance(value, str) and DATE_TIME.fullmatch(value) is not None


# ---------------------------------------------------------------------------------------------
# Matching

@dataclass(frozen=True)
class Difference:
    """One place where the actual result departs from the recorded one."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def differences(expected: Any, actual: Any, *, masked_keys: frozenset[str] = frozenset(),
                mask_values: frozenset[str] = frozenset(), path: str = "$") -> list[Difference]:
    """Returns where `actual` fails to match `expected` (empty when it matches).

    Objects need the same keys, arrays the same order, numbers equal numerically (booleans are
    not numbers). An expected mask word matches anything; a placeholder `<...>` inside an expected
    string matches any text; members named in `masked_keys`, and expected strings equal to one
    of `mask_values`, match anything; inside a Lambda
    error text the `stackTrace` is the runtime's own and matches any trace.
    """
    out: list[Difference] = []
    _collect(expected, actual, (masked_keys, mask_values), path, out)
    return out


def _collect(expected, actual, masks, path, out):
    masked_keys, mask_values = masks
    if isinstance(expected, str):
        if expected not in mask_values and not string_matches(expected, actual):
            out.append(Difference(path, f"expected {_show(expected)}, got {_show(actual)}"))
    elif isinstance(expected, dict):
        if not isinstance(actual, dict):
            out.append(Difference(path, f"expected an object, got {_show(actual)}"))
            return
        missing = [key for key in expected if key not in actual]
        extra = [key for key in actual if key not in expected]
        if missing:
            out.append(Difference(path, f"missing keys {missing}"))
        if extra:
            out.append(Difference(path, f"unexpected keys {extra}"))
        for key, member in expected.items():
            if key in actual and key not in masked_keys:
                _collect(member, actual[key], masks, f"{path}.{key}", out)
    elif isinstance(expected, list):
        if not isinstance(actual, list):
            out.append(Difference(path, f"expected an array, got {_show(actual)}"))
            return
        if len(expected) != len(actual):
            out.append(Difference(path, f"expected {len(expected)} items, got {len(actual)}: "
                                        f"{_show(actual)}"))
            return
        for index, (member, actual_member) in enumerate(zip(expected, actual)):
            _collect(member, actual_member, masks, f"{path}[{index}]", out)
    elif isinstance(expected, bool) or expected is None:
        if actual is not expected:
            out.append(Difference(path, f"expected {_show(expected)}, got {_show(actual)}"))
    elif isinstance(expected, (int, float)):
        if not _numbers_equal(expected, actual):
            out.append(Difference(path, f"expected {_show(expected)}, got {_show(actual)}"))
    else:  # pragma: no cover - JSON has no other types
        out.append(Difference(path, f"unexpected expected value {expected!r}"))


def string_matches(expected: str, actual: Any) -> bool:
    """Returns whether `actual` matches the expected string under masks, placeholders and traces."""
    if expected in MASK_WORDS:
        return True
    if not isinstance(actual, str):
        return False
    if expected == actual:
        return True
    has_trace = '"stackTrace"' in expected and '"stackTrace"' in actual
    if not has_trace and PLACEHOLDER.search(expected) is None:
        return False
    if has_trace:
        expected = STACK_TRACE_TEXT.sub('"stackTrace":<stack-trace>', expected)
        actual = STACK_TRACE_TEXT.sub('"stackTrace":<stack-trace>', actual)
    return _placeholder_pattern(expected).fullmatch(actual) is not None


_PATTERNS: dict[str, re.Pattern] = {}
_PATTERNS_LOCK = threading.Lock()


def _placeholder_pattern(expected: str) -> re.Pattern:
    pattern = _PATTERNS.get(expected)
    if pattern is None:
        pieces = PLACEHOLDER.split(expected)
        regex = ".*?".join(re.escape(piece) for piece in pieces)
        pattern = re.compile(regex, re.DOTALL)
        with _PATTERNS_LOCK:
            _PATTERNS[expected] = pattern
    return pattern


def _numbers_equal(expected, actual) -> bool:
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return False
    if isinstance(expected, float) or isinstance(actual, float):
        return math.isclose(expected, actual, rel_tol=1e-12, abs_tol=0.0)
    return expected == actual


def _show(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[:limit] + "..."


# ---------------------------------------------------------------------------------------------
# Comparing a run with a case

def masks_of(case: dict) -> tuple[frozenset[str], frozenset[str]]:
    """Returns (member names, mask texts) of the fields the case's notes say the recording masked.

    A note `snapshot masked fields: $..LogResult, $..events..x.output` masks members named
    `LogResult` and `output`; the recording may also have put the path itself (`x.output`) in
    place of the value.
    """
    match = MASKED_FIELDS_NOTE.search(case.get("notes") or "")
    if not match:
        return frozenset(), frozenset()
    paths = [path.strip() for path in match.group(1).split(",") if path.strip()]
    keys = frozenset(path.rsplit(".", 1)[-1] for path in paths)
    texts = frozenset(path.rsplit("..", 1)[-1].lstrip("$.") for path in paths)
    return keys, texts


def outcome_differences(case: dict, result: Any) -> list[Difference]:
    """Returns how the run's status, output or error and cause depart from the case's `expect`."""
    expect = case["expect"]
    replacements = [tuple(pair) for pair in case.get("replacements") or ()]
    masked_keys, mask_values = masks_of(case)
    status = getattr(result, "status", None)
    if status != expect["status"]:
        detail = (f"output {_show(getattr(result, 'output', None))}" if status == "SUCCEEDED" else
                  f"error {_show(getattr(result, 'error', None))}, "
                  f"cause {_show(getattr(result, 'cause', None), 300)}")
        return [Difference("status", f"expected {expect['status']}, got {status} ({detail})")]
    found: list[Difference] = []
    if "output" in expect:
        found += differences(normalise(expect["output"], replacements),
                             normalise(result.output, replacements),
                             masked_keys=masked_keys, mask_values=mask_values, path="output")
    if "error" in expect:
        found += differences(normalise(expect["error"], replacements),
                             normalise(result.error, replacements), path="error")
    if "cause" in expect:
        found += cause_differences(expect["cause"], result.cause, replacements, masked_keys)
    return found


def cause_differences(expected: Any, actual: Any, replacements=(), masked=frozenset()
                      ) -> list[Difference]:
    """Returns how the actual cause departs from the expected one.

    An expected object means AWS's cause text held JSON (a Lambda error): the actual cause is
    parsed before comparing, and its `stackTrace` only needs to be present.
    """
    if isinstance(expected, dict):
        try:
            parsed = json.loads(actual) if isinstance(actual, str) else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            return [Difference("cause", f"expected a JSON object text, got {_show(actual, 300)}")]
        expected = dict(expected)
        if "stackTrace" in expected and "stackTrace" in parsed:
            expected.pop("stackTrace")
            parsed = {key: member for key, member in parsed.items() if key != "stackTrace"}
        return differences(normalise(expected, replacements), normalise(parsed, replacements),
                           masked_keys=masked, path="cause")
    return differences(normalise(expected, replacements), normalise(actual, replacements),
                       path="cause")


def event_types(history: Iterable[dict]) -> list[str]:
    """Returns the `type` of each history event, in order."""
    return [event["type"] for event in history]


def history_shape(types: list[str]) -> list:
    """Returns the event types with each Parallel/Map block folded into an order-free multiset.

    A block runs from `ParallelStateStarted`/`MapStateStarted` to the event closing it: its
    `...StateSucceeded`, `...StateFailed` or `...StateAborted`, or its `...StateExited` when
    none of those was recorded. Branch and iteration events inside may interleave in any order,
    so only how many of each type occur counts; the closing event keeps its place.
    """
    shape: list = []
    open_kinds: list[str] = []
    awaiting_exit: collections.Counter = collections.Counter()
    block: collections.Counter = collections.Counter()
    for current in types:
        closes = False
        kind = current.split("State", 1)[0]
        if current in HISTORY_BLOCKS:
            open_kinds.append(HISTORY_BLOCKS[current])
        elif open_kinds and open_kinds[-1] == kind and current.endswith(BLOCK_ENDS):
            open_kinds.pop()
            awaiting_exit[kind] += 1
            closes = not open_kinds
        elif current.endswith("StateExited") and awaiting_exit[kind]:
            awaiting_exit[kind] -= 1
        elif open_kinds and open_kinds[-1] == kind and current.endswith("StateExited"):
            open_kinds.pop()
            closes = not open_kinds
        inside = bool(open_kinds) and not (current in HISTORY_BLOCKS and len(open_kinds) == 1)
        if closes:
            shape.append(("block", tuple(sorted(block.items()))))
            block = collections.Counter()
        if inside:
            block[current] += 1
        else:
            shape.append(current)
    if block:
        shape.append(("unclosed block", tuple(sorted(block.items()))))
    return shape


def recorded_in_reverse(types: list[str]) -> bool:
    """Returns whether a history was recorded newest first (it then ends with ExecutionStarted)."""
    return len(types) > 1 and types[-1] == "ExecutionStarted" and types[0] != "ExecutionStarted"


def history_difference(case: dict, result: Any) -> str | None:
    """Returns a readable diff of the event type sequences, or None when they match (or the case
    recorded no history)."""
    if not case.get("history"):
        return None
    expected = event_types(case["history"])
    actual = event_types(getattr(result, "history", None) or [])
    if recorded_in_reverse(expected):  # read with reverseOrder: compare in the same order
        actual = actual[::-1]
    if history_shape(expected) == history_shape(actual):
        return None
    diff = difflib.unified_diff(expected, actual, "recorded history", "Flowbench history",
                                lineterm="", n=2)
    return "event types differ (Parallel/Map blocks compared as multisets):\n" + "\n".join(diff)


# ---------------------------------------------------------------------------------------------
# Running a case

def function_timeout(case: dict, function: dict) -> float:
    """Returns the time limit to deploy a case's function with, in seconds.

    The case's own `timeout`, else Lambda's default of 3 s; but where a Task sets a timeout
    (`TimeoutSeconds[Path]`) the recording shows that Task's timeout firing first, so the
    function gets TASK_TIMEOUT_HEADROOM instead.
    """
    if "timeout" in function:
        return function["timeout"]
    if "TimeoutSeconds" in json.dumps(case["definition"]):
        return TASK_TIMEOUT_HEADROOM
    return DEFAULT_FUNCTION_TIMEOUT


def function_specs(case: dict) -> dict:
    """Returns {function name: FunctionSpec} for the Lambda functions a case deploys."""
    from runtime.functions import FunctionSpec

    return {
        name: FunctionSpec(name=name, runtime="python", handler="handler.handler",
                           files={"handler.py": function["code"]},
                           timeout=function_timeout(case, function), memory=128)
        for name, function in (case.get("functions") or {}).items()
    }


def in_process_invoker(case: dict) -> Any:
    """Returns a FakeInvoker running the case's handlers inside this process (no isolation, no
    timeout): a quick stand-in for real workers while working on the engine."""
    from runtime.asl.invoker import FakeInvoker

    handlers = {}
    for name, function in case["functions"].items():
        namespace: dict = {"__name__": "handler"}
        exec(compile(function["code"], "/var/task/handler.py", "exec"), namespace)
        handlers[name] = namespace["handler"]
    return FakeInvoker(handlers)


def invoker_for(case: dict, runner) -> Any:
    """Returns a LambdaInvoker resolving the case's functions on `runner` (or, when `runner` is
    IN_PROCESS, an in-process invoker), or None for a case without functions."""
    if not case.get("functions"):
        return None
    if runner is IN_PROCESS:
        return in_process_invoker(case)
    from runtime.tasks import LambdaInvoker

    specs = function_specs(case)
    # The invoker hands `resolve` the bare name, whatever ARN or qualifier the Task used.
    return LambdaInvoker(lambda name, qualifier: specs.get(name), runner)


@dataclass
class Run:
    """One case run: the engine's result, or the exception that stopped it, and how long it took."""

    case: dict
    result: Any = None
    crash: str | None = None
    seconds: float = 0.0
    outcome: list[Difference] = field(default_factory=list)
    history: str | None = None

    @property
    def passed(self) -> bool:
        """Returns whether the run matched the case in outcome and history."""
        return self.crash is None and not self.outcome and self.history is None

    def first_difference(self) -> str:
        """Returns the first thing that departs from the recording, as one line of text."""
        if self.crash:
            return self.crash.strip().splitlines()[-1]
        if self.outcome:
            return str(self.outcome[0])
        if self.history:
            changes = [line for line in self.history.splitlines()[1:]
                       if line[:1] in "+-" and line[:3] not in ("---", "+++")]
            return "history event types: " + " ".join(changes[:6]) + (" ..." if len(changes) > 6 else "")
        return "matches"

    def reason(self) -> str:
        """Returns a short category for grouping failures (status pair, error pair, path, crash)."""
        if self.crash:
            return "crash: " + self.crash.strip().splitlines()[-1].split(":", 1)[0]
        if self.outcome:
            first = self.outcome[0]
            if first.path == "status":
                return "status " + first.message.split(" (", 1)[0]
            if first.path in ("error", "cause"):
                return f"{first.path} differs (expected {_show(self.case['expect'].get('error'))})"
            return "output differs"
        if self.history:
            return "history event types differ"
        return "passed"


def run_context(case: dict) -> dict:
    """Returns the context to run a case with: its own, and whether the recording started it
    with StartSyncExecution (the notes say so), which changes an Express execution's context."""
    context = dict(case["context"])
    if "(StartSyncExecution)" in (case.get("notes") or ""):
        context["synchronous"] = True
    return context


def execute(case: dict, runner=None) -> Run:
    """Runs one case through Flowbench's engine and returns the Run, compared with the recording."""
    run = Run(case)
    started = time.perf_counter()
    try:
        from runtime.asl import FakeClock, StateMachine

        machine = StateMachine(case["definition"])
        run.result = machine.run(case["input"], invoker=invoker_for(case, runner),
                                 clock=FakeClock(), context=run_context(case))
    except Exception:  # any engine failure is a failed case, reported with its trace
        run.crash = traceback.format_exc()
    run.seconds = time.perf_counter() - started
    if run.crash is None:
        try:
            run.outcome = outcome_differences(case, run.result)
            run.history = history_difference(case, run.result)
        except Exception:
            run.crash = "comparing the result failed:\n" + traceback.format_exc()
    return run


def execute_within(case: dict, runner=None, limit: float = CASE_TIME_LIMIT) -> Run:
    """Returns `execute(case)`, or a crashed Run if the engine has not finished within `limit` s."""
    box: list[Run] = []
    worker = threading.Thread(target=lambda: box.append(execute(case, runner)), daemon=True,
                              name=f"conformance {case['id']}")
    worker.start()
    worker.join(limit)
    if box:
        return box[0]
    return Run(case, crash=f"TimeoutError: the run did not finish within {limit:.0f} s",
               seconds=limit)


# ---------------------------------------------------------------------------------------------
# Command line

def _prefix(case_id: str) -> str:
    return case_id.split(".", 1)[0]


def _run_all(cases: list[dict], jobs: int, in_process: bool = False) -> list[Run]:
    if in_process:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(lambda case: execute_within(case, IN_PROCESS), cases))
    needs_functions = any(case.get("functions") for case in cases)
    runner_context = None
    if needs_functions:
        try:
            from runtime.functions import FunctionRunner
        except ImportError as missing:  # the Lambda cases then fail, each saying why
            print(f"warning: no FunctionRunner ({missing}); Lambda cases will fail",
                  file=sys.stderr)
        else:
            runner_context = FunctionRunner()
    runner = runner_context.__enter__() if runner_context else None
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(lambda case: execute_within(case, runner), cases))
    finally:
        if runner_context:
            runner_context.__exit__(None, None, None)


def _report(runs: list[Run], known: dict[str, str], verbose: bool, wall: float) -> None:
    by_prefix: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for run in runs:
        by_prefix[_prefix(run.case["id"])][0 if run.passed else 1] += 1
    print(f"{'prefix':32} {'pass':>5} {'fail':>5}")
    for prefix, (passed, failed) in sorted(by_prefix.items()):
        print(f"{prefix:32} {passed:5} {failed:5}")

    failed_runs = [run for run in runs if not run.passed]
    groups: dict[str, list[Run]] = collections.defaultdict(list)
    for run in failed_runs:
        groups[run.reason()].append(run)
    if groups:
        print("\nfailures by reason:")
    for reason, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        print(f"\n[{len(members)}] {reason}")
        for run in members:
            mark = " (listed)" if run.case["id"] in known else ""
            print(f"  {run.case['id']}{mark}: {run.first_difference()}")
            if verbose:
                if run.crash:
                    print("    " + run.crash.strip().replace("\n", "\n    "))
                for difference in run.outcome[1:]:
                    print(f"    {difference}")
                if run.history:
                    print("    " + run.history.replace("\n", "\n    "))

    slowest = sorted(runs, key=lambda run: -run.seconds)[:8]
    print("\nslowest: " + ", ".join(f"{run.case['id']} {run.seconds:.2f}s" for run in slowest))
    passed = sum(run.passed for run in runs)
    now_passing = sorted(run.case["id"] for run in runs if run.passed and run.case["id"] in known)
    new_failures = sorted(run.case["id"] for run in failed_runs if run.case["id"] not in known)
    if now_passing:
        print(f"\nlisted as failing but now pass ({len(now_passing)}): {' '.join(now_passing)}")
    if new_failures:
        print(f"\nfailing and not listed ({len(new_failures)}): {' '.join(new_failures)}")
    print(f"\nASL conformance: {passed}/{len(runs)} passed ({100.0 * passed / max(len(runs), 1):.1f}%)"
          f" in {wall:.1f}s")


def show(run: Run) -> None:
    """Prints one case in full: definition, input, what AWS recorded and what Flowbench did."""
    case, result = run.case, run.result
    dump = lambda value: json.dumps(value, indent=2, ensure_ascii=False)  # noqa: E731
    print(f"== {case['id']}  ({case['source']})\nnotes: {case.get('notes') or '-'}")
    print("-- definition\n" + dump(case["definition"]))
    print("-- input\n" + dump(case["input"]))
    print("-- recorded\n" + dump(case["expect"]))
    if run.crash:
        print("-- Flowbench raised\n" + run.crash)
    else:
        print("-- Flowbench\n" + dump({"status": result.status, "output": result.output,
                                       "error": result.error, "cause": result.cause}))
        recorded = event_types(case.get("history") or [])
        actual = event_types(result.history or [])
        print("-- history event types (recorded | Flowbench)")
        for index in range(max(len(recorded), len(actual))):
            left = recorded[index] if index < len(recorded) else ""
            right = actual[index] if index < len(actual) else ""
            print(f"{index:4} {left:40} {'  ' if left == right else '<>'} {right}")
    print("-- verdict: " + ("matches" if run.passed else "\n".join(
        [str(d) for d in run.outcome] + ([run.history] if run.history else [])
        + ([run.first_difference()] if run.crash else []))))


def main(argv: list[str] | None = None) -> int:
    """Runs the corpus from the command line; returns 0 when every selected case passes."""
    parser = argparse.ArgumentParser(prog="python -m tests.unit.asl.conformance",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], metavar="PREFIX",
                        help="run only cases whose id starts with PREFIX (repeatable)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="print every difference, traces and history diffs")
    parser.add_argument("--jobs", "-j", type=int, default=8, help="parallel runs (default 8)")
    parser.add_argument("--in-process-functions", action="store_true",
                        help="run Lambda handlers inside this process instead of through "
                             "runtime.functions workers (faster; no isolation or timeouts)")
    parser.add_argument("--show", metavar="ID",
                        help="run one case and print it in full beside Flowbench's result")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run the selection N times and report cases whose verdict changes")
    parser.add_argument("--write-failures", action="store_true",
                        help="rewrite conformance_failures.txt: keep reasons of cases still "
                             "failing, add new failures with their first difference, drop passes "
                             "(only with the whole corpus)")
    args = parser.parse_args(argv)

    cases = load_cases()
    if args.show:
        chosen = [case for case in cases if case["id"] == args.show]
        if not chosen:
            parser.error(f"no case {args.show!r}")
        run = _run_all(chosen, 1, args.in_process_functions)[0]
        show(run)
        return 0 if run.passed else 1
    if args.only:
        cases = [case for case in cases if any(case["id"].startswith(p) for p in args.only)]
    known = load_failures()
    started = time.perf_counter()
    runs = _run_all(cases, max(1, args.jobs), args.in_process_functions)
    verdicts = {run.case["id"]: {run.passed} for run in runs}
    for _ in range(args.repeat - 1):
        for again in _run_all(cases, max(1, args.jobs), args.in_process_functions):
            verdicts[again.case["id"]].add(again.passed)
    _report(runs, known, args.verbose, time.perf_counter() - started)
    unstable = sorted(case_id for case_id, seen in verdicts.items() if len(seen) > 1)
    if args.repeat > 1:
        print(f"verdicts that changed over {args.repeat} runs ({len(unstable)}): "
              f"{' '.join(unstable) or 'none'}")
    if args.write_failures:
        if args.only or args.in_process_functions:
            print("--write-failures needs the whole corpus run on real workers; list not "
                  "written", file=sys.stderr)
            return 2
        write_failures({run.case["id"]: known.get(run.case["id"]) or run.first_difference()
                        for run in runs if not run.passed})
        print(f"wrote {FAILURES_FILE}")
    return 0 if all(run.passed for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
