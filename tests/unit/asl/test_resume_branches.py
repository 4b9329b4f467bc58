"""A run cut off inside a Map or a Parallel resumes from the iterations and branches that had
finished: only those that were running run again, from where they stood, and a Task they had in
flight fails with Lambda.ServiceException under its own Retry and Catch, as a top-level Task does."""

from __future__ import annotations

import json
import threading
from collections import Counter

from runtime.asl import FakeClock, FakeInvoker, StateMachine

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"
SERVICE_RETRY = [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 2}]


class Crash(BaseException):
    """The process died: nothing after this event was stored."""


def crash_when(predicate):
    """Returns (sink, stored events): the sink stores events until `predicate` accepts one, then
    stops the run there, storing neither that event nor any later one (from any thread)."""
    stored, crashed = [], threading.Event()
    lock = threading.Lock()

    def sink(event):
        with lock:
            if crashed.is_set() or predicate(event, stored):
                crashed.set()
                raise Crash()
            stored.append(event)
    return sink, stored


class Calls(FakeInvoker):
    """Functions that double their input and count how often each input was seen."""

    def __init__(self):
        self.seen = Counter()
        self.lock = threading.Lock()
        super().__init__({"double": self.double})

    def double(self, event, context):
        with self.lock:
            self.seen[json.dumps(event)] += 1
        return event * 2


def run_until_crash(machine, value, predicate, invoker):
    sink, stored = crash_when(predicate)
    try:
        machine.run(value, invoker=invoker, sink=sink, clock=FakeClock())
    except Crash:
        return stored
    raise AssertionError("the run ended before the crash")


def assert_one_history(result, stored) -> None:
    ids = [e["id"] for e in result.history]
    assert ids == list(range(1, len(ids) + 1))
    assert result.history[:len(stored)] == stored


def map_machine(concurrency: int, retry=SERVICE_RETRY) -> StateMachine:
    task = {"Type": "Task", "Resource": LAMBDA + "double", "End": True}
    if retry:
        task["Retry"] = retry
    return StateMachine({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": concurrency, "End": True,
        "ItemProcessor": {"StartAt": "Double", "States": {"Double": task}}}}})


def iteration_function_started(value):
    """The crash comes while the function called with `value` runs (its Started was stored, its
    result would be the next event of its sequence)."""
    def predicate(event, stored):
        if event["type"] != "LambdaFunctionSucceeded":
            return False
        by_id = {e["id"]: e for e in stored}
        started = by_id.get(event["previousEventId"], {})
        scheduled = by_id.get(started.get("previousEventId"), {})
        return scheduled.get("lambdaFunctionScheduledEventDetails", {}).get("input") == json.dumps(value)
    return predicate


def finished_calls(stored) -> set[str]:
    """Returns the inputs of the function calls whose result was stored."""
    by_id = {e["id"]: e for e in stored}
    return {by_id[by_id[e["previousEventId"]]["previousEventId"]]["lambdaFunctionScheduledEventDetails"]["input"]
            for e in stored if e["type"] == "LambdaFunctionSucceeded"}


def test_a_map_resumes_its_unfinished_iterations_only():
    machine = map_machine(concurrency=1)
    first = Calls()
    stored = run_until_crash(machine, [0, 1, 2, 3, 4], iteration_function_started(3), first)
    assert first.seen == Counter({"0": 1, "1": 1, "2": 1, "3": 1})   # 3 was running

    again = Calls()
    result = machine.run([0, 1, 2, 3, 4], invoker=again, resume_from=stored, clock=FakeClock())

    assert result.status == "SUCCEEDED" and result.output == [0, 2, 4, 6, 8]
    assert again.seen == Counter({"3": 1, "4": 1})       # the finished iterations never ran again
    assert_one_history(result, stored)
    started = Counter(e["mapIterationStartedEventDetails"]["index"] for e in result.history
                      if e["type"] == "MapIterationStarted")
    assert started == Counter({0: 1, 1: 1, 2: 1, 3: 1, 4: 1})
    failed = [e for e in result.history[len(stored):] if e["type"] == "LambdaFunctionFailed"]
    assert [f["lambdaFunctionFailedEventDetails"]["error"] for f in failed] == ["Lambda.ServiceException"]
    # The interrupted iteration's Task went on in its visit: no second Entered.
    entered = [e for e in result.history if e["type"] == "TaskStateEntered"]
    assert len(entered) == 5


def test_an_iteration_whose_task_has_no_retry_fails_the_map_as_the_service_failure_would():
    machine = map_machine(concurrency=1, retry=None)
    stored = run_until_crash(machine, [0, 1, 2], iteration_function_started(1), Calls())

    result = machine.run([0, 1, 2], invoker=Calls(), resume_from=stored, clock=FakeClock())

    assert (result.status, result.error) == ("FAILED", "Lambda.ServiceException")
    assert [e["type"] for e in result.history[len(stored):]][:3] == [
        "LambdaFunctionFailed", "MapIterationFailed", "MapStateFailed"]


