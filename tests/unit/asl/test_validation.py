"""Validation of ASL definitions: AWS's recorded verdicts, every rule, and inputs of any shape."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.asl.diagnostics import Diagnostic
from runtime.asl.validation import create_error_message, validate

SHARED = Path(__file__).resolve().parents[4] / "shared"
if not SHARED.exists():  # a checkout beside /work/shared
    SHARED = Path("/work/shared")
CONFORMANCE = SHARED / "conformance"
WORKLOADS = sorted((SHARED / "bench" / "workloads").glob("w*.json"))


def _lines(name: str) -> list[dict]:
    with open(CONFORMANCE / name, encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


VALIDATION_CASES = _lines("validation-public.jsonl")
EXECUTION_CASES = _lines("asl-public.jsonl")


def errors(definition, **kwargs) -> list[Diagnostic]:
    """Returns the ERROR diagnostics of `definition`."""
    return [d for d in validate(definition, **kwargs) if d.severity == "ERROR"]


def found(definition, code: str, location: str, **kwargs) -> list[str]:
    """Returns the messages of the errors with `code` at `location`."""
    return [d.message for d in errors(definition, **kwargs)
            if d.code == code and d.location == location]


def machine(states: dict, start: str | None = None, **top) -> dict:
    """Returns a definition holding `states`, starting at `start` (default: the first state)."""
    return {"StartAt": start or next(iter(states)), "States": states, **top}


def one(state: dict) -> dict:
    """Returns a definition whose only state is `state`, named S."""
    return machine({"S": state})


PASS_END = {"Type": "Pass", "End": True}
SCHEMA = "SCHEMA_VALIDATION_FAILED"
MISSING = "MISSING_TRANSITION_TARGET"


# --- what AWS recorded -----------------------------------------------------------------------


def _inner_errors(message: str) -> list[tuple[str, str, str]]:
    """Returns (code, text, pointer) of each error in a CreateStateMachine message."""
    body = message[len("Invalid State Machine Definition: '"):-1]
    return [(m.group(1), m.group(2), m.group(3)) for m in re.finditer(
        r"([A-Z_]+): (.*?)(?: at (/\S*))?(?=, [A-Z_]+: |$)", body)]


@pytest.mark.parametrize("case", VALIDATION_CASES, ids=[c["id"] for c in VALIDATION_CASES])
def test_it_gives_the_verdict_aws_recorded(case):
    definition = case["definition"] if case["definition"] is not None else case["definition_text"]
    diagnostics = validate(definition, state_machine_type=case["type"])
    assert all(isinstance(d, Diagnostic) for d in diagnostics)
    expect = case["expect"]
    if "error" in expect:
        assert expect["error"]["code"] == "InvalidDefinition"
        message = create_error_message(diagnostics)
        if message != expect["error"]["message"]:
            assert message.startswith("Invalid State Machine Definition: '")
            for code, _, location in _inner_errors(expect["error"]["message"]):
                assert (code, location) in {(d.code, d.location) for d in diagnostics}
        return
    got_errors = [d for d in diagnostics if d.severity == "ERROR"]
    assert (not got_errors) == expect["valid"]
    if expect["result"] == "OK":
        assert got_errors == []
    for wanted in expect["diagnostics"]:
        matches = [d for d in diagnostics if d.code == wanted["code"]
                   and d.severity == wanted["severity"]
                   and (d.message == wanted["message"]
                        or d.location == wanted.get("location", d.location))]
        assert matches, wanted
        if "location" in wanted:
            assert wanted["location"] in {d.location for d in matches}


@pytest.mark.parametrize("case", EXECUTION_CASES, ids=[c["id"] for c in EXECUTION_CASES])
def test_it_accepts_every_definition_aws_ran(case):
    kind = case.get("context", {}).get("stateMachineType", "STANDARD")
    assert errors(case["definition"], state_machine_type=kind) == []


@pytest.mark.parametrize("path", WORKLOADS, ids=[p.stem for p in WORKLOADS])
def test_it_accepts_the_benchmark_workloads(path):
    workload = json.loads(path.read_text(encoding="utf-8"))
    assert errors(workload["definition"]) == []
    assert errors(json.dumps(workload["definition"])) == []


def test_the_conformance_data_is_all_there():
    assert len(VALIDATION_CASES) == 11
    assert len(EXECUTION_CASES) == 662
    assert len(WORKLOADS) == 5


# --- the error message of CreateStateMachine -------------------------------------------------


def test_the_create_message_names_the_code_the_text_and_the_pointer():
    diagnostics = validate({"StartAt": "A"})
    assert create_error_message(diagnostics) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are "
        "required: [States] at /'")


def test_the_create_message_joins_several_errors_with_commas():
    definition = machine({"A": {"Type": "Pass", "Next": "Nowhere"},
                          "B": {"Type": "Pass", "End": True}})
    message = create_error_message(validate(definition))
    assert message == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: "
        "Nowhere at /States/A/Next, MISSING_TRANSITION_TARGET: State \"B\" is not reachable. "
        "at /States/B'")


def test_the_create_message_is_empty_for_a_valid_definition():
    assert create_error_message(validate(one(PASS_END))) == ""


def test_the_create_message_of_text_that_is_not_an_object_has_no_pointer():
    assert create_error_message(validate("[]")) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Definition must be a valid "
        "JSON object'")


# --- what AWS recorded, beyond the public corpus --------------------------------------------


def test_text_that_is_not_json_is_described_as_awss_parser_describes_it():
    # ValidateStateMachineDefinition's diagnostic as AWS records it (NOT_A_DEF).
    location = '[Source: (String)"not a definition"; line: 1, column: 4]'
    message = ("Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or "
               "token 'null', 'true' or 'false')\n at " + location)
    assert validate("not a definition") == [
        Diagnostic("ERROR", "INVALID_JSON_DESCRIPTION", message, location)]
    assert create_error_message(validate("not a definition")) == (
        f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {message}'")


def test_json_that_breaks_on_line_3_says_line_3():
    [diagnostic] = validate('{\n  "StartAt": "A",\n  "States": {,}\n}')
    assert diagnostic.location.endswith("; line: 3, column: 15]")
    assert diagnostic.message.startswith("Unexpected character (',' (code 44)): was expecting "
                                         "double-quote to start field name\n at [Source: ")


CREDENTIALS_TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Arguments": "{% $states.input %}", "End": True}


@pytest.mark.parametrize("credentials", [{}, {"InvalidField": "invalid"}])
def test_credentials_without_a_role_arn_are_refused_as_aws_refuses_them(credentials):
    definition = {"StartAt": "State0", "QueryLanguage": "JSONata", "States": {
        "State0": {**CREDENTIALS_TASK, "Credentials": credentials}}}
    assert create_error_message(validate(definition)) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is "
        "required but was missing at /States/State0/Credentials'")


@pytest.mark.parametrize("language, credentials", [
    ("JSONata", {"RoleArn": "{% $states.input.role %}"}),
    ("JSONata", {"RoleArn": "arn:aws:iam::111111111111:role/r"}),
    ("JSONPath", {"RoleArn.$": "$.role"}),
    ("JSONPath", {"RoleArn": "arn:aws:iam::111111111111:role/r"}),
])
def test_credentials_naming_a_role_arn_are_accepted(language, credentials):
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
            "Credentials": credentials}
    task.update({"Arguments": {"FunctionName": "f"}} if language == "JSONata" else
                {"Parameters": {"FunctionName": "f"}})
    assert errors({"StartAt": "T", "QueryLanguage": language, "States": {"T": task}}) == []


def test_a_state_may_not_go_back_to_jsonpath_in_a_jsonata_machine():
    definition = {"StartAt": "Pass", "QueryLanguage": "JSONata", "States": {
        "Pass": {"Type": "Pass", "End": True, "QueryLanguage": "JSONPath"}}}
    assert [(d.code, d.message, d.location) for d in validate(definition)] == [
        (SCHEMA, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state "
                 "machine", "/States/Pass")]


def test_a_state_nested_in_a_jsonata_machine_may_not_go_back_to_jsonpath_either():
    definition = {"StartAt": "M", "QueryLanguage": "JSONata", "States": {"M": {
        "Type": "Map", "End": True, "ItemProcessor": {"StartAt": "P", "States": {
            "P": {"Type": "Pass", "End": True, "QueryLanguage": "JSONPath"}}}}}}
    assert [d.location for d in errors(definition)] == ["/States/M/ItemProcessor/States/P"]


@pytest.mark.parametrize("name", ["a\x00b", "tab\there", "esc\x1b", "c1\x85", "\ud800", "x\uffff"])
def test_a_state_name_with_a_control_character_is_refused_where_it_is(name):
    definition = machine({name: PASS_END})
    assert [(d.code, d.location) for d in errors(definition)] == [(SCHEMA, f"/States/{name}")]
    assert [(d.code, d.location) for d in errors(json.dumps(definition))] == \
        [(SCHEMA, f"/States/{name}")]


def test_a_state_name_with_spaces_korean_or_punctuation_is_accepted():
    assert errors(machine({"공격 훈련 (1)?": PASS_END})) == []


# --- input that is not a definition ----------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\t"])
def test_it_asks_blank_text_for_a_json_object(text):
    assert [(d.code, d.message) for d in validate(text)] == [
        (SCHEMA, "Definition must be a valid JSON object")]


@pytest.mark.parametrize("value", [[], 1, "\"text\"", "null", None, 3.5, ["StartAt"]])
def test_it_asks_a_value_that_is_not_an_object_for_one(value):
    assert [d.message for d in validate(value)] == ["Definition must be a valid JSON object"]


@pytest.mark.parametrize("text", ["{", "{'StartAt': 1}", "{\"a\": NaN}", b"\xff\xfe", "{} {}"])
def test_it_reports_text_that_is_not_json_as_an_invalid_json_description(text):
    assert [d.code for d in validate(text)] == ["INVALID_JSON_DESCRIPTION"]


def test_it_reads_a_definition_from_json_bytes():
    assert validate(json.dumps(one(PASS_END)).encode()) == []


def test_it_survives_text_nested_beyond_any_parser():
    diagnostics = validate("[" * 100000 + "]" * 100000)
    assert diagnostics and all(d.severity == "ERROR" for d in diagnostics)


def test_it_survives_a_payload_nested_beyond_the_recursion_limit():
    deep: dict = {}
    node = deep
    for _ in range(50000):
        node["a"] = {}
        node = node["a"]
    node["bad.$"] = "not a path"
    diagnostics = validate(one({"Type": "Pass", "Parameters": deep, "End": True}))
    assert [d.code for d in diagnostics] == [SCHEMA]


def test_it_checks_state_machines_nested_beyond_the_recursion_limit():
    definition = machine({"Deepest": {"Type": "Pass", "Next": "Nowhere"}})
    for level in range(3000):
        definition = machine({f"P{level}": {"Type": "Parallel", "Branches": [definition],
                                            "End": True}})
    diagnostics = validate(definition)
    assert [(d.code, d.message) for d in diagnostics] == [
        (MISSING, "Missing 'Next' target: Nowhere")]
    assert diagnostics[0].location.endswith("/Branches/0/States/Deepest/Next")


# --- the top level ---------------------------------------------------------------------------


def test_it_accepts_the_smallest_state_machine():
    assert validate(one(PASS_END)) == []


def test_it_requires_start_at_and_states():
    assert found({}, SCHEMA, "/") == ["These fields are required: [StartAt, States]"]


def test_it_rejects_a_start_at_that_names_no_state():
    assert found(machine({"A": PASS_END}, start="B"), MISSING, "/StartAt") == [
        "Missing 'StartAt' target: B"]


def test_it_rejects_unknown_top_level_fields():
    assert found(machine({"A": PASS_END}, Foo=1), SCHEMA, "/") == ["Field 'Foo' is not supported"]


def test_it_accepts_comment_version_timeout_and_query_language_at_the_top():
    definition = machine({"A": PASS_END}, Comment="c", Version="1.0", TimeoutSeconds=5,
                         QueryLanguage="JSONata")
    assert errors(definition) == []


@pytest.mark.parametrize("field, value", [
    ("Version", "2.0"), ("TimeoutSeconds", 0), ("TimeoutSeconds", "5"), ("TimeoutSeconds", True),
    ("QueryLanguage", "XPath"), ("Comment", 5)])
def test_it_rejects_bad_top_level_values(field, value):
    assert found(machine({"A": PASS_END}, **{field: value}), SCHEMA, "/")


def test_it_rejects_an_empty_states_object():
    assert found({"StartAt": "A", "States": {}}, SCHEMA, "/")


def test_it_rejects_states_that_is_not_an_object():
    assert found({"StartAt": "A", "States": []}, SCHEMA, "/") == [
        "The value for the field 'States' must be an object"]


def test_it_rejects_a_state_that_is_not_an_object():
    assert found(machine({"A": 5}), SCHEMA, "/States/A") == ["A state must be a JSON object"]


def test_it_rejects_a_state_name_longer_than_80_characters():
    name = "N" * 81
    assert found(machine({name: PASS_END}), SCHEMA, f"/States/{name}")
    assert errors(machine({"N" * 80: PASS_END})) == []


def test_it_reports_a_state_name_repeated_in_the_json_text():
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, ' \
           '"A": {"Type": "Succeed"}}}'
    assert found(text, "DUPLICATE_STATE_NAME", "/States/A") == ["Duplicate State name: A"]


def test_it_reports_a_state_name_used_in_two_parallel_branches():
    branch = one(PASS_END)
    definition = one({"Type": "Parallel", "Branches": [branch, copy.deepcopy(branch)],
                      "End": True})
    assert found(definition, "DUPLICATE_STATE_NAME", "/States/S/Branches/1/States/S") == [
        "Duplicate State name: S"]


def test_it_escapes_pointer_tokens_in_locations():
    assert found(machine({"a/b~c": {"Type": "Pass"}}), SCHEMA, "/States/a~1b~0c")


# --- transitions and reachability ------------------------------------------------------------


def test_it_rejects_a_next_that_names_no_state():
    definition = one({"Type": "Pass", "Next": "Missing"})
    assert found(definition, MISSING, "/States/S/Next") == ["Missing 'Next' target: Missing"]


def test_it_rejects_a_state_with_both_next_and_end():
    definition = machine({"A": {"Type": "Pass", "Next": "B", "End": True}, "B": PASS_END})
    assert found(definition, SCHEMA, "/States/A") == [
        "These fields cannot be used together: [Next, End]"]


def test_it_rejects_a_state_with_neither_next_nor_end():
    assert found(one({"Type": "Pass"}), SCHEMA, "/States/S") == [
        "Exactly one of these fields is required: [Next, End]"]


def test_it_rejects_an_end_that_is_not_a_boolean():
    assert found(one({"Type": "Pass", "End": "true"}), SCHEMA, "/States/S")


def test_it_rejects_a_state_no_transition_reaches():
    definition = machine({"A": PASS_END, "B": PASS_END})
    assert found(definition, MISSING, "/States/B") == ['State "B" is not reachable.']


def test_it_reaches_states_through_choices_defaults_and_catchers():
    definition = machine({
        "C": {"Type": "Choice", "Default": "D",
              "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "T"}]},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}]},
        "D": {"Type": "Succeed"},
        "F": {"Type": "Fail"},
    })
    assert errors(definition) == []


def test_it_accepts_a_loop_back_to_an_earlier_state():
    definition = machine({
        "A": {"Type": "Pass", "Next": "C"},
        "C": {"Type": "Choice", "Default": "A",
              "Choices": [{"Variable": "$.done", "BooleanEquals": True, "Next": "E"}]},
        "E": {"Type": "Succeed"}})
    assert errors(definition) == []


def test_it_keeps_transitions_inside_a_parallel_branch():
    branch = machine({"Inner": {"Type": "Pass", "Next": "Outer"}})
    definition = machine({"P": {"Type": "Parallel", "Branches": [branch], "Next": "Outer"},
                          "Outer": PASS_END})
    assert found(definition, MISSING, "/States/P/Branches/0/States/Inner/Next") == [
        "Missing 'Next' target: Outer"]


def test_it_keeps_transitions_inside_a_map_processor():
    processor = machine({"Inner": {"Type": "Pass", "Next": "Outer"}})
    definition = machine({"M": {"Type": "Map", "ItemProcessor": processor, "Next": "Outer"},
                          "Outer": PASS_END})
    assert found(definition, MISSING, "/States/M/ItemProcessor/States/Inner/Next")


def test_it_checks_reachability_inside_each_branch():
    branch = machine({"A": PASS_END, "Lost": PASS_END})
    definition = one({"Type": "Parallel", "Branches": [branch], "End": True})
    assert found(definition, MISSING, "/States/S/Branches/0/States/Lost")


# --- state types and their fields ------------------------------------------------------------


def test_it_requires_a_type():
    assert found(one({"End": True}), SCHEMA, "/States/S") == ["These fields are required: [Type]"]


def test_it_rejects_an_unknown_type():
    assert found(one({"Type": "Sleep", "End": True}), SCHEMA, "/States/S")


@pytest.mark.parametrize("state_type, field", [
    ("Pass", "Resource"), ("Succeed", "Next"), ("Fail", "End"), ("Choice", "Next"),
    ("Choice", "ResultPath"), ("Wait", "Parameters"), ("Fail", "InputPath"), ("Pass", "Retry")])
def test_it_rejects_a_field_the_state_type_does_not_have(state_type, field):
    state = {"Type": state_type, field: "x"}
    assert f"Field '{field}' is not supported" in found(one(state), SCHEMA, "/States/S")


@pytest.mark.parametrize("field", ["InputPath", "OutputPath", "Parameters", "ResultSelector",
                                   "ResultPath"])
def test_it_rejects_jsonpath_fields_in_a_jsonata_state(field):
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
             "QueryLanguage": "JSONata", field: "$"}
    assert found(one(state), SCHEMA, "/States/S") == [
        f"The field '{field}' is not supported with QueryLanguage JSONata"]


@pytest.mark.parametrize("field", ["Arguments", "Output"])
def test_it_rejects_jsonata_fields_in_a_jsonpath_state(field):
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
             field: {}}
    assert found(one(state), SCHEMA, "/States/S") == [
        f"The field '{field}' is not supported with QueryLanguage JSONPath"]


def test_a_state_inherits_jsonata_from_the_top_level():
    definition = machine({"A": {"Type": "Pass", "InputPath": "$", "End": True}},
                         QueryLanguage="JSONata")
    assert found(definition, SCHEMA, "/States/A")


def test_a_state_can_choose_its_own_query_language():
    definition = machine({"A": {"Type": "Pass", "QueryLanguage": "JSONata",
                                "Output": "{% $states.input %}", "End": True}})
    assert errors(definition) == []


def test_it_accepts_assign_in_both_query_languages():
    definition = machine({
        "A": {"Type": "Pass", "Assign": {"x.$": "$.a", "y": 1}, "Next": "B"},
        "B": {"Type": "Pass", "QueryLanguage": "JSONata", "Assign": {"z": "{% $x %}"},
              "End": True}})
    assert errors(definition) == []


def test_it_rejects_an_assign_that_is_not_an_object():
    assert found(one({"Type": "Pass", "Assign": [1], "End": True}), SCHEMA, "/States/S")


# --- paths, templates, intrinsic functions, JSONata ------------------------------------------


@pytest.mark.parametrize("field", ["InputPath", "OutputPath"])
def test_it_rejects_an_input_or_output_path_that_is_not_a_path(field):
    state = {"Type": "Pass", field: "not a path", "End": True}
    assert found(one(state), SCHEMA, "/States/S") == [
        f"The value for the field '{field}' must be a valid JSONPath"]


def test_it_accepts_null_input_output_and_result_paths():
    state = {"Type": "Pass", "InputPath": None, "OutputPath": None, "ResultPath": None,
             "End": True}
    assert errors(one(state)) == []


def test_it_rejects_a_result_path_that_is_not_a_reference_path():
    state = {"Type": "Pass", "ResultPath": "nope", "End": True}
    assert found(one(state), SCHEMA, "/States/S") == [
        "The value for the field 'ResultPath' must be a valid Reference Path"]


def test_it_rejects_a_template_value_that_is_neither_a_path_nor_an_intrinsic_call():
    state = {"Type": "Pass", "Parameters": {"deep": {"x.$": "plain text"}}, "End": True}
    assert found(one(state), SCHEMA, "/States/S/Parameters/deep") == [
        "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function "
        "call"]


def test_it_rejects_a_template_value_that_is_not_a_string():
    state = {"Type": "Pass", "Parameters": {"list": [{"x.$": 5}]}, "End": True}
    assert found(one(state), SCHEMA, "/States/S/Parameters/list/0")


def test_it_rejects_an_intrinsic_call_that_does_not_parse():
    state = {"Type": "Pass", "Parameters": {"x.$": "States.Format('a'"}, "End": True}
    assert found(one(state), SCHEMA, "/States/S/Parameters")


def test_it_rejects_an_escaped_double_quote_in_an_intrinsic_string():
    state = {"Type": "Pass", "Parameters": {"x.$": "States.Format('say \\\"hi\\\"')"},
             "End": True}
    assert found(one(state), SCHEMA, "/States/S/Parameters")


def test_it_accepts_the_escapes_aws_allows_in_an_intrinsic_string():
    state = {"Type": "Pass", "End": True,
             "Parameters": {"x.$": "States.Format('it\\'s \\{ \\} \\\\ {}', $.a)"}}
    assert errors(one(state)) == []


def test_it_accepts_context_and_variable_paths_in_templates():
    state = {"Type": "Pass", "End": True,
             "Parameters": {"id.$": "$$.Execution.Id", "v.$": "$myVar", "r.$": "$.a[0].b"}}
    assert errors(one(state)) == []


def test_it_rejects_parameters_that_are_not_an_object():
    assert found(one({"Type": "Pass", "Parameters": "x", "End": True}), SCHEMA, "/States/S") == [
        "The value for the field 'Parameters' must be an object"]


def test_it_rejects_a_jsonata_expression_that_does_not_parse():
    state = {"Type": "Pass", "QueryLanguage": "JSONata", "End": True,
             "Output": {"a": ["{% $states.input. %}"]}}
    assert found(one(state), SCHEMA, "/States/S/Output/a") == [
        "The value for the field 'a' must be a valid JSONata expression"]


def test_it_treats_a_jsonata_looking_string_in_a_jsonpath_state_as_text():
    state = {"Type": "Pass", "Result": "{% 1 + %}", "End": True}
    assert errors(one(state)) == []


# --- Task ------------------------------------------------------------------------------------


def task(**fields) -> dict:
    return one({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                **fields})


def test_it_requires_a_task_resource():
    assert found(one({"Type": "Task", "End": True}), SCHEMA, "/States/S") == [
        "These fields are required: [Resource]"]


@pytest.mark.parametrize("resource", [
    "arn:aws:lambda:us-east-1:111111111111:function:f",
    "arn:aws:states:::lambda:invoke", "arn:aws:states:::lambda:invoke.waitForTaskToken",
    "arn:aws:states:::states:startExecution.sync:2", "arn:aws:states:::aws-sdk:s3:listBuckets",
    "arn:aws:states:::dynamodb:putItem", "arn:aws:states:us-east-1:111111111111:activity:a"])
def test_it_accepts_resources_aws_recognises(resource):
    assert errors(task(Resource=resource)) == []


@pytest.mark.parametrize("resource", [
    "arn:aws:states:::dynamodb:query", "arn:aws:states:::nosuch:thing", "lambda", "",
    "arn:aws:states:::aws-sdk:s3"])
def test_it_rejects_resources_aws_does_not_recognise(resource):
    assert found(task(Resource=resource), SCHEMA, "/States/S/Resource") == [
        f"The resource provided {resource} is not recognized. The value is not a valid resource "
        "ARN, or the resource is not available in this region."]


@pytest.mark.parametrize("suffix, pattern", [(".sync", ".sync"), (".sync:2", ".sync"),
                                             (".waitForTaskToken", ".waitForTaskToken")])
def test_an_express_machine_refuses_callback_and_sync_integrations(suffix, pattern):
    definition = task(Resource=f"arn:aws:states:::states:startExecution{suffix}")
    assert found(definition, SCHEMA, "/States/S/Resource", state_machine_type="EXPRESS") == [
        f"Express state machine does not support '{pattern}' service integration "]
    assert errors(definition) == []


@pytest.mark.parametrize("fields", [
    {"TimeoutSeconds": 0}, {"TimeoutSeconds": 1.5}, {"TimeoutSeconds": "10"},
    {"HeartbeatSeconds": -1}, {"TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t"},
    {"HeartbeatSeconds": 10, "TimeoutSeconds": 10}, {"TimeoutSecondsPath": "t"}])
def test_it_rejects_bad_task_timeouts(fields):
    assert found(task(**fields), SCHEMA, "/States/S")


def test_it_accepts_a_heartbeat_shorter_than_the_timeout():
    assert errors(task(TimeoutSeconds=10, HeartbeatSeconds=5)) == []


def test_it_accepts_jsonata_timeouts_in_a_jsonata_task():
    definition = task(QueryLanguage="JSONata", TimeoutSeconds="{% $states.input.t %}",
                      HeartbeatSeconds=1, Arguments={"a": "{% 1 %}"}, Output="{% $states.result %}")
    assert errors(definition) == []


# --- Retry and Catch -------------------------------------------------------------------------


@pytest.mark.parametrize("retrier", [
    {}, {"ErrorEquals": []}, {"ErrorEquals": "States.ALL"}, {"ErrorEquals": [1]},
    {"ErrorEquals": ["States.ALL", "X"]}, {"ErrorEquals": ["X"], "IntervalSeconds": 0},
    {"ErrorEquals": ["X"], "MaxAttempts": -1}, {"ErrorEquals": ["X"], "BackoffRate": 0.5},
    {"ErrorEquals": ["X"], "MaxDelaySeconds": 0}, {"ErrorEquals": ["X"], "JitterStrategy": "HALF"},
    {"ErrorEquals": ["X"], "Next": "S"}])
def test_it_rejects_a_bad_retrier(retrier):
    assert found(task(Retry=[retrier]), SCHEMA, "/States/S/Retry/0")


def test_it_accepts_a_full_retrier():
    retrier = {"ErrorEquals": ["States.Timeout", "Custom"], "IntervalSeconds": 2,
               "MaxAttempts": 0, "BackoffRate": 1.5, "MaxDelaySeconds": 10,
               "JitterStrategy": "FULL", "Comment": "c"}
    assert errors(task(Retry=[retrier, {"ErrorEquals": ["States.ALL"]}])) == []


def test_it_requires_states_all_to_be_the_last_retrier():
    definition = task(Retry=[{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}])
    assert found(definition, SCHEMA, "/States/S/Retry/0") == [
        "States.ALL must appear in the last element of its array"]


def test_it_requires_a_catcher_to_name_its_next_state():
    assert found(task(Catch=[{"ErrorEquals": ["X"]}]), SCHEMA, "/States/S/Catch/0") == [
        "These fields are required: [Next]"]


def test_it_rejects_a_catcher_going_nowhere():
    definition = task(Catch=[{"ErrorEquals": ["X"], "Next": "Nope"}])
    assert found(definition, MISSING, "/States/S/Catch/0/Next")


def test_it_checks_a_catchers_result_path_or_output_by_query_language():
    bad_path = task(Catch=[{"ErrorEquals": ["X"], "Next": "S", "ResultPath": "x"}])
    assert found(bad_path, SCHEMA, "/States/S/Catch/0")
    jsonata = task(QueryLanguage="JSONata", Catch=[
        {"ErrorEquals": ["X"], "Next": "S", "Output": "{% $states.errorOutput %}",
         "Assign": {"e": "{% $states.errorOutput.Error %}"}}])
    assert errors(jsonata) == []
    mixed = task(QueryLanguage="JSONata", Catch=[{"ErrorEquals": ["X"], "Next": "S",
                                                  "ResultPath": "$.e"}])
    assert found(mixed, SCHEMA, "/States/S/Catch/0") == [
        "The field 'ResultPath' is not supported with QueryLanguage JSONata"]


def test_it_rejects_retry_that_is_not_an_array():
    assert found(task(Retry={}), SCHEMA, "/States/S")


# --- Choice ----------------------------------------------------------------------------------


def choice(*rules, **fields) -> dict:
    states = {"C": {"Type": "Choice", "Choices": list(rules), "Default": "E", **fields},
              "E": {"Type": "Succeed"}}
    return machine(states)


def test_it_rejects_a_choice_without_rules():
    assert found(machine({"C": {"Type": "Choice"}}), SCHEMA, "/States/C") == [
        "These fields are required: [Choices]"]
    assert found(choice(), SCHEMA, "/States/C")


def test_it_rejects_a_rule_without_an_operator():
    assert found(choice({"Variable": "$.x", "Next": "E"}), SCHEMA, "/States/C/Choices/0")


def test_it_rejects_a_rule_with_two_operators():
    rule = {"Variable": "$.x", "StringEquals": "a", "IsPresent": True, "Next": "E"}
    assert found(choice(rule), SCHEMA, "/States/C/Choices/0") == [
        "A Choice Rule must have only one operator, found [StringEquals, IsPresent]"]


def test_it_rejects_a_comparison_without_a_variable():
    assert found(choice({"StringEquals": "a", "Next": "E"}), SCHEMA, "/States/C/Choices/0") == [
        "These fields are required: [Variable]"]


def test_it_requires_next_on_top_level_rules():
    assert found(choice({"Variable": "$.x", "IsNull": True}), SCHEMA, "/States/C/Choices/0") == [
        "These fields are required: [Next]"]


def test_it_refuses_next_inside_a_nested_rule():
    rule = {"Not": {"Variable": "$.x", "IsNull": True, "Next": "E"}, "Next": "E"}
    assert found(choice(rule), SCHEMA, "/States/C/Choices/0/Not") == [
        "Field 'Next' is not supported"]


def test_it_checks_rules_nested_in_and_or_not():
    rule = {"And": [{"Variable": "$.a", "IsPresent": True},
                    {"Or": [{"Variable": "$.b", "NumericEquals": "1"},
                            {"Not": {"Variable": "$.c", "StringMatches": "x*"}}]}],
            "Next": "E"}
    assert found(choice(rule), SCHEMA, "/States/C/Choices/0/And/1/Or/0") == [
        "The value for the field 'NumericEquals' must be a number"]


@pytest.mark.parametrize("operator", ["And", "Or"])
def test_it_rejects_an_empty_and_or(operator):
    assert found(choice({operator: [], "Next": "E"}), SCHEMA, "/States/C/Choices/0")


@pytest.mark.parametrize("operator, value", [
    ("StringEquals", 1), ("NumericLessThan", "1"), ("NumericEquals", True),
    ("BooleanEquals", "true"), ("IsNull", 1), ("TimestampEquals", 5),
    ("StringEqualsPath", "x"), ("NumericEqualsPath", 3)])
def test_it_rejects_a_comparison_value_of_the_wrong_type(operator, value):
    rule = {"Variable": "$.x", operator: value, "Next": "E"}
    assert found(choice(rule), SCHEMA, "/States/C/Choices/0")


def test_it_rejects_a_timestamp_comparison_with_a_bad_timestamp():
    rule = {"Variable": "$.x", "TimestampEquals": "2016-13-05T21:29:29Z", "Next": "E"}
    assert found(choice(rule), SCHEMA, "/States/C/Choices/0/TimestampEquals") == [
        "String does not match RFC3339 timestamp"]


def test_it_accepts_every_comparison_operator():
    values = {"String": "a", "Numeric": 1.5, "Boolean": True, "Timestamp": "2020-01-01T00:00:00Z"}
    rules = []
    for prefix, value in values.items():
        names = ["Equals"] if prefix == "Boolean" else [
            "Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"]
        for name in names:
            rules.append({"Variable": "$.x", f"{prefix}{name}": value, "Next": "E"})
            rules.append({"Variable": "$.x", f"{prefix}{name}Path": "$.y", "Next": "E"})
    rules.append({"Variable": "$.x", "StringMatches": "a*", "Next": "E"})
    for test in ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"):
        rules.append({"Variable": "$.x", test: False, "Next": "E"})
    assert errors(choice(*rules)) == []


def test_it_rejects_a_default_going_nowhere():
    definition = choice({"Variable": "$.x", "IsNull": True, "Next": "E"}, Default="Nope")
    assert found(definition, MISSING, "/States/C/Default") == ["Missing 'Default' target: Nope"]


def test_it_rejects_a_variable_that_is_not_a_path():
    rule = {"Variable": "x", "IsNull": True, "Next": "E"}
    assert found(choice(rule), SCHEMA, "/States/C/Choices/0") == [
        "The value for the field 'Variable' must be a valid JSONPath"]


def test_it_takes_conditions_in_a_jsonata_choice():
    good = choice({"Condition": "{% $states.input.x > 1 %}", "Next": "E",
                   "Assign": {"a": 1}, "Output": {"b": "{% 2 %}"}}, QueryLanguage="JSONata")
    assert errors(good) == []
    missing = choice({"Next": "E"}, QueryLanguage="JSONata")
    assert found(missing, SCHEMA, "/States/C/Choices/0") == [
        "These fields are required: [Condition]"]
    jsonpath_rule = choice({"Variable": "$.x", "IsNull": True, "Condition": True, "Next": "E"},
                           QueryLanguage="JSONata")
    assert found(jsonpath_rule, SCHEMA, "/States/C/Choices/0")


# --- Wait ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fields", [
    {"Seconds": 1}, {"Timestamp": "2016-03-05T21:29:29.243167252Z"}, {"SecondsPath": "$.s"},
    {"TimestampPath": "$.t"}, {"Timestamp": "2024-02-29T00:00:00+01:00"}])
def test_it_accepts_one_way_to_wait(fields):
    assert errors(one({"Type": "Wait", "End": True, **fields})) == []


@pytest.mark.parametrize("fields", [
    {}, {"Seconds": 1, "Timestamp": "2016-03-05T21:29:29Z"}, {"Seconds": -1}, {"Seconds": "1"},
    {"SecondsPath": "s"}, {"Seconds": 1, "SecondsPath": "$.s"}])
def test_it_rejects_a_wait_without_exactly_one_valid_duration(fields):
    assert found(one({"Type": "Wait", "End": True, **fields}), SCHEMA, "/States/S")


@pytest.mark.parametrize("timestamp", [
    "2016-13-05T21:29:29Z", "2016-12-05T25:29:29Z", "2016-12-05 21:29:29Z",
    "2016-12-05T21:29:29", "2023-02-29T00:00:00Z", "2016-12-05t21:29:29z", 5])
def test_it_rejects_a_timestamp_that_is_not_rfc3339(timestamp):
    state = {"Type": "Wait", "Timestamp": timestamp, "End": True}
    assert found(one(state), SCHEMA, "/States/S/Timestamp") == [
        "String does not match RFC3339 timestamp"]


def test_it_accepts_jsonata_seconds_and_timestamps():
    definition = machine({
        "A": {"Type": "Wait", "Seconds": "{% $states.input.s %}", "Next": "B"},
        "B": {"Type": "Wait", "Timestamp": "{% $states.input.t %}", "End": True}},
        QueryLanguage="JSONata")
    assert errors(definition) == []
    with_path = machine({"A": {"Type": "Wait", "SecondsPath": "$.s", "End": True}},
                        QueryLanguage="JSONata")
    assert found(with_path, SCHEMA, "/States/A")


# --- Fail and Succeed ------------------------------------------------------------------------


@pytest.mark.parametrize("fields", [
    {"Error": "E", "ErrorPath": "$.e"}, {"Cause": "C", "CausePath": "$.c"}, {"Error": 1},
    {"ErrorPath": "e"}, {"CausePath": "States.Format("}])
def test_it_rejects_a_bad_fail_state(fields):
    assert found(one({"Type": "Fail", **fields}), SCHEMA, "/States/S")


def test_it_accepts_paths_and_intrinsic_calls_for_fail_error_and_cause():
    state = {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('{}', $.c)"}
    assert errors(one(state)) == []


def test_succeed_and_fail_states_end_the_machine_without_end():
    assert errors(one({"Type": "Succeed"})) == []
    assert errors(one({"Type": "Fail", "Error": "E", "Cause": "C"})) == []


# --- Parallel and Map ------------------------------------------------------------------------


def test_it_requires_parallel_branches():
    assert found(one({"Type": "Parallel", "End": True}), SCHEMA, "/States/S") == [
        "These fields are required: [Branches]"]
    assert found(one({"Type": "Parallel", "Branches": [], "End": True}), SCHEMA, "/States/S")


def test_it_validates_each_branch_as_a_state_machine():
    definition = one({"Type": "Parallel", "Branches": [{"States": {}}], "End": True})
    assert "These fields are required: [StartAt]" in found(
        definition, SCHEMA, "/States/S/Branches/0")


def inline_map(**fields) -> dict:
    processor = {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I",
                 "States": {"I": PASS_END}}
    return one({"Type": "Map", "ItemProcessor": processor, "End": True, **fields})


def test_it_accepts_an_inline_map_with_its_fields():
    definition = inline_map(ItemsPath="$.items", ItemSelector={"v.$": "$$.Map.Item.Value"},
                            MaxConcurrency=2, ResultPath="$.r", ResultSelector={"a.$": "$"})
    assert errors(definition) == []


def test_it_accepts_a_legacy_iterator():
    definition = one({"Type": "Map", "Iterator": {"StartAt": "I", "States": {"I": PASS_END}},
                      "Parameters": {"x.$": "$$.Map.Item.Value"}, "End": True})
    assert errors(definition) == []


def test_it_requires_a_map_processor():
    assert found(one({"Type": "Map", "End": True}), SCHEMA, "/States/S") == [
        "These fields are required: [ItemProcessor]"]


@pytest.mark.parametrize("fields", [
    {"MaxConcurrency": -1}, {"MaxConcurrency": 1, "MaxConcurrencyPath": "$.m"},
    {"ItemsPath": "items"}, {"ToleratedFailurePercentage": 101},
    {"ToleratedFailureCount": 1, "ToleratedFailureCountPath": "$.c"},
    {"ItemSelector": {"a": 1}, "Parameters": {"b": 2}}, {"Label": "x" * 41},
    {"Items": [1, 2]}, {"ItemReader": {}}, {"ItemBatcher": 5}])
def test_it_rejects_bad_map_fields(fields):
    assert [d for d in errors(inline_map(**fields))
            if d.code == SCHEMA and d.location in ("/States/S", "/States/S/ItemReader")]


@pytest.mark.parametrize("config", [{"Mode": "PARALLEL"}, {"Mode": "DISTRIBUTED"},
                                    {"Mode": "DISTRIBUTED", "ExecutionType": "FAST"}, {"X": 1}])
def test_it_rejects_a_bad_processor_config(config):
    processor = {"ProcessorConfig": config, "StartAt": "I", "States": {"I": PASS_END}}
    definition = one({"Type": "Map", "ItemProcessor": processor, "End": True})
    assert found(definition, SCHEMA, "/States/S/ItemProcessor/ProcessorConfig")


def test_it_accepts_a_distributed_map_with_its_fields():
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                 "StartAt": "I", "States": {"I": PASS_END}}
    definition = one({"Type": "Map", "ItemProcessor": processor, "End": True,
                      "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                                     "ReaderConfig": {"InputType": "JSON"},
                                     "Parameters": {"Bucket.$": "$.b", "Key": "k"}},
                      "ItemBatcher": {"MaxItemsPerBatch": 10},
                      "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject"},
                      "Label": "label", "ToleratedFailurePercentagePath": "$.p"})
    assert errors(definition) == []


def test_it_accepts_a_jsonata_map_with_items():
    definition = inline_map(QueryLanguage="JSONata", Items="{% $states.input.xs %}",
                            MaxConcurrency="{% 2 %}", ItemSelector={"v": "{% $states.context %}"})
    assert errors(definition) == []
    assert errors(inline_map(QueryLanguage="JSONata", Items=[1, "{% 2 %}"])) == []


# --- properties ------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=30)

FIELD_NAMES = st.sampled_from([
    "Type", "Next", "End", "StartAt", "States", "Choices", "Default", "Variable", "Resource",
    "Parameters", "ItemProcessor", "Iterator", "Branches", "Retry", "Catch", "ErrorEquals",
    "Seconds", "Timestamp", "QueryLanguage", "Output", "Arguments", "Assign", "ResultPath",
    "And", "Not", "StringEquals", "TimeoutSeconds", "HeartbeatSeconds", "ProcessorConfig",
    "Mode", "Items", "Condition", "x.$", "ErrorPath"])
ASL_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(
        ["Pass", "Task", "Choice", "Wait", "Map", "Parallel", "Fail", "Succeed", "$", "$.a",
         "States.ALL", "{% 1 %}", "{% ( %}", "JSONata", "JSONPath", "A", "States.Format('{}')",
         "arn:aws:states:::lambda:invoke.sync"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FIELD_NAMES, inner, max_size=5),
    max_leaves=40)


def _assert_diagnostics(result) -> None:
    assert isinstance(result, list)
    for diagnostic in result:
        assert isinstance(diagnostic, Diagnostic)
        assert diagnostic.severity in ("ERROR", "WARNING")
        assert isinstance(diagnostic.code, str) and diagnostic.code
        assert isinstance(diagnostic.message, str) and diagnostic.message
        assert isinstance(diagnostic.location, str)
        if diagnostic.code == "INVALID_JSON_DESCRIPTION" and diagnostic.location:
            # Where text that is not JSON goes wrong, as AWS's parser names it.
            assert re.fullmatch(r"\[Source: .*; line: \d+, column: \d+\]", diagnostic.location,
                                re.DOTALL)
            assert diagnostic.message.endswith("\n at " + diagnostic.location)
        else:
            assert diagnostic.location == "" or diagnostic.location.startswith("/")


def _checked(definition) -> list[Diagnostic]:
    """Returns the validator's diagnostics without its last-resort guard, so a bug shows."""
    from runtime.asl.validation import _Validator
    return _Validator().run(definition)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_any_json_value_gets_diagnostics_and_never_an_exception(value):
    _assert_diagnostics(_checked(value))
    _assert_diagnostics(_checked(json.dumps(value)))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=100))
