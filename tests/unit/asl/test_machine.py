"""The engine's public contract: StateMachine.run with its seams, history, errors and resume."""

from __future__ import annotations

import base64
import json
import threading

import pytest

import runtime.asl as asl
from runtime.asl import (DefinitionError, FakeClock, FakeInvoker, FunctionOutcome, StateMachine,
                         validate)

from .seed import ROUTES, TRAINING_FUNCTIONS, seed_definition, seed_definition_text


def training_invoker() -> FakeInvoker:
    def trainer(drill):
        return lambda event, context: {"drill": drill, "player": event.get("player"), "done": True}
    return FakeInvoker({fn: trainer(fn) for fn in TRAINING_FUNCTIONS.values()})


def entered_states(history) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("Entered")]


def pass_chain(*names, **extra) -> dict:
    states = {}
    for index, name in enumerate(names):
        state = {"Type": "Pass"}
        if index + 1 < len(names):
            state["Next"] = names[index + 1]
        else:
            state["End"] = True
        states[name] = state
    return {"StartAt": names[0], "States": states, **extra}


# -- the seed -------------------------------------------------------------------------------------

@pytest.mark.parametrize("position", sorted(ROUTES))
def test_the_seeds_machine_runs_each_route_through_its_two_trainings(position):
    invoker = training_invoker()
    result = StateMachine(seed_definition()).run(
        {"TraningType": position, "player": "민재"}, invoker=invoker, clock=FakeClock())

    assert result.status == "SUCCEEDED"
    assert entered_states(result.history) == ["훈련", *ROUTES[position]]
    last = TRAINING_FUNCTIONS[ROUTES[position][-1]]
    assert result.output == {"drill": last, "player": "민재", "done": True}
    assert [name for name, _ in invoker.calls] == [TRAINING_FUNCTIONS[s] for s in ROUTES[position]]


def test_the_seeds_machine_fails_with_no_choice_matched_for_an_unknown_training_type():
    result = StateMachine(seed_definition()).run({"TraningType": "골키퍼"},
                                                 invoker=training_invoker(), clock=FakeClock())

    assert result.status == "FAILED"
    assert result.error == "States.NoChoiceMatched"
    assert result.history[-1]["type"] == "ExecutionFailed"


def test_the_seeds_text_keeps_its_korean_state_names_and_key_spelling():
    text = seed_definition_text()
    definition = json.loads(text)
    assert definition["StartAt"] == "훈련"
    assert definition["States"]["훈련"]["Choices"][0]["Variable"] == "$.TraningType"
    # As printed, the seed's Resources are placeholders, which AWS would refuse: the validator
    # says where, instead of failing.
    diagnostics = validate(text)
    assert any(d.location.startswith("/States/") and "Resource" in d.location for d in diagnostics)
    assert not [d for d in validate(seed_definition()) if d.severity == "ERROR"]


# -- history ----------------------------------------------------------------------------------------

def test_history_ids_are_contiguous_and_each_event_links_to_the_one_before():
    result = StateMachine(pass_chain("A", "B", "C")).run({"n": 1})

    ids = [e["id"] for e in result.history]
    assert ids == list(range(1, len(ids) + 1))
    assert [e["previousEventId"] for e in result.history] == [0, *ids[:-1]]
    assert [e["type"] for e in result.history] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered",
        "PassStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert json.loads(result.history[-1]["executionSucceededEventDetails"]["output"]) == {"n": 1}


def test_the_sink_receives_every_event_while_the_run_goes_on():
    seen_during_task = []
    sink_events = []

    def handler(event, context):
        seen_during_task.extend(e["type"] for e in sink_events)
        return event

    definition = {"StartAt": "Task", "States": {"Task": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "End": True}}}
    result = StateMachine(definition).run({}, invoker=FakeInvoker({"f": handler}),
                                          sink=sink_events.append)

    assert seen_during_task == ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                                "LambdaFunctionStarted"]
    assert sink_events == result.history