def test_concurrent_iterations_resume_each_from_its_own_events():
    machine = map_machine(concurrency=4)
    items = list(range(12))
    first = Calls()
    stored = run_until_crash(machine, items, lambda event, stored: sum(
        e["type"] == "MapIterationSucceeded" for e in stored) >= 5, first)
    finished = finished_calls(stored)
    assert len(finished) >= 5

    again = Calls()
    result = machine.run(items, invoker=again, resume_from=stored, clock=FakeClock())

    assert result.status == "SUCCEEDED" and result.output == [i * 2 for i in items]
    assert not set(again.seen) & finished              # no function whose result was stored ran again
    assert set(again.seen) | finished == {str(i) for i in items}
    assert sum((first.seen + again.seen).values()) <= len(items) + 4   # at most the running ones twice
    assert_one_history(result, stored)


def test_a_parallel_resumes_only_its_unfinished_branches():
    def branch(name, value):
        return {"StartAt": f"{name}0", "States": {
            f"{name}0": {"Type": "Pass", "Result": value, "Next": name},
            name: {"Type": "Task", "Resource": LAMBDA + "double", "Retry": SERVICE_RETRY, "End": True}}}
    machine = StateMachine({"StartAt": "All", "States": {"All": {"Type": "Parallel", "End": True, "Branches": [
        branch("A", 1), branch("B", 2), branch("C", 3)]}}})
    stored = run_until_crash(machine, {}, iteration_function_started(2), Calls())
    finished = finished_calls(stored)

    again = Calls()
    result = machine.run({}, invoker=again, resume_from=stored, clock=FakeClock())

    assert result.status == "SUCCEEDED" and result.output == [2, 4, 6]
    assert again.seen == Counter({value: 1 for value in {"1", "2", "3"} - finished})
    assert again.seen["2"] == 1                       # the one cut off ran again
    assert_one_history(result, stored)
    assert sum(e["type"] == "ParallelStateStarted" for e in result.history) == 1


def test_a_map_inside_a_map_resumes_its_inner_iterations():
    inner = {"StartAt": "Double", "States": {"Double": {
        "Type": "Task", "Resource": LAMBDA + "double", "Retry": SERVICE_RETRY, "End": True}}}
    machine = StateMachine({"StartAt": "Rows", "States": {"Rows": {
        "Type": "Map", "MaxConcurrency": 1, "End": True, "ItemProcessor": {"StartAt": "Cells", "States": {
            "Cells": {"Type": "Map", "MaxConcurrency": 1, "End": True, "ItemProcessor": inner}}}}}})
    rows = [[1, 2], [3, 4, 5], [6]]
    first = Calls()
    stored = run_until_crash(machine, rows, iteration_function_started(4), first)

    again = Calls()
    result = machine.run(rows, invoker=again, resume_from=stored, clock=FakeClock())

    assert result.status == "SUCCEEDED"
    assert result.output == [[2, 4], [6, 8, 10], [12]]
    assert again.seen == Counter({"4": 1, "5": 1, "6": 1})
    assert_one_history(result, stored)


def test_a_map_resumed_twice_finds_the_iterations_its_first_resume_finished():
    # The resumed run's Map goes on from its own last event (not the history's last, which may be
    # an iteration's): what it emits then links to its own events, where a second resume finds it.
    machine = map_machine(concurrency=1)
    items = list(range(6))
    stored = run_until_crash(machine, items, iteration_function_started(1), Calls())
    sink, again = crash_when(iteration_function_started(4))
    try:
        machine.run(items, invoker=Calls(), resume_from=stored, sink=sink, clock=FakeClock())
        raise AssertionError("the resumed run ended before the crash")
    except Crash:
        pass
    finished_by_first_resume = {e["mapIterationSucceededEventDetails"]["index"] for e in again
                                if e["type"] == "MapIterationSucceeded"}
    assert finished_by_first_resume == {1, 2, 3}

    last = Calls()
    result = machine.run(items, invoker=last, resume_from=stored + again, clock=FakeClock())

    assert result.status == "SUCCEEDED" and result.output == [i * 2 for i in items]
    assert last.seen == Counter({"4": 1, "5": 1})
    succeeded = Counter(e["mapIterationSucceededEventDetails"]["index"] for e in result.history
                        if e["type"] == "MapIterationSucceeded")
    assert succeeded == Counter({i: 1 for i in items})
    assert_one_history(result, stored + again)