def test_any_text_gets_diagnostics_and_never_an_exception(text):
    _assert_diagnostics(_checked(text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["StartAt", "States", "Comment", "QueryLanguage"]),
                       ASL_LIKE, max_size=4),
       st.dictionaries(st.sampled_from(["A", "B", "S"]), ASL_LIKE, max_size=3))
def test_definitions_shaped_like_asl_never_raise(top, states):
    _assert_diagnostics(_checked({**top, "States": states, "StartAt": "A"}))
    _assert_diagnostics(_checked(top))


def _containers(value, trail=()):
    """Yields (path of keys, container) of every object and array in `value`."""
    if isinstance(value, (dict, list)):
        yield trail, value
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            yield from _containers(item, trail + (key,))


MUTABLE_CASES = [c["definition"] for c in EXECUTION_CASES[::25]]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MUTABLE_CASES), st.data())
def test_mutated_valid_definitions_never_raise(definition, data):
    definition = copy.deepcopy(definition)
    containers = [c for _, c in _containers(definition) if c]
    for _ in range(data.draw(st.integers(1, 3))):
        container = data.draw(st.sampled_from(containers))
        key = data.draw(st.sampled_from(
            list(container) if isinstance(container, dict) else list(range(len(container)))))
        if data.draw(st.booleans()):
            del container[key]
        else:
            container[key] = data.draw(JSON_VALUES)
        containers = [c for _, c in _containers(definition) if c]
        if not containers:
            break
    _assert_diagnostics(_checked(definition))


