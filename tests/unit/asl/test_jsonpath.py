"""The JSONPath-mode expression layer: paths, ResultPath, payload templates and ".$" values."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.asl.diagnostics import ExpressionSyntaxError
from runtime.asl.errors import ResultPathMatchFailure, RuntimeFailure, StatesError
from runtime.asl.jsonpath import (
    MISSING, compile_path, compile_result_path, compile_template, compile_value, to_json_text,
)
from runtime.asl.jsonpath_text import java_number_text, to_java_text

CONTEXT = {
    "Execution": {"Input": {"int-literal": 0}, "Name": "run-1"},
    "StateMachine": {"Name": "machine-a-b"},
    "State": {"Name": "pass", "RetryCount": 0},
    "Map": {"Item": {"Index": 2, "Value": {"k": "v"}}},
}

# --- compiling paths ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, keys", [
    ("$", ()),
    ("$.a", ("a",)),
    ("$.a.b[0]", ("a", "b", 0)),
    ("$['x y']", ("x y",)),
    ('$["x.y"]', ("x.y",)),
    ("$.delivery-partner", ("delivery-partner",)),
    ("$.items[-1]", ("items", -1)),
    ("$['it\\'s']", ("it's",)),
    ("$.list.length()", ("list", "length()")),  # AWS reads a Jayway function as a property name
])
def test_a_reference_path_compiles_to_its_keys(text, keys):
    path = compile_path(text)
    assert path.is_reference
    assert path.keys == keys
    assert path.text == text


@pytest.mark.parametrize("text", [
    "$.items[*]", "$[*]", "$..year", "$.users[?(@.status == 0)]", "$.items[:1]",
    "$.items[:1].itemValue", "$.items[0,1]", "$.a.*", "$$.Execution.Input[*]", "$var[*]",
])
def test_a_path_with_wildcards_slices_or_filters_is_not_a_reference_path(text):
    assert not compile_path(text).is_reference


@pytest.mark.parametrize("text", [
    "", "a", "$.", "$a.", "$.a[", "$.a[?(@.b ==]", "$ .a", "$.a b", "$..", "$[]", "States",
    "$.a)", "$.a]", "$['unclosed]",
])
def test_it_refuses_text_that_is_not_a_path(text):
    with pytest.raises(ExpressionSyntaxError):
        compile_path(text)


def test_it_refuses_a_path_that_is_not_a_string():
    with pytest.raises(ExpressionSyntaxError):
        compile_path(42)


def test_a_context_path_and_a_variable_path_name_their_roots():
    assert compile_path("$$.Execution.Input").root == "context"
    variable = compile_path("$order.items[0]")
    assert (variable.root, variable.variable, variable.keys) == ("variable", "order", ("items", 0))


def test_compiling_the_same_text_twice_returns_the_same_path():
    assert compile_path("$.same.path") is compile_path("$.same.path")


# --- finding values ----------------------------------------------------------------------------


def test_find_walks_names_and_indices_through_the_input():
    data = {"a": {"b": [10, {"c": "deep"}]}}
    assert compile_path("$.a.b[1].c").find(data) == "deep"
    assert compile_path("$.a.b[-2]").find(data) == 10
    assert compile_path("$").find(data) is data


@pytest.mark.parametrize("text, data", [
    ("$.missing", {"a": 1}),
    ("$.a.b", {"a": 1}),
    ("$.a.b", {"a": None}),
    ("$.a[0]", {"a": "text"}),  # a string is not an array: no character indexing
    ("$.a[5]", {"a": [1, 2]}),
    ("$.a[-3]", {"a": [1, 2]}),
    ("$.a", [1, 2]),
    ("$[0]", {"0": "key, not index"}),
    ("$.a.b.c", {"a": {"b": [1]}}),
])
def test_find_returns_missing_when_the_path_selects_nothing(text, data):
    assert compile_path(text).find(data) is MISSING


def test_find_reads_the_context_object_through_a_double_dollar():
    assert compile_path("$$.Execution.Input").find({}, CONTEXT) == {"int-literal": 0}
    assert compile_path("$$.Map.Item.Value.k").find({}, CONTEXT) == "v"
    assert compile_path("$$").find({}, CONTEXT) is CONTEXT
    assert compile_path("$$.Execution").find({}, None) is MISSING


def test_find_reads_variables_by_name():
    variables = {"order": {"items": ["x", "y"]}, "n": 0}
    assert compile_path("$order.items[1]").find({}, None, variables) == "y"
    assert compile_path("$n").find({}, None, variables) == 0
    assert compile_path("$other").find({}, None, variables) is MISSING
    assert compile_path("$n").find({}, None, None) is MISSING


def test_a_filter_selects_the_matching_items_as_aws_does():
    # base.state_pass_regex_json_path_base
    data = {"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]}
    assert compile_path("$.users[?(@.status == 0)]").find(data) == [{"year": 1997, "status": 0}]


@pytest.mark.parametrize("text", ["$.items[*]", "$.items[:1].itemValue", "$.items[:1]", "$[*]"])
def test_a_wildcard_or_slice_over_missing_data_selects_an_empty_list(text):
    # base.json_path_array_wildcard_or_slice_with_no_input
    assert compile_path(text).find({}) == []


def test_wildcards_slices_unions_and_recursive_descent_select_lists():
    data = {"a": [{"b": 1}, {"b": 2}, {"b": 3}], "c": {"b": 4}}
    assert compile_path("$.a[*].b").find(data) == [1, 2, 3]
    assert compile_path("$.a[1:].b").find(data) == [2, 3]
    assert compile_path("$.a[0,2].b").find(data) == [1, 3]
    assert sorted(compile_path("$..b").find(data)) == [1, 2, 3, 4]


def test_names_before_a_wildcard_are_walked_whatever_characters_they_hold():
    data = {"a-b": {"l()": [{"x": 1}, {"x": 2}]}, "x y": [3]}
    assert compile_path("$.a-b.l()[*].x").find(data) == [1, 2]
    assert compile_path("$['a-b']['l()'][?(@.x > 1)]").find(data) == [{"x": 2}]
    assert compile_path("$['x y'][*]").find(data) == [3]
    assert compile_path("$v.a-b..x").find({}, None, {"v": data}) == [1, 2]


ESCAPED = {"a'b": 1, 'a"b': 2, 'Test\\""Name"': 'Value"\\', "a\\b": 4,
           "deep": [{"a'b": 5}, {'a"b': 6}]}


@pytest.mark.parametrize("text, found", [
    ("$['a\\'b']", 1),
    ('$["a\\"b"]', 2),
    # AWS's recording (escape_sequence_parsing[ESCAPE_SEQUENCES_JSONPATH]): inside single quotes
    # only \' is an escape, so \" stays a backslash and a quote.
    ("$['Test\\\"\"Name\"']", 'Value"\\'),
    ("$['a\\b']", 4),
    ("$.deep[*]['a\\'b']", [5]),
    ('$..["a\\"b"]', [2, 6]),
    ('$.deep[?(@["a\\"b"] == 6)]', [{'a"b': 6}]),
])
def test_a_quoted_name_in_brackets_escapes_only_its_own_quote(text, found):
    assert compile_path(text).find(ESCAPED) == found


def test_a_last_bracket_of_several_names_selects_one_object_of_those_present_as_jayway_does():
    data = {"a": {"x": 1, "y": 2, "z": 3}}
    path = compile_path("$.a['x', \"z\",'nope']")
    assert not path.is_reference
    assert path.find(data) == {"x": 1, "z": 3}
    assert path.find({"a": {}}) == {}
    assert path.find({"a": [1]}) is MISSING
    with pytest.raises(RuntimeFailure) as raised:
        path.select({"a": "text"})
    assert raised.value.cause.startswith(
        "Invalid path '$.a['x', \"z\",'nope']' : Expected to find an object with property "
        "['x','z','nope'] in path $['a'] but found 'java.lang.String'.")
    assert compile_path("$['x','y'].b").find({"x": {"b": 1}, "y": {"b": 2}}) == [1, 2]


def test_a_filter_comparing_unlike_types_selects_nothing_instead_of_raising():
    data = {"a": [{"b": "text"}, {"b": 2}]}
    assert compile_path("$.a[?(@.b > 1)]").find(data) in ([], [{"b": 2}])


def test_find_never_changes_the_input():
    data = {"a": {"b": [1, 2]}}
    before = copy.deepcopy(data)
    compile_path("$.a.b[0]").find(data)
    compile_path("$.a.b[*]").find(data)
    assert data == before


# --- select: InputPath / OutputPath / ItemsPath ------------------------------------------------


def test_select_reports_a_missing_last_property_as_no_results():
    # base_scenarios.invalid_jsonpath[ST.INVALID_JSONPATH_IN_OUTPUTPATH]
    with pytest.raises(RuntimeFailure) as raised:
        compile_path("$.NoSuchOutputPath").select({"int-literal": 0})
    assert raised.value.error == "States.Runtime"
    assert raised.value.in_state
    assert raised.value.cause == ("Invalid path '$.NoSuchOutputPath' : "
                                  "No results for path: $['NoSuchOutputPath']")


def test_select_reports_a_missing_property_on_the_way_as_missing_property():
    # base_scenarios.catch_states_runtime
    with pytest.raises(RuntimeFailure) as raised:
        compile_path("$.no.such.result.path").select({})
    assert raised.value.cause == ("Invalid path '$.no.such.result.path' : "
                                  "Missing property in path $['no']")


def test_select_names_the_whole_path_when_only_the_leaf_is_missing():
    with pytest.raises(RuntimeFailure) as raised:
        compile_path("$.a.b").select({"a": {}})
    assert raised.value.cause == "Invalid path '$.a.b' : No results for path: $['a']['b']"


def test_select_reports_an_index_out_of_range_as_no_results():
    with pytest.raises(RuntimeFailure) as raised:
        compile_path("$.items[5]").select({"items": [1]})
    assert raised.value.cause == "Invalid path '$.items[5]' : No results for path: $['items'][5]"


def test_select_reports_a_property_of_a_non_object_in_jayways_words():
    with pytest.raises(RuntimeFailure) as raised:
        compile_path("$.a.b").select({"a": "text"})
    assert raised.value.cause.startswith(
        "Invalid path '$.a.b' : Expected to find an object with property ['b'] in path $['a'] "
        "but found 'java.lang.String'.")


def test_select_returns_what_find_returns_when_something_is_selected():
    data = {"detail": {"x": [1]}}
    assert compile_path("$.detail").select(data) is data["detail"]
    assert compile_path("$$.Execution.Input").select(data, CONTEXT) == {"int-literal": 0}
    assert compile_path("$.none[*]").select(data) == []


def test_select_of_an_undefined_variable_raises_a_runtime_failure():
    with pytest.raises(RuntimeFailure) as raised:
        compile_path("$ghost").select({}, None, {})
    assert "ghost" in raised.value.cause


# --- ResultPath --------------------------------------------------------------------------------


def test_a_result_path_of_dollar_replaces_the_input():
    assert compile_result_path("$").apply({"a": 1}, "result") == "result"


def test_a_null_result_path_keeps_the_input():
    state_input = {"a": 1}
    result_path = compile_result_path(None)
    assert result_path.discards_result
    assert result_path.apply(state_input, "ignored") is state_input


def test_a_result_path_puts_the_result_in_a_copy_of_the_input():
    state_input = {"a": 1, "keep": {"deep": [1]}}
    output = compile_result_path("$.result").apply(state_input, {"r": 2})
    assert output == {"a": 1, "keep": {"deep": [1]}, "result": {"r": 2}}
    assert state_input == {"a": 1, "keep": {"deep": [1]}}


def test_a_result_path_copies_only_the_containers_along_the_path():
    sibling = {"untouched": [1, 2]}
    state_input = {"detail": {"x": 1, "sibling": sibling}, "other": sibling}
    output = compile_result_path("$.detail.shipped_output").apply(state_input, [9])
    assert output["detail"] is not state_input["detail"]
    assert output["detail"]["sibling"] is sibling
    assert output["other"] is sibling
    assert "shipped_output" not in state_input["detail"]


def test_a_result_path_creates_the_missing_objects_on_its_way():
    assert compile_result_path("$.a.b.c").apply({"x": 0}, 1) == {"x": 0, "a": {"b": {"c": 1}}}


def test_a_result_path_replaces_an_existing_value():
    assert compile_result_path("$.a").apply({"a": {"old": 1}}, 2) == {"a": 2}


def test_a_result_path_can_set_an_existing_array_item():
    state_input = {"list": [1, 2, 3]}
    assert compile_result_path("$.list[1]").apply(state_input, "x") == {"list": [1, "x", 3]}
    assert state_input == {"list": [1, 2, 3]}


@pytest.mark.parametrize("text, state_input", [
    ("$.a", "a string input"),
    ("$.a", [1, 2]),
    ("$.a.b", {"a": "text"}),
    ("$.a.b", {"a": None}),
    ("$.a.b", {"a": [1]}),
    ("$.list[7]", {"list": [1]}),
    ("$.list[0]", {"list": {"0": 1}}),
])
def test_a_result_path_that_cannot_be_applied_raises_result_path_match_failure(text, state_input):
    with pytest.raises(ResultPathMatchFailure) as raised:
        compile_result_path(text).apply(state_input, 1)
    assert raised.value.error == "States.ResultPathMatchFailure"
    assert raised.value.catchable
    assert text in raised.value.cause


@pytest.mark.parametrize("text", [
    "$$.Execution", "$var.a", "$.a[*]", "$..a", "nope", "$.a[?(@.b)]"])
def test_a_result_path_must_be_a_reference_path_into_the_input(text):
    with pytest.raises(ExpressionSyntaxError):
        compile_result_path(text)


# --- payload templates -------------------------------------------------------------------------


def test_a_template_without_paths_is_constant_and_returns_the_shared_constant():
    payload = {"a": 1, "nested": {"b": [1, {"c": None}]}, "text": "$.not_a_path"}
    template = compile_template(payload, field="Parameters")
    assert template.is_constant
    assert template.evaluate({"anything": 1}) is payload


@pytest.mark.parametrize("value", [None, 0, 1.5, "text", True, [], {}])
def test_any_json_scalar_or_empty_container_is_a_constant_template(value):
    template = compile_template(value, field="Result")
    assert template.is_constant
    assert template.evaluate({}) == value


def test_a_template_replaces_dollar_keys_with_what_their_paths_select():
    template = compile_template(
        {"n": 0, "prev.$": "$.last.n", "tag.$": "$.meta.tag", "ctx.$": "$$.State.Name",
         "var.$": "$v", "all.$": "$"}, field="Parameters")
    data = {"last": {"n": 4}, "meta": {"tag": "t"}}
    out = template.evaluate(data, CONTEXT, {"v": [1]})
    assert not template.is_constant
    assert out == {"n": 0, "prev": 4, "tag": "t", "ctx": "pass", "var": [1], "all": data}
    assert list(out) == ["n", "prev", "tag", "ctx", "var", "all"]


def test_a_template_evaluates_nested_objects_and_objects_inside_arrays():
    template = compile_template(
        {"outer": {"inner.$": "$.x", "fixed": 1}, "list": [{"item.$": "$.y"}, 2, "$.z"]},
        field="Parameters")
    assert template.evaluate({"x": "X", "y": "Y"}) == {
        "outer": {"inner": "X", "fixed": 1}, "list": [{"item": "Y"}, 2, "$.z"]}


def test_a_template_keeps_the_definitions_key_order_when_constants_follow_paths():
    template = compile_template({"first.$": "$.a", "second": 2, "third.$": "$.b"}, field="P")
    assert list(template.evaluate({"a": 1, "b": 3})) == ["first", "second", "third"]


def test_a_template_lists_every_path_it_reads_for_the_validator():
    template = compile_template(
        {"a.$": "$x.y", "b": [{"c.$": "States.Format('{}', States.Array($$.State.Name, $z))"}],
         "d": "$not_a_path", "e.$": "$.input"}, field="Parameters")
    assert [path.text for path in template.paths] == ["$x.y", "$$.State.Name", "$z", "$.input"]
    assert {path.variable for path in template.paths} == {"x", "z", None}
    assert compile_template({"k": 1}, field="Result").paths == ()


def test_a_template_calls_intrinsic_functions():
    template = compile_template({"greeting.$": "States.Format('Hello {}!', $.name)"}, field="P")
    assert template.evaluate({"name": "World"}) == {"greeting": "Hello World!"}


def test_a_template_returns_a_new_object_each_time():
    template = compile_template({"a": 1, "b.$": "$.b"}, field="Parameters")
    first = template.evaluate({"b": 1})
    first["a"] = "changed"
    assert template.evaluate({"b": 1}) == {"a": 1, "b": 1}


def test_a_missing_path_in_a_template_fails_with_aws_wording():
    # base_scenarios.invalid_jsonpath[INVALID_JSONPATH_IN_STRING_EXPR_JSONPATH]
    template = compile_template({"value.$": "$.no_such_jsonpath"}, field="Parameters")
    with pytest.raises(RuntimeFailure) as raised:
        template.evaluate({"int-literal": 0}, CONTEXT)
    assert raised.value.error == "States.Runtime"
    assert raised.value.in_state
    assert raised.value.cause == (
        "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found "
        "in the input '{\"int-literal\":0}'")


def test_a_missing_context_path_in_a_template_names_the_context_path():
    # base_scenarios.invalid_jsonpath[INVALID_JSONPATH_IN_STRING_EXPR_CONTEXTPATH]
    template = compile_template({"value.$": "$$.Execution.Input.no_such_jsonpath"}, field="P")
    with pytest.raises(RuntimeFailure) as raised:
        template.evaluate({"int-literal": 0}, CONTEXT)
    assert raised.value.cause.startswith(
        "The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$' "
        "could not be found in the input '")


def test_a_missing_nested_path_names_its_own_key():
    template = compile_template({"outer": {"deep.$": "$.a.b"}}, field="Parameters")
    with pytest.raises(RuntimeFailure) as raised:
        template.evaluate({"flagged": False})
    assert raised.value.cause == ("The JSONPath '$.a.b' specified for the field 'deep.$' could "
                                  "not be found in the input '{\"flagged\":false}'")


@pytest.mark.parametrize("text, data", [
    ("$.a", [1]), ("$.a", "text"), ("$.a", None), ("$.a.b", {"a": "text"}), ("$.a.b", {"a": [1]}),
    ("$.a.b", {"a": None}), ("$.a.b.c", {"a": {"b": "c"}}), ("$.a[0]", {"a": "text"}),
    ("$$.Execution.Nope", {}), ("$nothing", {}),
])
def test_a_template_path_through_a_non_object_is_not_found(text, data):
    template = compile_template({"v.$": text}, field="Parameters")
    with pytest.raises(RuntimeFailure) as raised:
        template.evaluate(data, CONTEXT, {})
    assert raised.value.cause.startswith(f"The JSONPath '{text}' specified for the field 'v.$' "
                                         "could not be found in the input ")


@pytest.mark.parametrize("payload", [
    {"a.$": 1}, {"a.$": None}, {"a.$": "not a path"}, {"a.$": "$.["}, {"a.$": "States.Nope()"},
    {"nested": {"a.$": ["$.x"]}},
])
def test_a_template_refuses_a_dollar_key_without_a_valid_path_or_call(payload):
    with pytest.raises(ExpressionSyntaxError):
        compile_template(payload, field="Parameters")


# --- one ".$" value (Fail ErrorPath / CausePath) -----------------------------------------------


def test_a_value_evaluates_a_path_or_an_intrinsic_call():
    # base.state_fail_path, base.state_fail_intrinsic
    data = {"Error": "error string", "Cause": "cause string"}
    assert compile_value("$.Error", field="ErrorPath").evaluate(data) == "error string"
    cause = compile_value(
        "States.Format('This is a custom error message for {}, caused by {}.', $.Error, $.Cause)",
        field="CausePath")
    assert cause.evaluate(data) == ("This is a custom error message for error string, caused by "
                                    "cause string.")


def test_a_value_whose_path_is_missing_fails_with_aws_wording():
    # base_scenarios.invalid_jsonpath[INVALID_JSONPATH_IN_ERRORPATH]
    with pytest.raises(RuntimeFailure) as raised:
        compile_value("$.ErrorX", field="ErrorPath").evaluate({"Error": "e"})
    assert raised.value.cause == ("The JSONPath '$.ErrorX' specified for the field 'ErrorPath' "
                                  "could not be found in the input '{\"Error\":\"e\"}'")


def test_a_value_must_be_a_path_or_an_intrinsic_call():
    with pytest.raises(ExpressionSyntaxError):
        compile_value("plain text", field="ErrorPath")


# --- JSON text as AWS writes it ----------------------------------------------------------------


@pytest.mark.parametrize("value, text", [
    ({"a": 1, "b": [True, None, "x"]}, '{"a":1,"b":[true,null,"x"]}'),
    ({"é": "ü\n"}, '{"é":"ü\\n"}'),
    (1.0, "1.0"), (1.1, "1.1"), (-0.5, "-0.5"), (1e20, "1.0E20"), (1.5e-5, "1.5E-5"),
    (12345678.9, "1.23456789E7"), (0.001, "0.001"), (10, "10"), (-0, "0"),
])
def test_json_text_is_compact_with_java_number_formatting(value, text):
    assert to_json_text(value) == text


def test_java_text_renders_objects_and_lists_as_java_collections():
    assert to_java_text({"Arg1": 1, "Arg2": [], "s": "x"}) == "{Arg1=1, Arg2=[], s=x}"
    assert to_java_text([1, "a", None, 2.5]) == "[1, a, null, 2.5]"
    assert java_number_text(True) == "true"


# --- properties --------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False,
                                                                      allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20)

path_alphabet = st.sampled_from(list("$.[]'\"*?@()=<>!,:-_ab01 \\") + ["$.a", "[0]", "..", "$$"])
path_like_text = st.lists(path_alphabet, max_size=15).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=20), path_like_text))
def test_compiling_any_text_yields_a_path_or_an_expression_syntax_error(text):
    try:
        path = compile_path(text)
    except ExpressionSyntaxError:
        return
    assert path.text == text


@settings(max_examples=300, deadline=None)
@given(text=path_like_text, data=json_values, variables=st.dictionaries(
    st.sampled_from(["a", "b", "v"]), json_values, max_size=2))
def test_evaluating_any_path_raises_only_states_errors(text, data, variables):
    try:
        path = compile_path(text)
    except ExpressionSyntaxError:
        return
    found = path.find(data, CONTEXT, variables)
    if not path.is_reference:
        assert isinstance(found, list)
    try:
        selected = path.select(data, CONTEXT, variables)
    except StatesError:
        assert found is MISSING
    else:
        assert selected is found or selected == found


@settings(max_examples=200, deadline=None)
@given(keys=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4),
       state_input=json_values, result=json_values)
def test_applying_a_result_path_never_changes_the_input(keys, state_input, result):
    before = json.dumps(state_input, sort_keys=True)
    result_path = compile_result_path("$." + ".".join(keys))
    try:
        output = result_path.apply(state_input, result)
    except ResultPathMatchFailure:
        return
    finally:
        assert json.dumps(state_input, sort_keys=True) == before
    assert compile_path("$." + ".".join(keys)).find(output) is result


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_json_text_reads_back_as_the_same_value(value):
    assert json.loads(to_json_text(value)) == value


template_values = st.recursive(
    st.sampled_from([None, 1, "text", "$.a", "$.b[0]", "$$.State.Name", "$v", "$.a[*]",
                     "States.Array($.a, 1)", "States.MathAdd($.a, 1)", "$.missing"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["k", "k.$", "m.$", "n"]), children, max_size=3),
    max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(payload=template_values, data=json_values, variables=st.dictionaries(
    st.sampled_from(["v"]), json_values, max_size=1))
def test_compiling_and_evaluating_any_template_raises_only_the_documented_errors(payload, data,
                                                                                 variables):
    try:
        template = compile_template(payload, field="Parameters")
    except ExpressionSyntaxError:
        return
    try:
        out = template.evaluate(data, CONTEXT, variables)
    except StatesError:
        assert not template.is_constant
        return
    if template.is_constant:
        assert out is payload
    json.dumps(out)


def test_the_module_exports_exactly_the_api_the_executor_and_validator_use():
    from runtime.asl import jsonpath

    assert sorted(jsonpath.__all__) == sorted([
        "MISSING", "Path", "ResultPath", "Template", "Value", "compile_path",
        "compile_result_path", "compile_template", "compile_value", "render_keys", "to_json_text",
    ])
    for name in jsonpath.__all__:
        assert hasattr(jsonpath, name), name
