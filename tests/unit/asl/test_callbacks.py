"""Task tokens in the engine: `.waitForTaskToken` on lambda:invoke and the nested executions of
states:startExecution, with a fake clock (deadlines pass at once) and in-memory tokens."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from runtime.asl import FakeClock, FakeInvoker, FakeTaskTokens, Parked, StateMachine

WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def callback_machine(**task) -> StateMachine:
    return StateMachine({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": WAIT, "End": True,
        "Parameters": {"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token", "job.$": "$.job"}},
        **task}}})


def run(machine, functions, tokens: FakeTaskTokens, clock, input_value=None, **kwargs):
    invoker = tokens.attach(FakeInvoker(functions))
    return machine.run(input_value if input_value is not None else {"job": 7}, invoker=invoker, clock=clock,
                       **kwargs), invoker


def types(result) -> list[str]:
    return types_of(result.history)


def types_of(events) -> list[str]:
    return [event["type"] for event in events]


def test_the_function_gets_the_token_and_the_answer_is_the_tasks_result():
    clock = FakeClock()
    tokens = FakeTaskTokens(clock)
    seen = {}

    def worker(event, context):
        seen.update(event)
        tokens.succeed(event["token"], {"approved": True, "job": event["job"]})
        return {"queued": True}

    result, invoker = run(callback_machine(), {"worker": worker}, tokens, clock)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"approved": True, "job": 7}
    assert seen["token"] in tokens.tokens
    assert types(result)[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    submitted = result.history[4]["taskSubmittedEventDetails"]
    assert json.loads(submitted["output"])["Payload"] == {"queued": True}
    assert submitted["resource"] == "invoke.waitForTaskToken"


def test_an_answer_from_another_thread_wakes_a_task_waiting_without_a_deadline():
    clock = FakeClock()
    tokens = FakeTaskTokens(clock)
    handed = threading.Event()
    box = {}

    def worker(event, context):
        box["token"] = event["token"]
        handed.set()
        return None

    def answer():
        handed.wait(10)
        tokens.fail(box["token"], "Rejected", "the reviewer said no")

    thread = threading.Thread(target=answer)
    thread.start()
    result, _ = run(callback_machine(), {"worker": worker}, tokens, clock)
    thread.join()
    assert result.status == "FAILED"
    assert (result.error, result.cause) == ("Rejected", "the reviewer said no")
    failed = result.history[-2]
    assert failed["type"] == "TaskFailed"
    assert failed["taskFailedEventDetails"]["error"] == "Rejected"


def test_a_task_without_an_answer_times_out_with_states_timeout():
    clock = FakeClock()
    tokens = FakeTaskTokens(clock)
    start = clock.now()
    result, _ = run(callback_machine(TimeoutSeconds=30), {"worker": lambda e, c: None}, tokens, clock)
    assert result.status == "FAILED"
    assert result.error == "States.Timeout"
    timed_out = next(e for e in result.history if e["type"] == "TaskTimedOut")
    assert timed_out["taskTimedOutEventDetails"]["error"] == "States.Timeout"
    assert clock.now() - start == timedelta(seconds=30)


def test_a_task_without_a_heartbeat_times_out_with_states_heartbeat_timeout_and_is_caught():
    clock = FakeClock()
    tokens = FakeTaskTokens(clock)
    machine = StateMachine({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": WAIT, "HeartbeatSeconds": 5, "TimeoutSeconds": 600,
                "Parameters": {"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token"}},
                "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Late"}], "End": True},
        "Late": {"Type": "Pass", "End": True}}})
    result, _ = run(machine, {"worker": lambda e, c: None}, tokens, clock)
    assert result.status == "SUCCEEDED"
    assert result.output["Error"] == "States.HeartbeatTimeout"
    timed_out = next(e for e in result.history if e["type"] == "TaskTimedOut")
    assert timed_out["taskTimedOutEventDetails"]["error"] == "States.HeartbeatTimeout"


def test_heartbeats_keep_a_task_alive_past_its_heartbeat_seconds():
    clock = FakeClock()
    start = clock.now()
    rounds = []

    def on_wait(tokens, token):
        # Each time the engine waits, 4 of the 5 heartbeat seconds pass and a heartbeat comes;
        # the third time the answer comes.
        rounds.append(token)
        clock.advance(4)
        if len(rounds) < 3:
            tokens.heartbeat(token)
        else:
            tokens.succeed(token, {"done": len(rounds)})

    tokens = FakeTaskTokens(clock, on_wait=on_wait)
    result, _ = run(callback_machine(HeartbeatSeconds=5), {"worker": lambda e, c: None}, tokens, clock)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"done": 3}
    assert clock.now() - start == timedelta(seconds=12)


def test_a_failed_function_call_closes_the_token_and_retries_with_a_new_one():
    clock = FakeClock()
    tokens = FakeTaskTokens(clock)
    calls = []

    def worker(event, context):
        calls.append(event["token"])
        if len(calls) == 1:
            raise RuntimeError("busy")
        tokens.succeed(event["token"], "ok")

    machine = callback_machine(Retry=[{"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 1}])
    result, _ = run(machine, {"worker": worker}, tokens, clock)
    assert result.status == "SUCCEEDED"
    assert result.output == "ok"
    assert len(set(calls)) == 2
    assert tokens.tokens[calls[0]].closed
    with pytest.raises(ValueError):
        tokens.succeed(calls[0], "too late")


def test_a_top_level_task_parks_and_a_resumed_run_takes_the_answer():
    clock = FakeClock()
    tokens = FakeTaskTokens(clock)
    box = {}

    def worker(event, context):
        box["token"] = event["token"]

    events = []
    with pytest.raises(Parked) as parked:
        run(callback_machine(TimeoutSeconds=3600), {"worker": worker}, tokens, clock, sink=events.append,
            park_after=60)
    assert parked.value.until == clock.now() + timedelta(seconds=3600)
    assert events[-1]["type"] == "TaskSubmitted"
    tokens.succeed(box["token"], {"answer": 42})
    result, _ = run(callback_machine(TimeoutSeconds=3600), {"worker": worker}, tokens, clock,
                    resume_from=events, park_after=60)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"answer": 42}
    assert [e["type"] for e in result.history[len(events):]] == [
        "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]


def test_a_task_inside_a_parallel_branch_parks_and_a_resumed_run_takes_the_answer():
    clock = FakeClock()
    tokens = FakeTaskTokens(clock)
    handed = {}

    def worker(event, context):
        handed[event["n"]] = event["token"]

    machine = StateMachine({"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": f"Ask{n}", "States": {f"Ask{n}": {
            "Type": "Task", "Resource": WAIT, "End": True, "TimeoutSeconds": 600 * n,
            "Parameters": {"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token", "n": n}}}}}
        for n in (1, 2)]}}})
    events = []
    with pytest.raises(Parked) as parked:
        run(machine, {"worker": worker}, tokens, clock, sink=events.append, park_after=0)
    # Both branches wait, holding no thread; the run is due with the first deadline.
    assert parked.value.until == clock.now() + timedelta(seconds=600)
    assert sorted(handed) == [1, 2] and clock.slept == []
    assert types_of(events).count("TaskSubmitted") == 2 and "ParallelStateExited" not in types_of(events)
    for n in (1, 2):
        tokens.succeed(handed[n], n * 10)
    result, _ = run(machine, {"worker": worker}, tokens, clock, resume_from=events, park_after=0)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [10, 20]
    assert [e["id"] for e in result.history] == list(range(1, len(result.history) + 1))


def test_the_token_is_in_jsonatas_context_too():
    clock = FakeClock()
    tokens = FakeTaskTokens(clock)

    def worker(event, context):
        tokens.succeed(event["t"], {"ok": 1})

    machine = StateMachine({"QueryLanguage": "JSONata", "StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": WAIT, "End": True,
        "Arguments": {"FunctionName": "worker", "Payload": {"t": "{% $states.context.Task.Token %}"}}}}})
    result, _ = run(machine, {"worker": worker}, tokens, clock)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"ok": 1}


# -- nested executions ------------------------------------------------------------------------

CHILD_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:child"


def nested(pattern: str, **extra) -> StateMachine:
    return StateMachine({"StartAt": "Child", "States": {"Child": {
        "Type": "Task", "Resource": f"arn:aws:states:::states:startExecution{pattern}", "End": True,
        "Parameters": {"StateMachineArn": CHILD_ARN, "Input": {"n.$": "$.n"}, **extra}}}})


def test_fire_and_forget_returns_the_start_response():
    clock = FakeClock()
    tokens = FakeTaskTokens(clock, start_execution=lambda parameters, token, sync: {
        "ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:child:one", "StartDate": 1})
    result, _ = run(nested(""), {}, tokens, clock, {"n": 3})
    assert result.status == "SUCCEEDED"
    assert result.output["ExecutionArn"].endswith(":child:one")
    assert tokens.started[0]["parameters"]["Input"] == {"n": 3}
    assert tokens.started[0]["token"] is None
    assert "TaskSubmitted" not in types(result)


@pytest.mark.parametrize("pattern, parsed", [(".sync", False), (".sync:2", True)])
def test_sync_waits_for_the_child_and_gives_its_description(pattern, parsed):
    clock = FakeClock()

    def start(parameters, token, sync):
        assert sync
        description = {"ExecutionArn": "arn:child", "Status": "SUCCEEDED", "Input": json.dumps(parameters["Input"]),
                       "Output": json.dumps({"doubled": parameters["Input"]["n"] * 2})}
        tokens.succeed(token, description)
        return {"ExecutionArn": "arn:child", "StartDate": 1}

    tokens = FakeTaskTokens(clock, start_execution=start)
    result, _ = run(nested(pattern), {}, tokens, clock, {"n": 4})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["Output"] == ({"doubled": 8} if parsed else '{"doubled": 8}')
    assert result.output["Input"] == ({"n": 4} if parsed else '{"n": 4}')
    assert "TaskSubmitted" in types(result)


def test_a_failed_child_fails_the_parents_task_with_states_task_failed():
    clock = FakeClock()

    def start(parameters, token, sync):
        tokens.fail(token, "States.TaskFailed", json.dumps({"Status": "FAILED", "Error": "Boom"}))
        return {"ExecutionArn": "arn:child", "StartDate": 1}

    tokens = FakeTaskTokens(clock, start_execution=start)
    result, _ = run(nested(".sync"), {}, tokens, clock, {"n": 1})
    assert result.status == "FAILED"
    assert result.error == "States.TaskFailed"
    assert json.loads(result.cause)["Error"] == "Boom"


def test_wait_for_task_token_hands_the_token_to_the_child():
    clock = FakeClock()

    def start(parameters, token, sync):
        assert not sync
        tokens.succeed(parameters["Input"]["token"], {"from": "child"})
        return {"ExecutionArn": "arn:child", "StartDate": 1}

    tokens = FakeTaskTokens(clock, start_execution=start)
    machine = StateMachine({"StartAt": "Child", "States": {"Child": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken", "End": True,
        "Parameters": {"StateMachineArn": CHILD_ARN, "Input": {"token.$": "$$.Task.Token"}}}}})
    result, _ = run(machine, {}, tokens, clock, {})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"from": "child"}


def test_a_host_without_tokens_fails_the_task_with_states_runtime():
    result = callback_machine().run({"job": 1}, invoker=FakeInvoker({"worker": lambda e, c: None}),
                                    clock=FakeClock())
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "keeps no task tokens" in result.cause
