"""The conformance comparer: normalisation, masks, placeholders, Lambda causes and history shapes."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tests.unit.asl import conformance
from tests.unit.asl.conformance import (
    differences, history_difference, history_shape, normalise, outcome_differences, string_matches,
)


def a_case(expect, *, replacements=(), notes="", history=()):
    return {"id": "example.case", "expect": expect, "replacements": [list(p) for p in replacements],
            "notes": notes, "history": list(history)}


def a_result(status="SUCCEEDED", output=None, error=None, cause=None, history=()):
    return SimpleNamespace(status=status, output=output, error=error, cause=cause,
                           history=[{"type": kind} for kind in history])


# Normalisation

def test_a_member_named_like_a_timestamp_becomes_the_word_timestamp():
    assert normalise({"Timestamp": 1700000000, "myTIMESTAMPs": [1]}) == {
        "Timestamp": "timestamp", "myTIMESTAMPs": "timestamp"}


def test_a_timestamp_member_holding_a_date_time_becomes_date():
    assert normalise({"timestamp": "2024-05-01T10:00:00.123Z"}) == {"timestamp": "date"}


def test_zoned_date_times_become_date_anywhere_in_a_text():
    assert normalise("at 2024-01-01T00:00:00+01:00 and 2024-01-01T00:00:00Z") == "at date and date"


def test_a_date_time_without_a_zone_is_left_alone():
    assert normalise("2016-12-05T21:29") == "2016-12-05T21:29"


def test_replacements_apply_longest_first():
    replacements = [("abc", "<short>"), ("abcdef", "<long>")]
    assert normalise({"name": "abcdef-abc"}, replacements) == {"name": "<long>-<short>"}


def test_partition_and_region_are_rewritten():
    assert normalise("arn:aws:states:us-east-1:111111111111:stateMachine:m") == (
        "arn:<partition>:states:<region>:111111111111:stateMachine:m")


def test_replacing_a_value_that_needs_escaping_keeps_the_json_valid():
    assert normalise({"text": 'say "hi"'}, [('say "hi"', "<greeting>")]) == {"text": "<greeting>"}


# Matching

@pytest.mark.parametrize("word", sorted(conformance.MASK_WORDS))
def test_a_mask_word_matches_any_value(word):
    assert string_matches(word, {"any": ["thing"]})


def test_a_placeholder_matches_any_text_inside_a_string():
    assert string_matches("arn:<partition>:states:<region>:1:execution:<ArnPart_0idx>:<uuid:1>",
                          "arn:x:states:eu:1:execution:machine:8c1f-22")


def test_the_text_around_a_placeholder_must_still_match():
    assert not string_matches("prefix-<uuid:1>-suffix", "prefix-123-other")


def test_a_placeholder_does_not_match_a_non_string():
    assert not string_matches("<uuid:1>", 12)


def test_numbers_compare_numerically_but_booleans_are_not_numbers():
    assert differences({"n": 1}, {"n": 1.0}) == []
    assert differences({"n": 1}, {"n": True}) != []
    assert differences(True, 1) != []


def test_arrays_compare_in_order():
    assert differences([1, 2], [2, 1]) != []


def test_objects_need_the_same_keys():
    found = differences({"a": 1}, {"a": 1, "b": 2})
    assert [str(d) for d in found] == ["$: unexpected keys ['b']"]


def test_the_first_difference_names_its_path():
    found = differences({"a": [{"b": "x"}]}, {"a": [{"b": "y"}]})
    assert str(found[0]) == '$.a[0].b: expected "x", got "y"'


def test_a_member_masked_by_the_recording_matches_anything():
    assert differences({"LogResult": "log"}, {"LogResult": "other"},
                       masked_keys=frozenset({"LogResult"})) == []


def test_masked_member_names_come_from_the_notes():
    case = a_case({}, notes="lambda; snapshot masked fields: $..EnteredTime, $..StartTime; more")
    assert conformance.masks_of(case)[0] == {"EnteredTime", "StartTime"}


def test_an_output_replaced_by_its_masked_path_matches_anything():
    case = a_case({"status": "SUCCEEDED", "output": "executionSucceededEventDetails.output"},
                  notes="snapshot masked fields: $..executionSucceededEventDetails.output")
    assert outcome_differences(case, a_result(output=[{"any": "value"}])) == []


def test_the_stack_trace_inside_a_lambda_error_text_is_the_runtimes_own():
    expected = ('{"errorMessage": "boom", "errorType": "Exception", "requestId": "<request-id>", '
                '"stackTrace": ["  File \\"/var/task/handler.py\\", line 2, in handler\\n"]}')
    actual = ('{"errorMessage": "boom", "errorType": "Exception", "requestId": "1-2-3", '
              '"stackTrace": ["  File \\"/tmp/w/handler.py\\", line 9, in handler\\n"]}')
    assert string_matches(expected, actual)
    assert not string_matches(expected, actual.replace("boom", "bang"))


# Comparing a run with a case

def test_a_different_status_is_the_only_difference_reported():
    found = outcome_differences(a_case({"status": "SUCCEEDED", "output": {}}),
                                a_result("FAILED", error="States.Runtime", cause="bad"))
    assert len(found) == 1 and found[0].path == "status"
    assert "expected SUCCEEDED, got FAILED" in found[0].message


def test_the_actual_output_is_normalised_with_the_case_replacements():
    case = a_case({"status": "SUCCEEDED", "output": {"name": "<ArnPart_0idx>", "at": "date"}},
                  replacements=[("machine_1234", "<ArnPart_0idx>")])
    assert outcome_differences(case, a_result(output={"name": "machine_1234",
                                                      "at": "2024-01-01T00:00:00Z"})) == []


def test_a_cause_recorded_as_an_object_is_compared_with_the_parsed_actual_cause():
    expected = {"status": "FAILED", "error": "Exception", "cause": {
        "errorMessage": "boom", "errorType": "Exception", "requestId": "<uuid:1>",
        "stackTrace": ['  File "/var/task/handler.py", line 2, in handler\n']}}
    actual_cause = json.dumps({"errorMessage": "boom", "errorType": "Exception",
                               "requestId": "c0ffee", "stackTrace": ["elsewhere"]})
    assert outcome_differences(a_case(expected), a_result("FAILED", error="Exception",
                                                          cause=actual_cause)) == []


def test_a_lambda_error_type_is_compared_strictly():
    expected = {"status": "FAILED", "error": "Exception", "cause": {
        "errorMessage": "boom", "errorType": "Exception", "stackTrace": []}}
    actual_cause = json.dumps({"errorMessage": "boom", "errorType": "ValueError",
                               "stackTrace": []})
    found = outcome_differences(a_case(expected), a_result("FAILED", error="Exception",
                                                           cause=actual_cause))
    assert [d.path for d in found] == ["cause.errorType"]


def test_a_cause_that_is_not_json_fails_an_object_expectation():
    expected = {"status": "FAILED", "error": "E", "cause": {"errorMessage": "m"}}
    found = outcome_differences(a_case(expected), a_result("FAILED", error="E", cause="m"))
    assert found and "JSON object" in found[0].message


# History

def test_parallel_branch_events_may_interleave_in_any_order():
    recorded = ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted",
                "PassStateEntered", "PassStateEntered", "PassStateExited", "PassStateExited",
                "ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]
    actual = ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted",
              "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited",
              "ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]
    assert history_shape(recorded) == history_shape(actual)


def test_events_outside_blocks_keep_their_order():
    assert history_shape(["A", "B"]) != history_shape(["B", "A"])


def test_a_map_block_counts_its_events():
    recorded = ["MapStateStarted", "MapIterationStarted", "MapIterationSucceeded",
                "MapStateSucceeded"]
    assert history_shape(recorded) != history_shape(recorded[:1] + recorded[1:2] + recorded[3:])


def test_nested_blocks_close_at_their_own_end():
    types = ["MapStateStarted", "ParallelStateStarted", "X", "ParallelStateSucceeded",
             "MapStateSucceeded", "After"]
    shape = history_shape(types)
    assert shape[0] == "MapStateStarted" and shape[2:] == ["MapStateSucceeded", "After"]


def test_a_history_mismatch_reads_as_a_diff():
    case = a_case({"status": "SUCCEEDED"}, history=[{"type": "ExecutionStarted"},
                                                    {"type": "ExecutionSucceeded"}])
    diff = history_difference(case, a_result(history=["ExecutionStarted", "ExecutionFailed"]))
    assert "-ExecutionSucceeded" in diff and "+ExecutionFailed" in diff


def test_a_history_recorded_newest_first_is_compared_in_that_order():
    recorded = [{"type": kind} for kind in ("ExecutionSucceeded", "PassStateExited",
                                            "PassStateEntered", "ExecutionStarted")]
    actual = a_result(history=["ExecutionStarted", "PassStateEntered", "PassStateExited",
                               "ExecutionSucceeded"])
    assert history_difference(a_case({"status": "SUCCEEDED"}, history=recorded), actual) is None


def test_a_parallel_block_closes_at_its_exit_when_no_success_was_recorded():
    shape = history_shape(["ParallelStateStarted", "ParallelStateStarted", "X",
                           "ParallelStateExited", "ParallelStateExited", "After"])
    assert shape[-2:] == ["ParallelStateExited", "After"]


def test_a_case_without_recorded_history_has_no_history_difference():
    assert history_difference(a_case({"status": "SUCCEEDED"}), a_result()) is None


# The corpus and the failures list

def test_every_recorded_result_matches_itself():
    mismatches = []
    for case in conformance.load_cases():
        expect = case["expect"]
        cause = expect.get("cause")
        types = [event["type"] for event in case["history"]]
        if conformance.recorded_in_reverse(types):
            types.reverse()
        result = a_result(expect["status"], expect.get("output"), expect.get("error"),
                          json.dumps(cause) if isinstance(cause, dict) else cause, types)
        if outcome_differences(case, result) or history_difference(case, result):
            mismatches.append(case["id"])
    assert mismatches == []


def test_every_listed_failure_names_a_case_and_gives_a_reason():
    ids = {case["id"] for case in conformance.load_cases()}
    listed = conformance.load_failures()
    assert [case_id for case_id in listed if case_id not in ids] == []
    assert [case_id for case_id, reason in listed.items() if not reason] == []


def test_a_case_recorded_with_start_sync_execution_runs_synchronously():
    case = {"context": {"stateMachineType": "EXPRESS"},
            "notes": "EXPRESS state machine (StartSyncExecution); no history recorded"}
    assert conformance.run_context(case) == {"stateMachineType": "EXPRESS", "synchronous": True}
    assert conformance.run_context({**case, "notes": "EXPRESS state machine"}) == case["context"]
