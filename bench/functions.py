"""Function runtime benchmark: what a cold start and a warm invoke cost, against this machine's
floor. `python -m bench.functions [--quick] [--backend bubblewrap|plain|both] [--profile]`

Prints, in one run:
  floor     bare interpreter start (`python3 -I -S -c pass`, `node -e 0`, `ruby -e 0`) and a JSON round
            trip over a pipe to a process that is already running (the least a warm invoke can cost)
  cold      Flowbench's Init Duration (worker start in the sandbox until the handler is loaded)
            and the whole cold invoke, for a no-op handler in each language (Ruby, and a
            custom runtime: a bash bootstrap speaking the Runtime API over HTTP, included)
  standby   the Init Duration and whole cold invoke of a new function when a standby worker of its
            shape is ready (runtime/functions/standby.py; FLOWBENCH_STANDBY_WORKERS), against the
            bare interpreter start
  warm      warm invoke latency, p50 and p99, measured around FunctionRunner.invoke
  2 callers invocations per second with two threads invoking the same function
  deploy    installing a function's dependencies (requirements.txt, package.json) into an empty
            package cache, and the same Deploy again with the package cached
Targets: cold start under half of AWS's Init Duration (88 ms python3.11, 142 ms nodejs20.x),
a cold start from a standby worker within 2x the bare interpreter start, warm p50 within 2x the
round-trip floor. The Ruby and custom-runtime rows have no AWS target
(they are measured, not judged): a custom runtime's warm invoke goes through HTTP, as on AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime.functions import (FunctionRunner, FunctionSpec, bubblewrap_works,  # noqa: E402
                               resolve_runtime)

AWS_INIT_MS = {"python": 88.0, "nodejs": 142.0}
NOOP = {
    "python": ("handler.handler", {"handler.py": "def handler(event, context):\n    return None\n"}),
    "nodejs": ("index.handler", {"index.mjs": "export const handler = async () => null;\n"}),
    "ruby": ("function.handler", {"function.rb": "def handler(event:, context:)\n  nil\nend\n"}),
    # bash alone (no process started per event): the least a shell custom runtime costs.
    "provided": ("function.handler", {"bootstrap": {"executable": True, "text": (
        "#!/bin/bash\n"
        "HOST=${AWS_LAMBDA_RUNTIME_API%:*} PORT=${AWS_LAMBDA_RUNTIME_API#*:}\n"
        "while true; do\n"
        "  exec 3<>/dev/tcp/$HOST/$PORT\n"
        "  printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.0\\r\\n\\r\\n' >&3\n"
        "  while IFS= read -r line <&3; do\n"
        "    line=${line%$'\\r'}; [ -z \"$line\" ] && break\n"
        "    case $line in Lambda-Runtime-Aws-Request-Id:*) ID=${line#*: };; esac\n"
        "  done\n"
        "  exec 3<&-\n"
        "  exec 3<>/dev/tcp/$HOST/$PORT\n"
        "  printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.0\\r\\n"
        "Content-Length: 4\\r\\n\\r\\nnull' \"$ID\" >&3\n"
        "  while read -r line <&3; do :; done\n"
        "  exec 3<&-\n"
        "done\n")}}),
}
ECHO_LOOP = ("import sys, json\n"
             "r, w = sys.stdin.buffer, sys.stdout.buffer\n"
             "for line in r:\n"
             "    w.write(json.dumps(json.loads(line)).encode() + b'\\n'); w.flush()\n")


def percentile(values: list[float], q: float) -> float:
    """Returns the q-th percentile (0..100) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def start_ms(argv: list[str], runs: int) -> float:
    """Returns the median wall time, in ms, of running argv to completion."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, env={"PATH": "/usr/bin:/bin"})
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def round_trip_us(runs: int) -> tuple[float, float]:
    """Returns (p50, p99) in µs of a small JSON message sent to a running process over a pipe
    and echoed back re-encoded. The answer is read as the runner reads one: a read of what the
    pipe holds (an unbuffered readline would make one system call per byte)."""
    python = resolve_runtime("python").executable
    child = subprocess.Popen([python, "-S", "-c", ECHO_LOOP], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, bufsize=0)
    message = json.dumps({"id": str(uuid.uuid4()), "event": {}}).encode() + b"\n"
    out = child.stdout.fileno()
    times = []
    try:
        for i in range(runs + 200):
            started = time.perf_counter()
            child.stdin.write(message)
            answer = os.read(out, 65536)
            while not answer.endswith(b"\n"):
                answer += os.read(out, 65536)
            json.loads(answer)
            if i >= 200:
                times.append((time.perf_counter() - started) * 1e6)
    finally:
        child.stdin.close()
        child.wait()
    return percentile(times, 50), percentile(times, 99)


def spec_for(family: str, name: str) -> FunctionSpec:
    handler, files = NOOP[family]
    return FunctionSpec(name=name, runtime=family, handler=handler, files=files)


def cold_starts(runner: FunctionRunner, family: str, runs: int, standby: bool = False) -> tuple[float, float]:
    """Returns the medians (Init Duration ms, whole cold invoke ms) of `runs` cold starts, each
    with a standby worker of the function's shape ready when `standby` (its start not timed)."""
    inits, totals = [], []
    for i in range(runs):
        spec = spec_for(family, f"bench-cold-{family}-{uuid.uuid4().hex[:8]}")
        if standby:
            runner.prestart(spec, wait=True)
        started = time.perf_counter()
        inv = runner.invoke(spec, {})
        totals.append((time.perf_counter() - started) * 1000)
        assert inv.error is None and inv.init_ms is not None, inv.logs
        inits.append(inv.init_ms)
        runner.retire_idle(older_than=0)
    return statistics.median(inits), statistics.median(totals)