def test_parallel_branch_events_link_within_their_branch():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        pass_chain("A1", "A2"), pass_chain("B1", "B2")]}}}
    result = StateMachine(definition).run({"x": 1})

    assert result.output == [{"x": 1}, {"x": 1}]
    by_id = {e["id"]: e for e in result.history}
    started = next(e for e in result.history if e["type"] == "ParallelStateStarted")
    for first in ("A1", "B1"):
        entered = next(e for e in result.history if e["type"] == "PassStateEntered"
                       and e["stateEnteredEventDetails"]["name"] == first)
        assert by_id[entered["previousEventId"]] is started


# -- errors, retry, catch, time ---------------------------------------------------------------------

class Flaky:
    def __init__(self, failures: int):
        self.failures = failures

    def __call__(self, event, context):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("try again")
        return {"ok": True}


def task_machine(**task) -> dict:
    """Returns a machine of one Task calling function `f`, and a state "Caught" when a transition
    leads there (AWS refuses unreachable states)."""
    states = {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                    "End": True, **task}}
    if "Caught" in json.dumps(task):
        states["Caught"] = {"Type": "Pass", "End": True}
    return {"StartAt": "T", "States": states}


def test_retry_waits_by_interval_and_backoff_on_the_fake_clock_then_succeeds():
    clock = FakeClock()
    machine = StateMachine(task_machine(Retry=[{
        "ErrorEquals": ["ConnectionError"], "IntervalSeconds": 2, "BackoffRate": 3,
        "MaxAttempts": 3}]))
    result = machine.run({}, invoker=FakeInvoker({"f": Flaky(2)}), clock=clock)

    assert result.status == "SUCCEEDED"
    assert result.output == {"ok": True}
    assert clock.slept == [2, 6]
    assert [e["type"] for e in result.history].count("LambdaFunctionFailed") == 2


def test_a_catcher_puts_the_error_output_at_its_result_path():
    machine = StateMachine(task_machine(Catch=[{
        "ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]))
    result = machine.run({"keep": 1}, invoker=FakeInvoker({"f": Flaky(5)}), clock=FakeClock())

    assert result.status == "SUCCEEDED"
    assert result.output["keep"] == 1
    assert result.output["error"]["Error"] == "ConnectionError"
    cause = json.loads(result.output["error"]["Cause"])
    assert cause["errorMessage"] == "try again" and cause["errorType"] == "ConnectionError"


def test_a_missing_function_fails_as_lambda_reports_it():
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "nope", "Payload": {}}, "End": True}}}
    result = StateMachine(definition).run({}, invoker=FakeInvoker({}))

    assert result.status == "FAILED"
    assert result.error == "Lambda.ResourceNotFoundException"
    assert result.cause.startswith("Function not found: arn:aws:lambda:us-east-1:")


def test_lambda_invoke_returns_lambdas_invoke_response():
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "End": True}}}
    invoker = FakeInvoker({"f": lambda event, context: {"echo": event}})
    result = StateMachine(definition).run({"a": 1}, invoker=invoker)

    assert result.output["Payload"] == {"echo": {"a": 1}}
    assert result.output["StatusCode"] == 200
    assert result.output["ExecutedVersion"] == "$LATEST"
    assert [e["type"] for e in result.history][2:5] == ["TaskScheduled", "TaskStarted",
                                                        "TaskSucceeded"]


class LoggingInvoker:
    """Answers every call with `payload` and the invocation log `log`."""

    def __init__(self, log: str):
        self.log = log

    def invoke_function(self, name, payload, *, qualifier=None, timeout=None, arn="", state=""):
        return FunctionOutcome(payload={}, log=self.log)


