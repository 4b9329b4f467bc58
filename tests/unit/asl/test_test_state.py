"""TestState's runtime entry point: one state run on its own, each step of its processing shown."""

from __future__ import annotations

import json

import pytest

from runtime.asl import DefinitionError, FakeInvoker
from runtime.asl import test_state as module
from runtime.asl.test_state import MockOutcome, TestStateRefused, run_test_state

INVOKE = "arn:aws:states:::lambda:invoke"


def steps(result) -> dict:
    """Returns the inspectionData of `result` at DEBUG, its payloads read back from JSON."""
    data = result.as_dict("DEBUG")["inspectionData"]
    return {key: (json.loads(value) if isinstance(value, str) else value) for key, value in data.items()}


def test_its_public_names_are_listed():
    assert sorted(module.__all__) == ["MockOutcome", "STEPS", "TestStateRefused", "TestStateResult",
                                      "run_test_state"]
    for name in module.__all__:
        assert hasattr(module, name)


def test_a_pass_state_shows_each_jsonpath_step_in_order():
    result = run_test_state({
        "Type": "Pass", "InputPath": "$.order",
        "Parameters": {"id.$": "$.id", "twice.$": "States.MathAdd($.id, $.id)", "name.$": "$$.State.Name"},
        "ResultPath": "$.shaped", "OutputPath": "$.shaped", "Next": "Ship"},
        {"order": {"id": 21}, "other": True}, state_name="Shape")
    assert (result.status, result.next_state, result.output) == (
        "SUCCEEDED", "Ship", {"id": 21, "twice": 42, "name": "Shape"})
    data = steps(result)
    assert list(data) == ["input", "afterInputPath", "afterParameters", "result", "afterResultPath"]
    assert data["input"] == {"order": {"id": 21}, "other": True}
    assert data["afterInputPath"] == {"id": 21}
    assert data["afterParameters"] == {"id": 21, "twice": 42, "name": "Shape"}
    # ResultPath places the result into the state's raw input, not the InputPath's selection.
    assert data["afterResultPath"] == {"order": {"id": 21}, "other": True,
                                       "shaped": {"id": 21, "twice": 42, "name": "Shape"}}
    shape = result.as_dict("DEBUG")
    assert json.loads(shape["output"]) == result.output and shape["nextState"] == "Ship"


def test_info_shows_no_inspection_data_and_trace_what_debug_does():
    result = run_test_state({"Type": "Pass", "End": True}, {"a": 1})
    assert result.as_dict("INFO") == {"status": "SUCCEEDED", "output": '{"a":1}'}
    # TRACE adds an HTTP Task's request and response in AWS: Flowbench has no HTTP Task.
    assert result.as_dict("TRACE") == result.as_dict("DEBUG") != result.as_dict("INFO")


def test_a_task_calls_its_function_through_the_invoker():
    invoker = FakeInvoker({"double": lambda event, _context: {"n": event["n"] * 2}})
    result = run_test_state({
        "Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "double", "Payload.$": "$"},
        "ResultSelector": {"n.$": "$.Payload.n"}, "ResultPath": "$.doubled", "End": True},
        {"n": 4}, invoker=invoker)
    assert result.status == "SUCCEEDED" and result.next_state is None
    assert invoker.calls == [("double", {"n": 4})]
    data = steps(result)
    assert data["afterParameters"] == {"FunctionName": "double", "Payload": {"n": 4}}
    assert data["result"]["Payload"] == {"n": 8} and data["result"]["StatusCode"] == 200
    assert data["afterResultSelector"] == {"n": 8}
    assert result.output == {"n": 4, "doubled": {"n": 8}}


def test_a_mocked_result_stands_for_the_call():
    invoker = FakeInvoker({})
    result = run_test_state({
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "ResultPath": "$.r", "Next": "After"}, {"a": 1}, invoker=invoker, mock=MockOutcome({"ok": True}))
    assert (result.status, result.output, result.next_state) == ("SUCCEEDED", {"a": 1, "r": {"ok": True}}, "After")
    assert invoker.calls == []


def test_a_missing_function_fails_the_state_as_in_an_execution():
    result = run_test_state({"Type": "Task", "Resource": INVOKE,
                             "Parameters": {"FunctionName": "nobody"}, "End": True}, {}, invoker=FakeInvoker({}))
    assert (result.status, result.error) == ("FAILED", "Lambda.ResourceNotFoundException")
    assert "Function not found" in result.cause and not result.has_output


