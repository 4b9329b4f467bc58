"""What idle execution watchers cost the web process: its RSS before and after N WebSocket clients
of one user subscribe to a long execution's history and never read it.

    .venv/bin/python -m bench.socket_memory [--sockets 300] [--rounds 6000] [--cap 10]

A fresh data folder, `manage.py prepare`, then `python -m flowbench.serve` (daphne) on a free
port with FLOWBENCH_EXECUTION_SOCKETS_PER_USER=--cap. One execution loops --rounds times through a
Pass and a Choice (4 events a round, so 6,000 rounds are 24,000 events). Each client subscribes
with after=0 and then reads nothing: its catch-up waits in the server's send buffers. Prints the
server's RSS before the clients, its peak while they hold the sockets, and how many sockets the
server accepted and refused (4429). Run it with --cap 10000 for the server without a cap.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    """Returns the resident set size of process `pid` in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def loop_machine(rounds: int) -> str:
    return json.dumps({"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Again?"},
        "Again?": {"Type": "Choice", "Default": "Done",
                   "Choices": [{"Variable": "$.i", "NumericLessThan": rounds, "Next": "Count"}]},
        "Done": {"Type": "Succeed"}}})


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = subprocess.Popen([sys.executable, "-m", "flowbench.serve", "--fd", str(listener.fileno()),
                               "flowbench.asgi:application"], cwd=ROOT, env=env, pass_fds=[listener.fileno()],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    listener.close()
    return server, base


def long_execution(client: httpx.Client, rounds: int) -> tuple[str, int]:
    """Starts the loop machine and waits for its end; returns (execution id, number of events)."""
    client.post("/api/roles", json={"name": "watchers"}).raise_for_status()
    client.post("/api/state-machines", json={"name": "loop", "type": "STANDARD", "role": "watchers",
                                             "definition": loop_machine(rounds)}).raise_for_status()
    client.post("/api/state-machines/loop/versions").raise_for_status()
    started = client.post("/api/state-machines/loop/executions", json={"input": '{"i": 0}'})
    started.raise_for_status()
    execution = started.json()["id"]
    while client.get(f"/api/executions/{execution}").json()["status"] == "RUNNING":
        time.sleep(0.5)   # a script, not a test: poll the execution's end
    return execution, len(client.get(f"/api/executions/{execution}/events").json()["events"])


async def idle_watchers(base: str, session: str, execution: str, count: int, pid: int, hold: float):
    """Opens `count` sockets that subscribe and never read; returns (accepted, refused, peak RSS MB)."""
    url = base.replace("http://", "ws://") + f"/ws/executions/{execution}/"
    sockets, refused = [], 0
    for _ in range(count):
        # max_queue=1: the client stops reading its TCP socket once one message waits unread.
        client = await connect(url, origin=base, max_size=None, max_queue=1,
                               additional_headers={"Cookie": f"sessionid={session}"})
        try:
            await client.send(json.dumps({"type": "subscribe", "after": 0}))
            sockets.append(client)
        except ConnectionClosed:   # refused (4429) before the subscribe went out
            refused += 1
    peak, ends = 0.0, time.monotonic() + hold
    while time.monotonic() < ends:
        peak = max(peak, rss_mb(pid))
        await asyncio.sleep(0.2)
    for client in sockets:
        if client.close_code == 4429:
            refused += 1
    for client in sockets:
        client.transport.abort()
    return count - refused, refused, peak


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.socket_memory")
    parser.add_argument("--sockets", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6000)
    parser.add_argument("--cap", type=int, default=10, help="FLOWBENCH_EXECUTION_SOCKETS_PER_USER")
    parser.add_argument("--hold", type=float, default=15, help="seconds the idle sockets are held")
    options = parser.parse_args(argv)
    data = tempfile.mkdtemp(prefix="flowbench-bench-sockets-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "FLOWBENCH_EXECUTOR")}
    env |= {"FLOWBENCH_DATA_DIR": data, "DJANGO_SETTINGS_MODULE": "flowbench.settings",
            "FLOWBENCH_EXECUTION_SOCKETS_PER_USER": str(options.cap)}
    prepared = subprocess.run([sys.executable, "manage.py", "prepare"], cwd=ROOT, env=env, capture_output=True,
                              text=True, check=True)
    link = re.search(r"(http://\S+/login/\S+)", prepared.stdout).group(1)
    server, base = start_server(env)
    try:
        with httpx.Client(base_url=base, follow_redirects=True, timeout=120) as client:
            client.get(link.replace("http://127.0.0.1:8000", base))
            client.get("/")
            client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
            execution, events = long_execution(client, options.rounds)
            session = client.cookies["sessionid"]
        before = rss_mb(server.pid)
        accepted, refused, peak = asyncio.run(
            idle_watchers(base, session, execution, options.sockets, server.pid, options.hold))
        print(f"cap {options.cap}: {options.sockets} idle sockets on an execution of {events} events: "
              f"{accepted} accepted, {refused} refused (4429); web process RSS {before:.0f} MB before, "
              f"peak {peak:.0f} MB (+{peak - before:.0f} MB)")
    finally:
        server.terminate()
        server.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