@pytest.mark.parametrize("language, arguments", [
    ("JSONPath", {"Parameters": {"FunctionName": "f", "Payload": None, "LogType.$": "$.LogType"}}),
    ("JSONata", {"Arguments": {"FunctionName": "f", "LogType": "{% $states.input.LogType %}"}}),
])
def test_lambda_invoke_with_log_type_tail_returns_the_logs_last_4_kb(language, arguments):
    definition = {"QueryLanguage": language, "StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", **arguments, "End": True}}}
    log = "START RequestId: r Version: $LATEST\n" + "공" * 3000 + "\nEND RequestId: r\n"
    result = StateMachine(definition).run({"LogType": "Tail"}, invoker=LoggingInvoker(log))

    assert result.status == "SUCCEEDED", result.cause
    tail = base64.b64decode(result.output["LogResult"])
    assert tail == log.encode()[-4096:]
    metadata = result.output["SdkHttpMetadata"]
    assert metadata["HttpHeaders"]["X-Amz-Log-Result"] == result.output["LogResult"]
    assert metadata["AllHttpHeaders"]["X-Amz-Log-Result"] == [result.output["LogResult"]]


def test_lambda_invoke_without_log_type_tail_returns_no_log():
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "LogType": "None"}, "End": True}}}
    result = StateMachine(definition).run({}, invoker=LoggingInvoker("START\n"))

    assert "LogResult" not in result.output
    assert "X-Amz-Log-Result" not in result.output["SdkHttpMetadata"]["HttpHeaders"]


@pytest.mark.parametrize("machine_type, context, expected", [
    ("STANDARD", {}, {"RedriveCount": 0}),
    ("EXPRESS", {}, {"RedriveCount": 0}),
    ("EXPRESS", {"synchronous": True}, {}),
])
def test_only_a_synchronous_express_executions_context_lacks_a_redrive_count(machine_type, context,
                                                                             expected):
    # As AWS recorded query_runtime_memory: with StartExecution, and with StartSyncExecution.
    for language, parameters in (("JSONPath", {"Parameters": {"e.$": "$$.Execution"}}),
                                 ("JSONata", {"Output": {"e": "{% $states.context.Execution %}"}})):
        definition = {"QueryLanguage": language, "StartAt": "P",
                      "States": {"P": {"Type": "Pass", **parameters, "End": True}}}
        output = StateMachine(definition, machine_type).run({}, context=context).output
        assert {k: v for k, v in output["e"].items() if k == "RedriveCount"} == expected
        assert output["e"]["Name"]


def test_a_long_wait_passes_at_once_on_the_fake_clock():
    clock = FakeClock()
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86400, "End": True}}}
    result = StateMachine(definition).run({"x": 1}, clock=clock)

    assert result.status == "SUCCEEDED"
    assert clock.slept == [86400]


