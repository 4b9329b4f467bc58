"""Live execution stream and persisted executions: `python -m bench.live [--events N] [--executions N]`.

Prints, with the load average at the start and the end:
  1. the time from the engine emitting an event to its arrival at connected WebSocket clients of
     /ws/executions/<id>/ (p50, p99), with 1 and with 50 watchers of one execution, beside the
     target (p99 at most TARGET_P99_MS): it includes the checkpoint (the event is stored before it
     is sent), the channel layer and the consumers. Under each row, where the burst's time went:
     how long the engine took to emit it, the checkpoint writes that stored it (events, duration),
     and how long after the last write the last watcher's frame was sent;
  2. persisted executions per second on SQLite: W4 (a Parallel of 10 x 20 Pass states) run through
     the executor with every history event stored as it happens.

It runs in one process on a fresh SQLite file (a temporary data folder), the in-memory channel
layer and the ExecutionConsumer itself, driven through ASGI as daphne drives it. The clients are
Channels' test communicators on the same event loop: an event arrives when the consumer hands its
frame to the client's connection (the ASGI send), and the clients parse (with orjson) only after
that moment is noted, so neither TCP, a browser nor the clients' own parsing is in the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

WATCHER_CAP = 10000
TARGET_P99_MS = 50   # issue 14: live delivery p99 at most 50 ms with 50 watchers
WORKLOAD = Path(__file__).resolve().parents[2] / "shared" / "bench" / "workloads" / "w4.json"


def _setup():
    os.environ.setdefault("FLOWBENCH_DATA_DIR", tempfile.mkdtemp(prefix="flowbench-bench-live-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowbench.settings")
    # Every watcher is the same user: lift the cap on one user's open execution sockets.
    os.environ.setdefault("FLOWBENCH_EXECUTION_SOCKETS_PER_USER", str(WATCHER_CAP))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _machine(user, name, definition):
    from editor.services import machines, roles

    if not user.roles.filter(name="bench").exists():
        roles.create_role(user, {"name": "bench"})
    machine = machines.create_machine(user, {"name": name, "type": "STANDARD", "role": "bench",
                                             "definition": json.dumps(definition)})
    machines.publish_version(machine)
    return machine


async def _latency(user, machine, watchers: int, events: int) -> tuple[list[float], str]:
    """Returns the emitted-to-arrival times (ms) of every event at every watcher, and where the
    burst's time went (emitted, written, sent)."""
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator

    from editor.consumers import ExecutionConsumer
    from editor.services import checkpoints, executions

    written: dict[int, float] = {}
    writes: list[tuple[float, float, int]] = []   # (began, ended, events) of each checkpoint write
    original, original_write = checkpoints.EventRecorder.__call__, checkpoints.EventRecorder._write

    def timed(recorder, event):
        # The engine hands the event to its recorder: the moment it happened. The figure then
        # includes the group commit (up to checkpoints.CHECKPOINT_DELAY) and the broadcast.
        written[event["id"]] = time.perf_counter()
        original(recorder, event)

    def timed_write(recorder, batch, *others):   # (others: the rows written with the events)
        began = time.perf_counter()
        original_write(recorder, batch, *others)
        writes.append((began, time.perf_counter(), len(batch)))

    checkpoints.EventRecorder.__call__ = timed
    checkpoints.EventRecorder._write = timed_write
    try:
        execution = await sync_to_async(executions.start_execution, thread_sensitive=False)(
            user, machine, json.dumps({"n": events}))
        app = ExecutionConsumer.as_asgi()
        clients = []
        for _ in range(watchers):
            client = WebsocketCommunicator(app, f"/ws/executions/{execution.id}/")
            client._output_queue = StampedQueue()   # (the communicator's queue of what the app sends)
            client.scope["user"] = user
            client.scope["url_route"] = {"kwargs": {"execution_id": str(execution.id)}}
            connected, _ = await client.connect()
            assert connected
            await client.send_json_to({"type": "subscribe", "after": 0})
            await client.receive_json_from(timeout=30)   # the catch-up (up to the gate)
            await client.receive_json_from(timeout=30)   # the status
            queue = client._output_queue   # stamps go but those of frames not received yet
            while len(queue.sent) > queue.qsize():
                queue.sent.popleft()
            clients.append(client)
        # The execution waits in its gate Task until every watcher is connected: open it.
        writes.clear()
        released = time.perf_counter()
        await sync_to_async(_release, thread_sensitive=False)(execution.id)
        arrivals: list[float] = []
        last_sent = 0.0

        async def watch(client):
            nonlocal last_sent
            sent = client._output_queue.sent
            while True:
                message = orjson.loads(await client.receive_from(timeout=60))
                now = sent.popleft()
                last_sent = max(last_sent, now)
                if message["type"] == "events":
                    for event in message["events"]:
                        arrivals.append((now - written[event["id"]]) * 1000)
                        if event["type"] == "ExecutionSucceeded":
                            return

        await asyncio.gather(*(watch(c) for c in clients))
        for client in clients:
            await client.disconnect()
        burst = [at for at in written.values() if at > released]
        if not burst or not writes:
            return arrivals, "no event was written after the gate opened"
        stages = (f"{len(burst)} events emitted over {(max(burst) - min(burst)) * 1000:.1f} ms, written in "
                  f"{len(writes)} checkpoint{'s' if len(writes) != 1 else ''} ("
                  + ", ".join(f"{n} in {(ended - began) * 1000:.1f} ms" for began, ended, n in writes)
                  + f"), last frame sent {(last_sent - writes[-1][1]) * 1000:.1f} ms after the last write ended")
        return arrivals, stages
    finally:
        checkpoints.EventRecorder.__call__ = original
        checkpoints.EventRecorder._write = original_write


