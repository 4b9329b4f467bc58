"""Maps and Parallels run on a bounded number of threads, and a run can be suspended and resumed."""

from __future__ import annotations

import threading

import pytest

from runtime.asl import Clock, FakeInvoker, StateMachine, Suspended, ThreadBudget
from runtime.asl.branches import DEFAULT_RUN_THREADS

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"


def nested_maps(width: int) -> dict:
    """A Map of `width` items whose iterations each run a Map of `width` function calls."""
    inner = {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": LAMBDA + "record", "End": True}}}
    outer = {"StartAt": "Inner", "States": {"Inner": {
        "Type": "Map", "MaxConcurrency": width, "ItemsPath": "$.row", "ItemProcessor": inner, "End": True}}}
    return {"StartAt": "Outer", "States": {"Outer": {
        "Type": "Map", "MaxConcurrency": width, "ItemProcessor": outer, "End": True}}}


class ThreadRecorder(FakeInvoker):
    """A function that notes which threads ran it and how many threads the process had then."""

    def __init__(self):
        self.threads = set()
        self.peak = 0
        self.lock = threading.Lock()
        super().__init__({"record": self.record})

    def record(self, event, context):
        with self.lock:
            self.threads.add(threading.get_ident())
            self.peak = max(self.peak, threading.active_count())
        return event


def rows(width: int) -> list:
    return [{"row": list(range(width))} for _ in range(width)]


class WatchedBudget(ThreadBudget):
    """A budget that remembers the most helpers it had out at once."""

    peak = 0

    def try_take(self) -> bool:
        taken = super().try_take()
        self.peak = max(self.peak, self.in_use)
        return taken


def test_nested_maps_never_hold_more_helper_threads_than_the_budget():
    invoker = ThreadRecorder()
    before = threading.active_count()

    budget = WatchedBudget(5)

    result = StateMachine(nested_maps(30)).run(rows(30), invoker=invoker, threads=budget)

    assert result.status == "SUCCEEDED"
    assert result.output == [list(range(30))] * 30
    assert budget.peak == 5 and budget.in_use == 0
    assert invoker.peak <= before + 5                # the run's own thread and five helpers


def test_without_a_budget_a_run_holds_at_most_the_default_number_of_helpers():
    invoker = ThreadRecorder()
    before = threading.active_count()

    result = StateMachine(nested_maps(45)).run(rows(45), invoker=invoker)

    assert result.status == "SUCCEEDED"
    assert 1 < invoker.peak - before <= DEFAULT_RUN_THREADS


def test_a_spent_budget_runs_every_iteration_on_the_runs_own_thread():
    invoker = ThreadRecorder()
    spent = ThreadBudget(0)

    result = StateMachine(nested_maps(4)).run(rows(4), invoker=invoker, threads=spent)

    assert result.output == [list(range(4))] * 4
    assert invoker.threads == {threading.get_ident()}


def test_runs_sharing_a_parent_budget_hold_no_more_helpers_together_than_it_allows():
    user = WatchedBudget(4)
    invokers = [ThreadRecorder() for _ in range(3)]
    machine = StateMachine(nested_maps(10))
    results = [None] * 3

    def run(index):
        results[index] = machine.run(rows(10), invoker=invokers[index],
                                     threads=ThreadBudget(40, parent=user))
    runners = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()

    assert [r.status for r in results] == ["SUCCEEDED"] * 3
    assert user.peak == 4              # the runs wanted more, and got no more than it allows
    assert user.in_use == 0


def test_a_budget_gives_back_what_it_took_from_its_parent():
    parent = ThreadBudget(2)
    child = ThreadBudget(5, parent=parent)

    assert child.try_take() and child.try_take()
    assert not child.try_take()          # the parent is spent
    assert child.in_use == 2
    child.give_back()
    assert parent.in_use == 1 and parent.try_take()


# -- suspending a run: the host goes away, the execution goes on later ---------------------------------


def suspend_when(run_events: dict):
    """Returns (sink, events list): the sink suspends the run as soon as it sees an event that
    `run_events["when"]` accepts."""
    history = []

    def sink(event):
        history.append(event)
        if run_events["when"](event):
            run_events["suspend"].set()
            run_events["cancel"].set()
    return sink, history


def switches(when):
    return {"when": when, "suspend": threading.Event(), "cancel": threading.Event()}


def assert_one_history(first: list, resumed) -> None:
    """The resumed run's history continues the first one's: contiguous ids, each state entered once."""
    ids = [e["id"] for e in resumed.history]
    assert ids == list(range(1, len(ids) + 1))
    assert resumed.history[:len(first)] == first
    entered = [(e["id"], e["stateEnteredEventDetails"]["name"]) for e in resumed.history
               if e["type"].endswith("StateEntered")]
    assert len({name for _, name in entered}) == len(entered), entered


def test_a_run_suspended_in_a_wait_stops_there_and_resumes_waiting_only_what_is_left():
    definition = {"StartAt": "Hold", "States": {
        "Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": "done", "End": True}}}
    machine = StateMachine(definition)
    control = switches(lambda e: e["type"] == "WaitStateEntered")
    sink, history = suspend_when(control)

    with pytest.raises(Suspended):
        machine.run({}, clock=Clock(), sink=sink, cancel=control["cancel"], suspend=control["suspend"])

    assert [e["type"] for e in history] == ["ExecutionStarted", "WaitStateEntered"]
    from runtime.asl import FakeClock
    clock = FakeClock()
    resumed = machine.run({}, clock=clock, resume_from=history)
    assert resumed.status == "SUCCEEDED" and resumed.output == "done"
    assert_one_history(history, resumed)