def test_the_machines_timeout_ends_the_run_as_timed_out():
    definition = {"StartAt": "W", "TimeoutSeconds": 10, "States": {
        "W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    result = StateMachine(definition).run({}, clock=FakeClock())

    assert result.status == "TIMED_OUT"
    assert result.error == "States.Timeout"
    assert result.history[-1]["type"] == "ExecutionTimedOut"


def test_setting_cancel_aborts_the_run_before_its_next_state():
    cancel = threading.Event()

    def stop(event, context):
        cancel.set()
        return event

    definition = task_machine(Next="Caught")
    del definition["States"]["T"]["End"]
    result = StateMachine(definition).run({}, invoker=FakeInvoker({"f": stop}), cancel=cancel)

    assert result.status == "ABORTED"
    assert result.history[-1]["type"] == "ExecutionAborted"
    assert "Caught" not in entered_states(result.history)


def test_an_input_over_256_kib_fails_with_data_limit_exceeded():
    result = StateMachine(pass_chain("A")).run({"blob": "x" * (256 * 1024)})

    assert result.status == "FAILED"
    assert result.error == "States.DataLimitExceeded"


def test_an_invalid_definition_raises_definition_error_with_located_diagnostics():
    with pytest.raises(DefinitionError) as raised:
        StateMachine({"StartAt": "Missing", "States": {"A": {"Type": "Pass", "End": True}}})

    locations = [d.location for d in raised.value.diagnostics if d.severity == "ERROR"]
    assert "/StartAt" in locations


def test_json_text_is_accepted_as_a_definition():
    result = StateMachine(json.dumps(pass_chain("A"))).run([1, 2])
    assert result.output == [1, 2]


# -- resume -----------------------------------------------------------------------------------------

def test_a_run_resumed_from_a_cut_history_finishes_as_the_whole_run_would():
    invoker = training_invoker()
    machine = StateMachine(seed_definition())
    whole = machine.run({"TraningType": "미드필더"}, invoker=invoker, clock=FakeClock())
    # The worker died right after the first training state exited.
    cut_at = next(i for i, e in enumerate(whole.history) if e["type"] == "TaskStateExited")
    partial = whole.history[:cut_at + 1]

    resumed = machine.run(resume_from=partial, invoker=invoker, clock=FakeClock())

    assert resumed.status == "SUCCEEDED"
    assert resumed.output == whole.output
    assert [e["id"] for e in resumed.history] == list(range(1, len(resumed.history) + 1))
    assert entered_states(resumed.history) == entered_states(whole.history)


def test_a_run_cut_right_after_a_choice_resumes_on_the_branch_it_chose():
    machine = StateMachine(seed_definition())
    whole = machine.run({"TraningType": "수비수"}, invoker=training_invoker())
    cut_at = next(i for i, e in enumerate(whole.history) if e["type"] == "ChoiceStateExited")

    resumed = machine.run(resume_from=whole.history[:cut_at + 1], invoker=training_invoker())

    assert entered_states(resumed.history) == ["훈련", "수비 훈련", "볼 경합 훈련"]


def test_a_run_cut_right_after_a_jsonata_choice_resumes_on_the_rule_that_matched():
    definition = {"QueryLanguage": "JSONata", "StartAt": "Setup", "States": {
        "Setup": {"Type": "Pass", "Assign": {"limit": 3}, "Next": "Pick"},
        "Pick": {"Type": "Choice", "Choices": [
            {"Condition": "{% $states.input.n > $limit %}", "Next": "Big"}], "Default": "Small"},
        "Big": {"Type": "Pass", "Output": "big", "End": True},
        "Small": {"Type": "Pass", "Output": "small", "End": True}}}
    machine = StateMachine(definition)
    whole = machine.run({"n": 5})
    cut_at = next(i for i, e in enumerate(whole.history) if e["type"] == "ChoiceStateExited")

    resumed = machine.run(resume_from=whole.history[:cut_at + 1])

    assert whole.output == "big"
    assert resumed.output == "big"
    assert entered_states(resumed.history) == ["Setup", "Pick", "Big"]


def test_a_resumed_run_keeps_the_variables_assigned_before_the_cut():
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"team": "blue"}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"team.$": "$team"}, "End": True}}}
    machine = StateMachine(definition)
    whole = machine.run({})
    resumed = machine.run(resume_from=whole.history[:3])

    assert resumed.output == {"team": "blue"}


def _lambda_task(**extra) -> dict:
    return {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "work", "Payload.$": "$"}, "ResultSelector": {"n.$": "$.Payload"},
        "End": True, **extra}}}


LOST_RETRY = [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 2}]


def test_a_task_cut_while_its_function_ran_fails_as_the_service_and_is_retried():
    machine = StateMachine(_lambda_task(Retry=LOST_RETRY))
    invoker = FakeInvoker({"work": lambda event, context: event["n"] * 2})
    whole = machine.run({"n": 4}, invoker=invoker, clock=FakeClock())
    cut_at = next(i for i, e in enumerate(whole.history) if e["type"] == "TaskStarted")

    resumed = machine.run(resume_from=whole.history[:cut_at + 1], invoker=invoker, clock=FakeClock())

    assert resumed.status == "SUCCEEDED" and resumed.output == {"n": 8}
    types = [e["type"] for e in resumed.history]
    assert types == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed",
                     "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    assert resumed.history[4]["taskFailedEventDetails"]["error"] == "Lambda.ServiceException"
    assert [e["id"] for e in resumed.history] == list(range(1, 11))
    assert len(invoker.calls) == 2      # at-least-once: the cut attempt and the retry