TASK_WITH_RULES = {
    "Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "f"},
    "Retry": [{"ErrorEquals": ["Other"], "MaxAttempts": 5},
              {"ErrorEquals": ["Boom"], "IntervalSeconds": 3, "BackoffRate": 2, "MaxAttempts": 2}],
    "Catch": [{"ErrorEquals": ["Other"], "Next": "Never"},
              {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"}],
    "End": True}


def test_an_error_a_retry_takes_is_retriable_with_its_backoff():
    result = run_test_state(TASK_WITH_RULES, {"a": 1}, mock=MockOutcome.failure("Boom", "it broke"))
    assert (result.status, result.error, result.cause) == ("RETRIABLE", "Boom", "it broke")
    assert result.next_state is None and not result.has_output
    assert steps(result)["errorDetails"] == {"retryIndex": 1, "retryBackoffIntervalSeconds": 3}
    again = run_test_state(TASK_WITH_RULES, {"a": 1}, mock=MockOutcome.failure("Boom", "it broke"),
                           retrier_retry_count=1)
    assert steps(again)["errorDetails"] == {"retryIndex": 1, "retryBackoffIntervalSeconds": 6}


def test_retries_spent_the_catch_takes_the_error():
    result = run_test_state(TASK_WITH_RULES, {"a": 1}, mock=MockOutcome.failure("Boom", "it broke"),
                            retrier_retry_count=2)
    assert (result.status, result.next_state) == ("CAUGHT_ERROR", "Recover")
    assert result.output == {"a": 1, "error": {"Error": "Boom", "Cause": "it broke"}}
    assert (result.error, result.cause) == ("Boom", "it broke")
    assert steps(result)["errorDetails"] == {"catchIndex": 1}


def test_an_error_nothing_takes_fails_the_state():
    spec = {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "f"}, "End": True}
    result = run_test_state(spec, {}, mock=MockOutcome.failure("Boom", None))
    assert (result.status, result.error, result.cause, result.next_state) == ("FAILED", "Boom", None, None)


def test_a_path_that_finds_nothing_fails_with_aws_cause():
    result = run_test_state({"Type": "Pass", "Parameters": {"x.$": "$.missing"}, "End": True},
                            {"a": 1}, state_name="Shape")
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause.startswith("An error occurred while executing the state 'Shape'")
    assert "$.missing" in result.cause


def test_a_choice_names_the_state_its_rules_pick():
    spec = {"Type": "Choice", "Choices": [
        {"Variable": "$.kind", "StringEquals": "공격수", "Next": "공격 훈련"},
        {"Variable": "$.kind", "StringEquals": "수비수", "Next": "수비 훈련"}], "Default": "쉬기"}
    assert run_test_state(spec, {"kind": "수비수"}).next_state == "수비 훈련"
    assert run_test_state(spec, {"kind": "골키퍼"}).next_state == "쉬기"
    unmatched = run_test_state({"Type": "Choice", "Choices": spec["Choices"]}, {"kind": "x"})
    assert (unmatched.status, unmatched.error) == ("FAILED", "States.NoChoiceMatched")


def test_a_wait_is_not_waited():
    result = run_test_state({"Type": "Wait", "Seconds": 86400 * 365, "Next": "Later"}, {"a": 1})
    assert (result.status, result.output, result.next_state) == ("SUCCEEDED", {"a": 1}, "Later")


def test_a_wait_with_a_bad_path_still_fails():
    result = run_test_state({"Type": "Wait", "SecondsPath": "$.s", "Next": "Later"}, {"s": "soon"})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")


def test_fail_and_succeed_end_as_their_types_say():
    failed = run_test_state({"Type": "Fail", "ErrorPath": "$.e", "Cause": "because"}, {"e": "Bad.Thing"})
    assert (failed.status, failed.error, failed.cause) == ("FAILED", "Bad.Thing", "because")
    done = run_test_state({"Type": "Succeed", "OutputPath": "$.keep"}, {"keep": [1], "drop": 2})
    assert (done.status, done.output, done.next_state) == ("SUCCEEDED", [1], None)


def test_a_jsonata_state_shows_arguments_result_output_and_variables():
    result = run_test_state({
        "QueryLanguage": "JSONata", "Type": "Task", "Resource": INVOKE,
        "Arguments": {"FunctionName": "f", "Payload": {"n": "{% $states.input.n + $base %}"}},
        "Assign": {"last": "{% $states.result.Payload %}"},
        "Output": "{% $states.result.Payload.n %}", "Next": "After"},
        {"n": 1}, variables={"base": 10},
        invoker=FakeInvoker({"f": lambda event, _context: {"n": event["n"] * 2}}))
    assert (result.status, result.output, result.next_state) == ("SUCCEEDED", 22, "After")
    data = steps(result)
    assert list(data) == ["input", "afterArguments", "result", "variables"]
    assert data["afterArguments"] == {"FunctionName": "f", "Payload": {"n": 11}}
    assert data["variables"] == {"base": 10, "last": {"n": 22}}


def test_a_context_given_is_what_the_state_reads():
    result = run_test_state({"Type": "Pass", "Parameters": {"who.$": "$$.Execution.Name",
                                                            "machine.$": "$$.StateMachine.Name"}, "End": True},
                            {}, context={"Execution": {"Name": "mine"}}, execution={"stateMachineName": "M"})
    assert result.output == {"who": "mine", "machine": "M"}


def test_map_and_parallel_run_for_real_or_with_a_mock():
    mapped = run_test_state({"Type": "Map", "ItemsPath": "$.xs", "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Add", "States": {
            "Add": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, 1)"}, "End": True}}},
        "End": True}, {"xs": [1, 2]})
    assert mapped.output == [{"v": 2}, {"v": 3}]
    data = steps(mapped)
    assert list(data) == ["input", "afterInputPath", "afterParameters", "afterItemsPath", "afterItemSelector",
                          "result", "afterResultSelector", "afterResultPath", "maxConcurrency"]
    assert (data["afterItemsPath"], data["afterItemSelector"], data["maxConcurrency"]) == ([1, 2], [1, 2], 0)
    assert data["result"] == [{"v": 2}, {"v": 3}]
    selected = run_test_state({"Type": "Map", "ItemsPath": "$.xs", "ItemSelector": {"n.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                               "MaxConcurrency": 2, "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                               "End": True}, {"xs": ["a", "b"]})
    assert steps(selected)["afterItemSelector"] == [{"n": "a", "i": 0}, {"n": "b", "i": 1}]
    assert steps(selected)["maxConcurrency"] == 2
    parallel = {"Type": "Parallel", "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}],
                "ResultPath": "$.branches", "End": True}
    assert run_test_state(parallel, {"a": 1}).output == {"a": 1, "branches": [{"a": 1}]}
    assert run_test_state(parallel, {"a": 1}, mock=MockOutcome(["mocked"])).output == {"a": 1, "branches": ["mocked"]}


def test_a_state_of_a_whole_machine_is_tested_by_name():
    machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "Next": "B"},
                                          "B": {"Type": "Pass", "Result": 2, "End": True}}}
    assert run_test_state(machine, {}, state_name="B").output == 2
    assert run_test_state(json.dumps(machine), {}).output == 1   # StartAt by default
    with pytest.raises(TestStateRefused) as refused:
        run_test_state(machine, {}, state_name="C")
    assert refused.value.member == "stateName"


@pytest.mark.parametrize("definition", [
    "{not json", "[]", '{"Comment": "neither"}', {"Type": "Pass"}, {"Type": "Nope", "End": True},
    {"Type": "Pass", "Parameters": {"x.$": "$$$"}, "End": True},
])
def test_an_invalid_definition_is_refused_with_its_diagnostics(definition):
    with pytest.raises(DefinitionError) as refused:
        run_test_state(definition, {})
    assert refused.value.diagnostics


def test_a_mock_is_for_tasks_map_and_parallel_only():
    with pytest.raises(TestStateRefused) as refused:
        run_test_state({"Type": "Pass", "End": True}, {}, mock=MockOutcome(1))
    assert refused.value.member == "mock"


def test_a_callback_task_needs_a_mock():
    spec = {"Type": "Task", "Resource": INVOKE + ".waitForTaskToken",
            "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}}, "End": True}
    with pytest.raises((TestStateRefused, DefinitionError)):
        run_test_state(spec, {})


def test_an_output_over_the_payload_limit_fails():
    result = run_test_state({"Type": "Pass", "Result": "x" * (256 * 1024), "End": True}, {})
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")