@pytest.mark.parametrize("name", ["1st", "a-b", "a.b", "", "x" * 81, "with space"])
def test_it_rejects_an_invalid_variable_name(name):
    state = {"Type": "Pass", "Assign": {name: 1}, "End": True}
    assert found(one(state), SCHEMA, "/States/S/Assign")


@pytest.mark.parametrize("name", ["x", "_x", "camelCase", "snake_case_2", "ÜberVar", "x" * 80])
def test_it_accepts_a_valid_variable_name(name):
    state = {"Type": "Pass", "Assign": {name: 1, "fromPath.$": "$.a"}, "End": True}
    assert errors(one(state)) == []


def test_it_rejects_an_empty_state_name():
    assert found(machine({"": PASS_END}), SCHEMA, "/States/") == ["A state name must not be empty"]


def test_it_leaves_the_definition_it_checks_unchanged():
    for case in EXECUTION_CASES[::10]:
        definition = copy.deepcopy(case["definition"])
        validate(definition)
        assert definition == case["definition"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["StartAt", "States", "Comment", "QueryLanguage"]),
                       ASL_LIKE, max_size=4),
       st.dictionaries(st.sampled_from(["A", "B", "S"]), ASL_LIKE, max_size=3))
def test_a_definition_and_its_json_text_get_the_same_diagnostics(top, states):
    definition = {**top, "States": states, "StartAt": "A"}
    assert validate(definition) == validate(json.dumps(definition))