def warm_latency(runner: FunctionRunner, spec: FunctionSpec, runs: int) -> tuple[float, float]:
    """Returns (p50, p99) in µs of warm invokes of `spec`."""
    for _ in range(200):
        runner.invoke(spec, {})
    times = []
    invoke = runner.invoke
    clock = time.perf_counter
    for _ in range(runs):
        started = clock()
        invoke(spec, {})
        times.append((clock() - started) * 1e6)
    return percentile(times, 50), percentile(times, 99)


def throughput(runner: FunctionRunner, spec: FunctionSpec, per_caller: int) -> float:
    """Returns invocations per second with two threads invoking `spec` at once."""
    barrier = threading.Barrier(3)

    def caller():
        barrier.wait()
        for _ in range(per_caller):
            runner.invoke(spec, {})

    threads = [threading.Thread(target=caller) for _ in range(2)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return 2 * per_caller / (time.perf_counter() - started)


def bench_backend(backend: str, families: list[str], quick: bool) -> list[tuple]:
    rows = []
    with FunctionRunner(backend=backend) as runner, FunctionRunner(backend=backend, standby=1) as kept:
        for family in families:
            runtime_id = resolve_runtime(family).id
            init_ms, cold_ms = cold_starts(runner, family, 5 if quick else 20)
            standby_ms = cold_starts(kept, family, 5 if quick else 20, standby=True) if family != "provided" \
                else (None, None)
            spec = spec_for(family, f"bench-warm-{family}")
            p50, p99 = warm_latency(runner, spec, 1000 if quick else 5000)
            rate = throughput(runner, spec, 1000 if quick else 5000)
            rows.append((backend, runtime_id, family, init_ms, cold_ms, *standby_ms, p50, p99, rate))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints its table; returns 0, or 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench.functions")
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--backend", default="both", choices=("bubblewrap", "plain", "both"))
    parser.add_argument("--profile", action="store_true",
                        help="profile warm Python invokes instead of printing the table")
    args, _ = parser.parse_known_args(argv)
    families = [f for f in ("python", "nodejs", "ruby", "provided") if _installed(f)]
    if args.profile:
        return _profile()
    backends = ["bubblewrap", "plain"] if args.backend == "both" else [args.backend]
    if "bubblewrap" in backends and not bubblewrap_works():
        print("bubblewrap does not work on this host: benchmarking the plain backend only")
        backends = ["plain"]

    runs = 10 if args.quick else 30
    print(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print("floor")
    bare = {"python": start_ms([resolve_runtime('python').executable, '-I', '-S', '-c', 'pass'], runs)}
    print(f"  python3 -I -S -c pass        {bare['python']:8.1f} ms")
    if "nodejs" in families:
        bare["nodejs"] = start_ms([resolve_runtime('nodejs').executable, '-e', '0'], runs)
        print(f"  node -e 0                    {bare['nodejs']:8.1f} ms")
    if "ruby" in families:
        bare["ruby"] = start_ms([resolve_runtime('ruby').executable, '--disable-gems', '-e', '0'], runs)
        print(f"  ruby --disable-gems -e 0     {bare['ruby']:8.1f} ms")
    p50, p99 = round_trip_us(2000 if args.quick else 10000)
    floor_us = p50
    print(f"  JSON round trip over a pipe  {p50:8.1f} µs p50  {p99:8.1f} µs p99")

    rows = []
    for backend in backends:
        rows += bench_backend(backend, families, args.quick)
    print()
    print(f"{'backend':<11} {'runtime':<15} {'init ms':>8} {'(AWS/2)':>8} {'cold ms':>8} "
          f"{'standby init':>12} {'(2x bare)':>9} {'standby cold':>12} "
          f"{'warm p50 µs':>12} {'warm p99 µs':>12} {'2 callers/s':>12}")
    missed = False
    for backend, runtime_id, family, init_ms, cold_ms, standby_init, standby_cold, p50, p99, rate in rows:
        target = AWS_INIT_MS[family] / 2 if family in AWS_INIT_MS else None
        shown = f"{target:8.1f}" if target is not None else f"{'—':>8}"
        twice = 2 * bare[family] if family in bare else None
        kept = (f"{standby_init:12.1f} {twice:9.1f} {standby_cold:12.1f}" if standby_init is not None
                else f"{'—':>12} {'—':>9} {'—':>12}")
        print(f"{backend:<11} {runtime_id:<15} {init_ms:8.1f} {shown} {cold_ms:8.1f} {kept} "
              f"{p50:12.1f} {p99:12.1f} {rate:12.0f}")
        if backend == "bubblewrap" and target is not None and init_ms > target:
            missed = True
    print(f"\nwarm p50 target: within 2x the round-trip floor = {2 * floor_us:.1f} µs")
    print()
    print(f"{'deploy':<11} {'runtime':<11} {'no cache ms':>12} {'cached ms':>12}  dependencies")
    for family in (f for f in families if f in DEPENDENCIES):   # Ruby and custom runtimes install nothing
        runtime_id, cold, cached, what = deploy_ms(family)
        print(f"{'':<11} {runtime_id:<11} {cold:12.1f} {cached:12.3f}  {what}")
    return 1 if missed else 0


DEPENDENCIES = {"python": {"requirements.txt": "six==1.16.0\n"},
                "nodejs": {"package.json": '{"name": "bench", "version": "1.0.0", '
                                           '"dependencies": {"is-odd": "3.0.1"}}'}}


def deploy_ms(family: str) -> tuple[str, float, float, str]:
    """Returns (runtime id, ms to install the family's sample dependencies into an empty cache,
    ms for the same Deploy with the package cached, what was installed)."""
    import shutil
    import tempfile

    from runtime.functions.packages import PackageCache

    runtime = resolve_runtime(family)
    root = tempfile.mkdtemp(prefix="flowbench-bench-packages-")
    os.chmod(root, 0o755)   # the installer runs under a uid of its own (as root)
    try:
        cache = PackageCache(os.path.join(root, "packages"))
        files = DEPENDENCIES[family]
        started = time.perf_counter()
        cache.ensure(runtime, files)
        cold = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        cache.ensure(runtime, files)
        cached = (time.perf_counter() - started) * 1000
        return runtime.id, cold, cached, " ".join(files.values()).strip()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _installed(family: str) -> bool:
    try:
        resolve_runtime(family)
        return True
    except Exception:
        return False


def _profile() -> int:
    import cProfile
    import pstats
    with FunctionRunner() as runner:
        spec = spec_for("python", "bench-profile")
        warm_latency(runner, spec, 200)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(5000):
            runner.invoke(spec, {})
        profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
