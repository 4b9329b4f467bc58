"""Executions started at once over HTTP: `python -m bench.starts [--rounds N]`.

Starts 20, 60 and 100 executions at once (one connection each, released together by a barrier)
through the studio's JSON API (POST /api/state-machines/<name>/executions) of a default install
(daphne, SQLite, the thread executor, as `tests.live_server` runs it), and prints for each burst
the POST latencies (p50, p99) and the time until the last start was accepted, beside the target
(p50 <= 50 ms, every start accepted within 1 s). The machine is one Pass state, so the executions
run beside the starts as they would. Each burst runs `--rounds` times (default 3) and the median
round is printed; client and server share the machine's cores. A last row is the floor: 100
reads of the machine at once (GET /api/state-machines/<name>: the same daphne, Django, session
and one row read, without a start), what any request of the studio pays when 100 arrive at once.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.api import PASS, _clients  # noqa: E402

BURSTS = (20, 60, 100)
TARGET_P50_MS, TARGET_ALL_MS = 50.0, 1000.0


def burst(server: dict, studio, name: str, count: int, *, read: bool = False) -> tuple[float, float, float]:
    """Starts `count` executions at once (with `read`, reads the machine `count` times at once
    instead: the floor); returns (p50 ms, p99 ms, ms until the last was answered)."""
    import httpx

    latencies: list[float] = []
    failures: list[str] = []
    barrier = threading.Barrier(count + 1)

    def one(client):
        barrier.wait()
        started = time.perf_counter()
        if read:
            answer = client.get(f"/api/state-machines/{name}")
        else:
            answer = client.post(f"/api/state-machines/{name}/executions", json={"input": "{}"})
        latencies.append((time.perf_counter() - started) * 1000)
        if answer.status_code != (200 if read else 201):
            failures.append(f"{answer.status_code} {answer.text[:200]}")

    clients = [httpx.Client(base_url=server["base"], cookies=studio.cookies, headers=dict(studio.headers),
                            timeout=60) for _ in range(count)]
    try:
        for client in clients:   # connected before the burst: the burst measures the starts
            client.get("/api/state-machines").raise_for_status()
        threads = [threading.Thread(target=one, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        whole = (time.perf_counter() - started) * 1000
    finally:
        for client in clients:
            client.close()
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    latencies.sort()
    return statistics.median(latencies), latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], whole


def median_round(server, studio, name: str, count: int, rounds: int, *, read: bool = False):
    measured = sorted((burst(server, studio, name, count, read=read) for _ in range(rounds)), key=lambda r: r[2])
    return measured[len(measured) // 2]


def run(rounds: int) -> tuple[list[tuple[int, float, float, float]], tuple[float, float, float]]:
    """Returns the rows of the bursts of starts and the floor's (100 reads of the machine at once)."""
    from tests.live_server import running_server

    rows = []
    with tempfile.TemporaryDirectory(prefix="flowbench-bench-starts-") as data, running_server(Path(data)) as server:
        person, sfn, studio = _clients(server)
        name = f"bench-{uuid.uuid4().hex[:6]}"
        sfn.create_state_machine(name=name, definition=json.dumps(PASS), publish=True,
                                 roleArn=f"arn:aws:iam::{person['account']}:role/flowbench-sample-role")
        burst(server, studio, name, 10)   # warm-up, untimed
        for count in BURSTS:
            rows.append((count, *median_round(server, studio, name, count, rounds)))
        floor = median_round(server, studio, name, BURSTS[-1], rounds, read=True)
        studio.close()
    return rows, floor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.starts", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each burst (3)")
    args, _unknown = parser.parse_known_args(argv)
    print(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    rows, floor = run(max(1, args.rounds))
    print(f"{'at once':>8} {'p50 ms':>8} {'p99 ms':>8} {'all accepted ms':>16} {'starts/s':>9}   target")
    def row(count, p50, p99, whole, note):
        print(f"{count:>8} {p50:>8.1f} {p99:>8.1f} {whole:>16.1f} {count / whole * 1000:>9.1f}   {note}")

    for count, p50, p99, whole in rows:
        verdict = "met" if p50 <= TARGET_P50_MS and whole <= TARGET_ALL_MS else "missed"
        row(count, p50, p99, whole, f"p50 <= {TARGET_P50_MS:.0f} ms, all <= {TARGET_ALL_MS:.0f} ms: {verdict}")
    count = BURSTS[-1]
    row(count, *floor, f"floor: {count} reads of the machine at once (GET /api/state-machines/<name>), no start")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