def test_a_task_cut_while_its_function_ran_fails_the_execution_without_a_retrier():
    machine = StateMachine(_lambda_task())
    invoker = FakeInvoker({"work": lambda event, context: 1})
    whole = machine.run({}, invoker=invoker)
    cut_at = next(i for i, e in enumerate(whole.history) if e["type"] == "TaskScheduled")

    resumed = machine.run(resume_from=whole.history[:cut_at + 1], invoker=invoker)

    assert resumed.status == "FAILED" and resumed.error == "Lambda.ServiceException"
    assert [e["type"] for e in resumed.history][-2:] == ["TaskFailed", "ExecutionFailed"]


def test_retries_spent_before_the_cut_still_count_against_max_attempts():
    definition = _lambda_task(Retry=[{"ErrorEquals": ["Boom"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                              Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}])
    definition["States"]["Work"].pop("End")
    definition["States"]["Work"]["Next"] = "Done"
    definition["States"]["Done"] = {"Type": "Pass", "End": True}
    definition["States"]["Caught"] = {"Type": "Pass", "Result": "caught", "End": True}
    machine = StateMachine(definition)

    class Boom(Exception):
        pass

    def fail(event, context):
        raise Boom("no")
    invoker = FakeInvoker({"work": fail})
    whole = machine.run({}, invoker=invoker, clock=FakeClock())
    assert whole.output == "caught"
    # Cut right after the first failure: its retry was pending when the worker died.
    cut_at = next(i for i, e in enumerate(whole.history) if e["type"] == "TaskFailed")

    resumed = machine.run(resume_from=whole.history[:cut_at + 1], invoker=invoker, clock=FakeClock())

    assert resumed.output == "caught"
    assert [e["type"] for e in resumed.history] == [e["type"] for e in whole.history]
    # Cut after the retry failed too: MaxAttempts is spent, so the error is caught at once.
    second = [i for i, e in enumerate(whole.history) if e["type"] == "TaskFailed"][1]
    calls_before = len(invoker.calls)
    again = machine.run(resume_from=whole.history[:second + 1], invoker=invoker, clock=FakeClock())
    assert again.output == "caught" and len(invoker.calls) == calls_before


def test_a_task_whose_response_was_recorded_is_not_run_again():
    machine = StateMachine(_lambda_task())
    invoker = FakeInvoker({"work": lambda event, context: 21})
    whole = machine.run({}, invoker=invoker)
    cut_at = next(i for i, e in enumerate(whole.history) if e["type"] == "TaskSucceeded")

    resumed = machine.run(resume_from=whole.history[:cut_at + 1], invoker=invoker)

    assert resumed.output == {"n": 21}
    assert len(invoker.calls) == 1
    assert [e["type"] for e in resumed.history][-2:] == ["TaskStateExited", "ExecutionSucceeded"]


def test_a_long_top_level_wait_parks_and_the_resumed_run_waits_only_what_is_left():
    definition = {"StartAt": "Hold", "States": {
        "Hold": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True}}}
    machine = StateMachine(definition)
    clock = FakeClock()
    history = []
    with pytest.raises(asl.Parked) as parked:
        machine.run({"a": 1}, clock=clock, sink=history.append, park_after=10)
    assert [e["type"] for e in history] == ["ExecutionStarted", "WaitStateEntered"]
    assert (parked.value.until - clock.now()).total_seconds() == pytest.approx(60, abs=0.01)

    clock.advance(45)
    resumed = machine.run(resume_from=history, clock=clock)   # no park_after: it sleeps the rest

    assert resumed.output == {"a": 1}
    assert clock.slept == [pytest.approx(15, abs=0.01)]
    assert [e["type"] for e in resumed.history] == [
        "ExecutionStarted", "WaitStateEntered", "WaitStateExited", "PassStateEntered", "PassStateExited",
        "ExecutionSucceeded"]