def test_it_survives_a_cyclic_python_object():
    parameters: dict = {"bad.$": "nope"}
    parameters["self"] = parameters
    branches: list = []
    state = {"Type": "Parallel", "Branches": branches, "End": True, "Parameters": parameters}
    definition = one(state)
    branches.append(definition)
    diagnostics = validate(definition)
    assert diagnostics and all(isinstance(d, Diagnostic) for d in diagnostics)


@pytest.mark.parametrize("value", ["$.a[", "States.Nope($.a)", "States.MathAdd(1)", "a.b", ""])
def test_it_rejects_what_the_path_and_intrinsic_compilers_refuse(value):
    state = {"Type": "Pass", "Parameters": {"x.$": value}, "End": True}
    assert found(one(state), SCHEMA, "/States/S/Parameters")


@pytest.mark.parametrize("value", ["$$.x", "$.a[*]", "$.a..b"])
def test_it_refuses_a_result_path_that_is_not_a_plain_reference_into_the_input(value):
    state = {"Type": "Pass", "ResultPath": value, "End": True}
    assert found(one(state), SCHEMA, "/States/S")


def test_it_reports_every_bad_jsonata_expression_where_it_is():
    state = {"Type": "Pass", "QueryLanguage": "JSONata", "End": True,
             "Assign": {"a": "{% ( %}", "b": {"c": ["{% ] %}"]}}, "Output": "{% %}"}
    assert [d.location for d in errors(one(state))] == [
        "/States/S", "/States/S/Assign", "/States/S/Assign/b/c"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MUTABLE_CASES), st.data())
def test_every_mutated_definition_it_accepts_compiles_into_a_state_machine(definition, data):
    from runtime.asl import DefinitionError, StateMachine

    definition = copy.deepcopy(definition)
    containers = [c for _, c in _containers(definition) if c]
    container = data.draw(st.sampled_from(containers))
    key = data.draw(st.sampled_from(
        list(container) if isinstance(container, dict) else list(range(len(container)))))
    if data.draw(st.booleans()):
        del container[key]
    else:
        container[key] = data.draw(ASL_LIKE)
    if errors(definition):
        return
    try:
        StateMachine(definition)
    except DefinitionError:  # pragma: no cover - validate() just said it had no errors
        pytest.fail("StateMachine refused a definition validate() accepted")
