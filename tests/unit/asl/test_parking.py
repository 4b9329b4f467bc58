"""Parking inside Parallel branches and Map iterations: when the host asks for it (`park_after`), a
long Wait or a `.waitForTaskToken` Task without its answer stops its branch or iteration where it
stands, holding no thread; its siblings go on until each has ended or parked; then the Map or
Parallel, and the run, raise Parked, due with the earliest of them. A resumed run continues each
parked sequence where it stood, and ends as a run that never parked would. A parked sequence that
comes due while a sibling still works goes on in the same run.

No test sleeps: the runs use a FakeClock, which records every sleep (`clock.slept`) and is moved
on by hand between a park and the resumed run."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta

import pytest

from runtime.asl import (FakeClock, FakeInvoker, FakeTaskTokens, Parked, StateMachine, StatesError, Suspended,
                         ThreadBudget)
from runtime.asl.branches import run_all
from runtime.asl.history import HistoryIndex

ASK = "arn:aws:states:::lambda:invoke.waitForTaskToken"
PARK_AFTER = 60


def wait_for(seconds_path: str = "$.wait", **more) -> dict:
    return {"Type": "Wait", "SecondsPath": seconds_path, **more}


def map_of(processor_states: dict, start_at: str, **map_fields) -> dict:
    return {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": True, **map_fields,
        "ItemProcessor": {"StartAt": start_at, "States": processor_states}}}}


def drive(machine, value, clock, *, on_park=None, limit=30, **seams):
    """Runs `machine` to its end with parking: after each park, moves the clock to when the run is
    due (or lets `on_park(parked, history)` act instead) and resumes it from the events stored so
    far. Returns (the result, each Parked raised, in order)."""
    history: list[dict] = []
    parks: list[Parked] = []
    resume = {}
    for _ in range(limit):
        try:
            result = machine.run(value, clock=clock, sink=history.append, park_after=PARK_AFTER,
                                 **seams, **resume)
        except Parked as parked:
            parks.append(parked)
            if on_park is not None:
                on_park(parked, history)
            else:
                clock.advance(max((parked.until - clock.now()).total_seconds(), 0))
            resume = {"resume_from": list(history)}
            continue
        assert result.history == history   # the sink saw every event, the stored ones included
        return result, parks
    raise AssertionError(f"the run parked {limit} times")


def assert_one_history(result) -> None:
    """Contiguous ids, and every event links to an earlier one."""
    ids = [e["id"] for e in result.history]
    assert ids == list(range(1, len(ids) + 1))
    assert all(e["previousEventId"] < e["id"] for e in result.history)


def last_of_its_sequence(history: list[dict], event: dict) -> bool:
    """Whether nothing of the sequence that emitted `event` came after it (nested sequences
    beginning after it aside)."""
    return HistoryIndex(history).follow(event) == []


def types(history) -> Counter:
    return Counter(e["type"] for e in history)


# -- Parallel ---------------------------------------------------------------------------------

PARALLEL = {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "Next": "After", "Branches": [
    {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Mark"},
                                   "Mark": {"Type": "Pass", "Result": "held", "End": True}}},
    {"StartAt": "Quick", "States": {"Quick": {"Type": "Pass", "Result": "quick", "End": True}}}]},
    "After": {"Type": "Pass", "Parameters": {"both.$": "$"}, "End": True}}}


def test_a_long_wait_in_a_parallel_branch_parks_the_run_and_the_resumed_run_ends_as_an_unparked_one():
    machine = StateMachine(PARALLEL)
    clock = FakeClock()
    history = []
    with pytest.raises(Parked) as parked:
        machine.run({"a": 1}, clock=clock, sink=history.append, park_after=PARK_AFTER)

    assert parked.value.until == clock.now() + timedelta(seconds=3600)
    assert clock.slept == []                                    # nothing held its thread
    entered = next(e for e in history if e["type"] == "WaitStateEntered")
    assert last_of_its_sequence(history, entered)               # the branch stops at its Wait
    seen = types(history)
    assert seen["PassStateExited"] == 1                         # its sibling ran to its end
    assert not {"WaitStateExited", "ParallelStateExited", "ParallelStateFailed"} & set(seen)
    assert not any(t.startswith("Execution") for t in seen if t != "ExecutionStarted")

    clock.advance(3600)
    resumed = machine.run({"a": 1}, clock=clock, resume_from=history, park_after=PARK_AFTER)

    unparked = machine.run({"a": 1}, clock=FakeClock())
    assert resumed.status == "SUCCEEDED"
    assert resumed.output == unparked.output == {"both": ["held", "quick"]}
    assert resumed.history[:len(history)] == history
    assert_one_history(resumed)
    assert types(resumed.history) == types(unparked.history)    # each state entered once
    assert clock.slept == [0]                                   # the Wait had nothing left to wait


def test_a_resumed_wait_parks_again_while_what_is_left_is_long_and_sleeps_once_it_is_short():
    machine = StateMachine(PARALLEL)
    clock = FakeClock()
    history = []
    with pytest.raises(Parked):
        machine.run({}, clock=clock, sink=history.append, park_after=PARK_AFTER)

    clock.advance(1000)      # 2600 s left: still long
    with pytest.raises(Parked) as again:
        machine.run({}, clock=clock, sink=history.append, resume_from=list(history), park_after=PARK_AFTER)
    assert again.value.until == clock.now() + timedelta(seconds=2600)
    assert clock.slept == []

    clock.advance(2590)      # 10 s left: shorter than park_after, so it sleeps them
    result = machine.run({}, clock=clock, resume_from=list(history), park_after=PARK_AFTER)
    assert result.status == "SUCCEEDED" and result.output == {"both": ["held", "quick"]}
    assert clock.slept == [pytest.approx(10, abs=0.01)]
    assert_one_history(result)


# -- Map: Waits ----------------------------------------------------------------------------------

WAITS = map_of({"Hold": wait_for(Next="Done"),
                "Done": {"Type": "Pass", "Parameters": {"done.$": "$.n"}, "End": True}}, "Hold")


def test_a_map_of_long_waits_parks_once_every_iteration_has_parked_holding_no_thread():
    machine = StateMachine(WAITS)
    clock = FakeClock()
    items = [{"n": n, "wait": 600 + 100 * n} for n in range(8)]
    budget = ThreadBudget(4)
    threads_before = threading.active_count()
    history = []
    with pytest.raises(Parked) as parked:
        machine.run(items, clock=clock, sink=history.append, park_after=PARK_AFTER, threads=budget)

    assert clock.slept == []                                     # no Wait slept
    assert budget.in_use == 0                                    # every helper thread given back
    assert threading.active_count() == threads_before
    assert parked.value.until == clock.now() + timedelta(seconds=600)   # the earliest of them
    waits = [e for e in history if e["type"] == "WaitStateEntered"]
    assert len(waits) == 8 and all(last_of_its_sequence(history, e) for e in waits)
    assert not {"MapIterationSucceeded", "MapIterationFailed", "MapStateSucceeded"} & set(types(history))


def test_a_parked_map_resumes_each_iteration_where_it_stood_until_all_are_done():
    machine = StateMachine(WAITS)
    items = [{"n": n, "wait": 600 + 100 * n} for n in range(5)]
    clock = FakeClock()
    result, parks = drive(machine, items, clock)

    unparked = machine.run(items, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert result.output == unparked.output == [{"done": n} for n in range(5)]
    # Each resumed run finds one iteration due (nothing left to wait) and parks on the others.
    assert [p.until - parks[0].until for p in parks] == [timedelta(seconds=100 * n) for n in range(5)]
    assert all(seconds == 0 for seconds in clock.slept)
    assert_one_history(result)
    seen = types(result.history)
    assert seen == types(unparked.history)                       # no iteration began or ran twice
    assert seen["MapIterationStarted"] == seen["MapIterationSucceeded"] == 5


def test_parked_iterations_count_against_max_concurrency():
    machine = StateMachine(map_of({"Hold": wait_for(End=True)}, "Hold", MaxConcurrency=2))
    items = [{"wait": 3600} for _ in range(5)]
    clock = FakeClock()
    begun = []

    def on_park(parked, history):
        begun.append(sum(e["type"] == "MapIterationStarted" for e in history))
        clock.advance(3600)
    result, parks = drive(machine, items, clock, on_park=on_park)

    # Two iterations wait at once, as without parking: each park adds at most two more.
    assert begun == [2, 4, 5]
    assert result.status == "SUCCEEDED" and result.output == items
    assert_one_history(result)


def test_a_short_wait_inside_a_map_still_sleeps():
    machine = StateMachine(WAITS)
    clock = FakeClock()
    items = [{"n": n, "wait": 5} for n in range(3)]
    result = machine.run(items, clock=clock, park_after=PARK_AFTER)
    assert result.status == "SUCCEEDED" and result.output == [{"done": n} for n in range(3)]
    assert clock.slept == [5, 5, 5]


def test_a_distributed_map_does_not_park_its_waits():
    definition = map_of({"Hold": wait_for(End=True)}, "Hold")
    definition["States"]["Each"]["ItemProcessor"]["ProcessorConfig"] = {
        "Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    clock = FakeClock()
    result = StateMachine(definition).run([{"wait": 3600}], clock=clock, park_after=PARK_AFTER)
    assert result.status == "SUCCEEDED" and clock.slept == [3600]


# -- Map: callback Tasks -------------------------------------------------------------------------

def asking_map(**task) -> StateMachine:
    return StateMachine(map_of({"Ask": {
        "Type": "Task", "Resource": ASK, "End": True, **task,
        "Parameters": {"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token", "n.$": "$.n"}}}},
        "Ask"))


class Workers:
    """The function that hands each token out: it notes them by item and answers none."""

    def __init__(self, clock):
        self.tokens = FakeTaskTokens(clock)
        self.handed: dict[int, str] = {}
        self.calls = 0
        self.invoker = self.tokens.attach(FakeInvoker({"worker": self.worker}))

    def worker(self, event, context):
        self.calls += 1
        self.handed[event["n"]] = event["token"]
        return {"queued": event["n"]}


def test_callback_tasks_in_a_map_park_and_the_resumed_runs_take_the_answers_that_came():
    clock = FakeClock()
    workers = Workers(clock)
    machine = asking_map(TimeoutSeconds=3600, HeartbeatSeconds=900)
    items = [{"n": n} for n in range(3)]
    answered = []
    start = clock.now()

    def on_park(parked, history):
        # Each Task parks with its own deadline, as at the top level: here its heartbeat's.
        assert parked.until == start + timedelta(seconds=900)
        submitted = {json.loads(e["taskSubmittedEventDetails"]["output"])["Payload"]["queued"]: e
                     for e in history if e["type"] == "TaskSubmitted"}
        assert len(submitted) == 3
        assert all(last_of_its_sequence(history, e) for n, e in submitted.items() if n not in answered)
        # One answer per park: the resumed run takes it and parks again on the others.
        n = len(answered)
        workers.tokens.succeed(workers.handed[n], {"approved": n})
        answered.append(n)
        clock.advance(60)
    result, parks = drive(machine, items, clock, on_park=on_park, invoker=workers.invoker)

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [{"approved": n} for n in range(3)]
    assert len(parks) == 3
    assert workers.calls == 3                                    # no function ran twice
    assert clock.slept == []
    assert_one_history(result)
    seen = types(result.history)
    assert seen["TaskStateEntered"] == seen["TaskSubmitted"] == seen["TaskSucceeded"] == 3
    assert seen["MapIterationStarted"] == seen["MapIterationSucceeded"] == 3


def test_an_unanswered_parked_task_times_out_when_the_resumed_run_finds_its_deadline_passed():
    clock = FakeClock()
    workers = Workers(clock)
    machine = asking_map(TimeoutSeconds=300)
    result, parks = drive(machine, [{"n": 0}, {"n": 1}], clock, invoker=workers.invoker)
    assert [p.until - parks[0].until for p in parks] == [timedelta(0)]
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert types(result.history)["TaskTimedOut"] >= 1


def test_a_sibling_failing_while_others_are_parked_fails_the_map_with_its_error():
    clock = FakeClock()
    workers = Workers(clock)
    machine = StateMachine(map_of({
        "Route": {"Type": "Choice", "Default": "Boom", "Choices": [
            {"Variable": "$.kind", "StringEquals": "ask", "Next": "Ask"},
            {"Variable": "$.kind", "StringEquals": "wait", "Next": "Hold"}]},
        "Ask": {"Type": "Task", "Resource": ASK, "End": True,
                "Parameters": {"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token", "n": 0}}},
        "Hold": {"Type": "Wait", "Seconds": 3600, "End": True},
        "Boom": {"Type": "Fail", "Error": "Sibling.Failed", "Cause": "on purpose"}}, "Route"))

    result = machine.run([{"kind": "ask"}, {"kind": "wait"}, {"kind": "boom"}], clock=clock,
                         invoker=workers.invoker, park_after=PARK_AFTER)

    assert (result.status, result.error, result.cause) == ("FAILED", "Sibling.Failed", "on purpose")
    assert clock.slept == []
    seen = types(result.history)
    assert seen["MapIterationFailed"] == 1 and seen["MapStateFailed"] == 1
    assert seen["MapIterationSucceeded"] == 0 and seen["WaitStateExited"] == 0
    # The parked Task is not continued: its token takes no answer any more.
    assert workers.tokens.tokens[workers.handed[0]].closed
    with pytest.raises(ValueError):
        workers.tokens.succeed(workers.handed[0], "too late")


# -- nesting -------------------------------------------------------------------------------------

def test_a_map_inside_a_parallel_parks_and_resumes_at_every_depth():
    rows = map_of({"Cells": {"Type": "Map", "ItemsPath": "$.cells", "End": True,
                             "ItemProcessor": {"StartAt": "Hold", "States": {
                                 "Hold": wait_for(Next="Out"),
                                 "Out": {"Type": "Pass", "InputPath": "$.wait", "End": True}}}}}, "Cells")
    definition = {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Each", "States": rows["States"]},
        {"StartAt": "Rest", "States": {"Rest": {"Type": "Wait", "Seconds": 5000, "End": True}}},
        {"StartAt": "Quick", "States": {"Quick": {"Type": "Pass", "Result": "quick", "End": True}}}]}}}
    machine = StateMachine(definition)
    value = [{"cells": [{"wait": 700}, {"wait": 3}]}, {"cells": [{"wait": 1200}]}]
    clock = FakeClock()
    start = clock.now()
    result, parks = drive(machine, value, clock)

    unparked = machine.run(value, clock=FakeClock())
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == unparked.output == [[[700, 3], [1200]], value, "quick"]
    # (The fake clock's time is the run's: a sibling entering its Wait after the short one slept
    # enters it 3 s later.)
    due = [(p.until - start).total_seconds() for p in parks]
    assert [d in (s, s + 3) for d, s in zip(due, (700, 1200, 5000))] == [True] * 3, due
    assert sorted(clock.slept) == [0, 0, 0, 3]   # the short Wait slept; the long ones, nothing left
    assert_one_history(result)
    assert types(result.history) == types(unparked.history)


def test_with_no_helper_thread_at_all_the_runs_own_thread_parks_every_iteration_in_turn():
    # A parked iteration frees its thread at once: the one thread the run has enters every Wait.
    machine = StateMachine(WAITS)
    clock = FakeClock()
    history = []
    with pytest.raises(Parked):
        machine.run([{"n": n, "wait": 3600} for n in range(5)], clock=clock, sink=history.append,
                    park_after=PARK_AFTER, threads=ThreadBudget(0))
    assert types(history)["WaitStateEntered"] == 5 and clock.slept == []


# -- run_all's own rules -------------------------------------------------------------------------

def parks(moment, closed: list, name: str):
    def job():
        raise Parked(moment, abandon=(lambda: closed.append(name),))
    return job


def test_a_failure_beside_parked_jobs_is_raised_and_abandons_them_but_a_suspension_keeps_them():
    moment = FakeClock().now()

    def fails():
        raise StatesError("boom", "Boom")

    def suspends():
        raise Suspended()
    closed: list[str] = []
    with pytest.raises(StatesError) as failure:
        run_all([parks(moment, closed, "a"), parks(moment, closed, "b"), fails], True, 3, ThreadBudget(2))
    assert failure.value.error == "Boom" and sorted(closed) == ["a", "b"]

    closed.clear()
    with pytest.raises(Suspended):
        run_all([parks(moment, closed, "a"), parks(moment, closed, "b"), suspends], True, 3, ThreadBudget(2))
    assert closed == []     # the run resumes them later

    with pytest.raises(Parked) as parked:
        run_all([parks(moment + timedelta(seconds=9), closed, "a"), lambda: 1,
                 parks(moment + timedelta(seconds=3), closed, "b")], True, 3, ThreadBudget(2))
    assert parked.value.until == moment + timedelta(seconds=3) and closed == []
    assert len(parked.value.abandon) == 2


# -- a parked job beside a sibling still at work -----------------------------------------------
# The run cannot park while a sibling works (a Task runs its function): a parked branch or
# iteration is called again once due (or, waiting for an answer, every RECHECK_SECONDS) and
# goes on where it stood, as in AWS, instead of waiting for its siblings' end.

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:"
ANSWER_WAIT = 30   # seconds a test waits for the engine's threads (never reached when it works)


class Busy:
    """A function that works until the test lets it end, noting when it began."""

    def __init__(self):
        self.begun, self.release = threading.Event(), threading.Event()

    def __call__(self, event, context):
        self.begun.set()
        assert self.release.wait(ANSWER_WAIT), "the test never let the function end"
        return "worked"


def run_in_thread(machine, value, **options):
    """Starts machine.run in a thread; returns (the thread, a dict that gets 'result' or 'error')."""
    outcome = {}

    def run():
        try:
            outcome["result"] = machine.run(value, **options)
        except BaseException as exc:   # (Parked among others: the test says what it expected)
            outcome["error"] = exc
    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def seen_by(sink_events: list, wanted):
    """A sink that keeps every event and sets `wanted[type]` (an Event) when one of that type comes."""
    def sink(event):
        sink_events.append(event)
        if event["type"] in wanted:
            wanted[event["type"]].set()
    return sink


def test_a_wait_beside_a_working_branch_ends_when_due_not_when_the_branch_ends():
    clock = FakeClock()
    due = clock.now() + timedelta(seconds=3600)
    busy = Busy()
    machine = StateMachine({"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Hold", "States": {
            "Hold": {"Type": "Wait", "Timestamp": due.strftime("%Y-%m-%dT%H:%M:%SZ"), "Next": "Mark"},
            "Mark": {"Type": "Pass", "Result": "held", "End": True}}},
        {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": FUNCTION + "busy", "End": True}}}]}}})
    events: list[dict] = []
    marks = {"WaitStateEntered": threading.Event(), "PassStateExited": threading.Event()}
    thread, outcome = run_in_thread(machine, {}, clock=clock, sink=seen_by(events, marks), park_after=PARK_AFTER,
                                    invoker=FakeInvoker({"busy": busy}))
    try:
        assert marks["WaitStateEntered"].wait(ANSWER_WAIT) and busy.begun.wait(ANSWER_WAIT)
        clock.advance(3600)
        # The Wait's branch goes on while the other branch's function still works.
        assert marks["PassStateExited"].wait(ANSWER_WAIT)
        assert not busy.release.is_set() and thread.is_alive()
    finally:
        busy.release.set()
        thread.join(ANSWER_WAIT)
    result = outcome["result"]                 # it never parked: nothing was left to wait for
    assert result.status == "SUCCEEDED" and result.output == ["held", "worked"]
    assert all(seconds == 0 for seconds in clock.slept)     # called again when due: nothing left to wait
    assert_one_history(result)
    seen = types(result.history)
    assert seen["WaitStateEntered"] == seen["WaitStateExited"] == 1


def test_a_callback_task_beside_a_working_iteration_takes_its_answer_while_the_other_works():
    clock = FakeClock()
    busy = Busy()
    tokens = FakeTaskTokens(clock)
    handed = {}

    def ask(event, context):
        handed["token"] = event["token"]
        return "queued"
    definition = map_of({
        "Which": {"Type": "Choice", "Choices": [{"Variable": "$.ask", "BooleanEquals": True, "Next": "Ask"}],
                  "Default": "Work"},
        "Ask": {"Type": "Task", "Resource": ASK, "End": True,
                "Parameters": {"FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token"}}},
        "Work": {"Type": "Task", "Resource": FUNCTION + "busy", "End": True}}, "Which", MaxConcurrency=2)
    events: list[dict] = []
    marks = {"TaskSubmitted": threading.Event(), "TaskSucceeded": threading.Event()}
    thread, outcome = run_in_thread(
        StateMachine(definition), [{"ask": True}, {"ask": False}], clock=clock, sink=seen_by(events, marks),
        park_after=PARK_AFTER, invoker=tokens.attach(FakeInvoker({"ask": ask, "busy": busy})))
    try:
        assert marks["TaskSubmitted"].wait(ANSWER_WAIT) and busy.begun.wait(ANSWER_WAIT)
        tokens.succeed(handed["token"], {"approved": True})
        # The parked iteration is looked at again while the other works, and takes its answer.
        assert marks["TaskSucceeded"].wait(ANSWER_WAIT)
        assert not busy.release.is_set() and thread.is_alive()
    finally:
        busy.release.set()
        thread.join(ANSWER_WAIT)
    result = outcome["result"]
    assert result.status == "SUCCEEDED" and result.output == [{"approved": True}, "worked"]
    assert_one_history(result)
    seen = types(result.history)
    assert seen["TaskSubmitted"] == seen["TaskSucceeded"] == 1 and seen["MapIterationSucceeded"] == 2


def test_run_all_calls_a_parked_job_again_once_due_while_another_works():
    clock = FakeClock()
    moment = clock.now() + timedelta(seconds=10)
    calls, parked_once, again = [], threading.Event(), threading.Event()
    release = threading.Event()

    def waits():
        calls.append("waits")
        if len(calls) == 1:
            parked_once.set()
            raise Parked(moment)
        again.set()
        return "due"

    def works():
        assert release.wait(ANSWER_WAIT)
        return "worked"
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault(
        "results", run_all([waits, works], True, 2, ThreadBudget(2), now=clock.now)))
    thread.start()
    try:
        assert parked_once.wait(ANSWER_WAIT)
        assert not again.is_set()            # not due yet
        clock.advance(10)
        assert again.wait(ANSWER_WAIT)       # due: called again while `works` still works
    finally:
        release.set()
        thread.join(ANSWER_WAIT)
    assert outcome["results"] == ["due", "worked"] and calls == ["waits", "waits"]


def test_run_all_parks_when_the_job_that_worked_ends_before_the_parked_one_is_due():
    clock = FakeClock()
    moment = clock.now() + timedelta(seconds=10)
    release = threading.Event()

    def waits():
        release.set()
        raise Parked(moment)

    def works():
        assert release.wait(ANSWER_WAIT)
        return "worked"
    budget = ThreadBudget(2)
    with pytest.raises(Parked) as parked:
        run_all([waits, works], True, 2, budget, now=clock.now)
    assert parked.value.until == moment and budget.in_use == 0