def test_a_run_suspended_while_a_task_runs_keeps_the_tasks_result_and_goes_on_after_it():
    calls = []
    control = switches(lambda e: False)

    def work(event, context):
        calls.append(event)
        control["suspend"].set()
        control["cancel"].set()
        return {"worked": event["n"]}
    definition = {"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": LAMBDA + "work", "Next": "After"},
        "After": {"Type": "Pass", "End": True}}}
    machine = StateMachine(definition)
    sink, history = suspend_when(control)

    with pytest.raises(Suspended):
        machine.run({"n": 1}, invoker=FakeInvoker({"work": work}), sink=sink, cancel=control["cancel"],
                    suspend=control["suspend"])

    assert history[-1]["type"] == "TaskStateExited"
    resumed = machine.run({"n": 1}, invoker=FakeInvoker({"work": work}), resume_from=history)
    assert resumed.output == {"worked": 1}
    assert calls == [{"n": 1}]               # the function ran once
    assert_one_history(history, resumed)


def test_a_suspended_map_starts_no_more_iterations_and_emits_no_failure():
    started = []
    control = switches(lambda e: e["type"] == "MapIterationStarted" and e["mapIterationStartedEventDetails"]["index"] == 2)
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": 1, "End": True, "ItemProcessor": {"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": LAMBDA + "call", "End": True}}}}}}
    invoker = FakeInvoker({"call": lambda event, context: started.append(event) or event})
    sink, history = suspend_when(control)

    with pytest.raises(Suspended):
        StateMachine(definition).run(list(range(6)), invoker=invoker, sink=sink, cancel=control["cancel"],
                                     suspend=control["suspend"])

    types = [e["type"] for e in history]
    assert "MapIterationFailed" not in types and "MapStateFailed" not in types
    assert not any(t.startswith("Execution") and t != "ExecutionStarted" for t in types)
    assert started == [0, 1]


def test_a_suspended_parallel_never_begins_a_branch_it_had_not_begun():
    control = switches(lambda e: e["type"] == "PassStateExited" and e["stateExitedEventDetails"]["name"] == "A")
    definition = {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]}}}
    sink, history = suspend_when(control)

    with pytest.raises(Suspended):
        StateMachine(definition).run({}, sink=sink, cancel=control["cancel"], suspend=control["suspend"])

    names = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"] == "PassStateEntered"]
    assert names == ["A"]
    assert "ParallelStateExited" not in [e["type"] for e in history]


def test_cancel_alone_still_aborts_the_execution():
    definition = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    cancel = threading.Event()

    def sink(event):
        if event["type"] == "WaitStateEntered":
            cancel.set()

    result = StateMachine(definition).run({}, clock=Clock(), sink=sink, cancel=cancel)

    assert result.status == "ABORTED"
    assert result.history[-1]["type"] == "ExecutionAborted"