class StampedQueue(asyncio.Queue):
    """A communicator's output queue that notes when the consumer sent each message: the moment
    it reaches the client's connection, before the benchmark's clients (on the same loop) parse
    anything."""

    def __init__(self):
        super().__init__()
        self.sent: collections.deque[float] = collections.deque()

    def put_nowait(self, item):
        self.sent.append(time.perf_counter())
        super().put_nowait(item)


_gates: dict = {}


def _release(execution_id):
    _gates.setdefault(str(execution_id), threading.Event()).set()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200, help="Pass states per watched execution")
    parser.add_argument("--executions", type=int, default=20, help="W4 executions to persist")
    options, _ = parser.parse_known_args(argv)   # `python -m bench` passes every module the same options
    began_load = _load_average()
    _setup()
    from django.contrib.auth import get_user_model

    from editor.services import executions, executor

    user = get_user_model().objects.create_user("bench")
    # A chain of Pass states after a gate: the gate is a Task the benchmark opens once watchers listen.
    states = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(options.events)}
    states[f"S{options.events}"] = {"Type": "Succeed"}
    chain = _machine(user, "chain", {"StartAt": "Gate", "States": {
        "Gate": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:gate", "Next": "S0"},
        **states}})

    from editor.services import task_invoker
    from runtime.asl import FunctionOutcome

    real = task_invoker.TaskInvoker.invoke_function

    def gated(self, name, payload, **kwargs):
        # Stands in for the gate's function: returns once every watcher listens.
        gate = _gates.setdefault(str(self.execution.id), threading.Event())
        gate.wait(60)
        return FunctionOutcome(payload=payload)

    task_invoker.TaskInvoker.invoke_function = gated
    rows = []
    try:
        for watchers in (1, 50):
            times, stages = asyncio.run(_latency(user, chain, watchers, options.events))
            rows.append((watchers, len(times), statistics.median(times), _percentile(times, 0.99), stages))
    finally:
        task_invoker.TaskInvoker.invoke_function = real

    workload = json.loads(WORKLOAD.read_text())
    w4 = _machine(user, "w4", workload["definition"])
    warm = executions.start_execution(user, w4, json.dumps(workload["input"]))
    executor.get_executor().wait(warm.id)
    began = time.perf_counter()
    started = [executions.start_execution(user, w4, json.dumps(workload["input"]))
               for _ in range(options.executions)]
    for execution in started:
        executor.get_executor().wait(execution.id, timeout=600)
    seconds = time.perf_counter() - began
    from editor.models import Execution, ExecutionEvent

    done = Execution.objects.filter(pk__in=[e.pk for e in started], status="SUCCEEDED").count()
    stored = ExecutionEvent.objects.filter(execution__in=started).count()

    print(f"load average {began_load} at the start, {_load_average()} at the end ({os.cpu_count()} CPUs)")
    print("Event emitted -> stored -> arrival at connected WebSocket clients (in-process ASGI, in-memory layer)")
    print(f"{'watchers':>8} {'arrivals':>9} {'p50 ms':>8} {'p99 ms':>8} {'target p99':>10}")
    for watchers, count, p50, p99, _ in rows:
        print(f"{watchers:>8} {count:>9} {p50:>8.2f} {p99:>8.2f} {'<= ' + str(TARGET_P99_MS):>10}")
    for watchers, *_, stages in rows:
        print(f"  {watchers} watcher{'s' if watchers != 1 else ''}: {stages}")
    print()
    print(f"Persisted executions on SQLite (W4, {workload['transitions']} transitions, every event stored)")
    print(f"{'executions':>10} {'succeeded':>9} {'events':>7} {'seconds':>8} {'exec/s':>7} {'events/s':>9}")
    print(f"{options.executions:>10} {done:>9} {stored:>7} {seconds:>8.2f} {done / seconds:>7.2f} "
          f"{stored / seconds:>9.0f}")
    executor.get_executor().stop(grace=0)
    return 0 if done == options.executions else 1


if __name__ == "__main__":
    sys.exit(main())