def test_waits_inside_a_parallel_branch_park_too_and_short_waits_do_not():
    # (tests/unit/asl/test_parking.py has the branches and iterations that park, and their resumes.)
    definition = {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}]}}}
    clock = FakeClock()
    with pytest.raises(asl.Parked):
        StateMachine(definition).run({}, clock=clock, park_after=10)
    assert clock.slept == []
    result = StateMachine(definition).run({}, clock=clock)   # without park_after it sleeps
    assert result.status == "SUCCEEDED" and 60 in clock.slept
    short = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "End": True}}}
    assert StateMachine(short).run({}, clock=FakeClock(), park_after=10).status == "SUCCEEDED"


def test_an_execution_fails_when_its_history_reaches_25000_events():
    definition = {"StartAt": "Loop", "States": {
        "Loop": {"Type": "Pass", "Next": "Loop2"}, "Loop2": {"Type": "Pass", "Next": "Loop"}}}
    result = StateMachine(definition).run({})

    assert result.status == "FAILED" and result.error == "States.Runtime"
    assert "25000" in result.cause
    assert [e["id"] for e in result.history] == list(range(1, 25001))
    assert result.history[-1]["type"] == "ExecutionFailed"


def test_each_map_helper_thread_tells_the_invoker_when_it_ends():
    class Invoker(FakeInvoker):
        def __init__(self, functions):
            super().__init__(functions)
            self.threads_done = []

        def thread_done(self):
            self.threads_done.append(threading.current_thread())

    invoker = Invoker({"double": lambda event, context: event * 2})
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": 3, "End": True, "ItemProcessor": {"StartAt": "Double", "States": {
            "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
                       "End": True}}}}}}

    result = StateMachine(definition).run(list(range(7)), invoker=invoker)

    assert result.output == [0, 2, 4, 6, 8, 10, 12]
    # MaxConcurrency 3: the thread that reached the Map and two helpers.
    assert len(invoker.threads_done) == 2 and len(set(invoker.threads_done)) == 2
    assert threading.current_thread() not in invoker.threads_done


# -- the public surface -----------------------------------------------------------------------------

def test_the_package_exports_exactly_its_public_names():
    assert sorted(asl.__all__) == sorted([
        "StateMachine", "ExecutionResult", "Parked", "Suspended", "ThreadBudget", "DefinitionError", "StatesError", "Diagnostic",
        "validate", "Clock", "FakeClock", "Invoker", "FakeInvoker", "FunctionOutcome",
        "FunctionNotFound", "FunctionServiceError", "TaskTimedOut", "FakeTaskTokens", "TokenAnswer", "TokenState",
        "definition_to_dot", "state_id", "pointer_for", "edge_id", "edge_for", "rule_text"])
    for name in asl.__all__:
        assert hasattr(asl, name)
    assert FunctionOutcome(payload=1).payload == 1


@pytest.mark.parametrize("mode, sees", [("INLINE", True), ("DISTRIBUTED", False)])
def test_a_distributed_maps_items_see_none_of_the_outer_variables(mode, sees):
    config = {"Mode": mode, **({"ExecutionType": "STANDARD"} if mode == "DISTRIBUTED" else {})}
    machine = StateMachine({"QueryLanguage": "JSONata", "StartAt": "Setup", "States": {
        "Setup": {"Type": "Pass", "Assign": {"team": "blue"}, "Next": "Each"},
        "Each": {"Type": "Map", "Items": "{% [1, 2] %}", "End": True, "ItemProcessor": {
            "ProcessorConfig": config, "StartAt": "Look", "States": {
                "Look": {"Type": "Pass", "Output": "{% $exists($team) %}", "End": True}}}}}})
    result = machine.run({})
    assert (result.status, result.output) == ("SUCCEEDED", [sees, sees])
