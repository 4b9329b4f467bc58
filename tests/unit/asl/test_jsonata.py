"""The JSONata-mode expression layer: templates, AWS's extra functions and AWS's error wordings.

Expected values and causes marked with a case id come from executions recorded on real AWS
(../shared/conformance/asl-public.jsonl); the expression and input are the case's own.
"""

import hashlib
import json
import re
import threading

import pytest
from hypothesis import given, settings, strategies as st

from runtime.asl.diagnostics import ExpressionSyntaxError
from runtime.asl.errors import QueryEvaluationError, StatesError
from runtime.asl import jsonata as jsonata_module
from runtime.asl.jsonata import compile_jsonata, is_expression, json_type_name

INPUT = {"input_value": "string literal", "input_values": [1, 2, 3]}


def evaluate(value, input=None, variables=None, field="Output", **states):
    """Returns `value` compiled for `field` and evaluated with $states.input = `input`."""
    return compile_jsonata(value, field=field).evaluate({"input": input, **states}, variables)


def failure(value, input=None, variables=None, field="Output", expected=None):
    """Returns the cause of the QueryEvaluationError that evaluating `value` raises."""
    template = compile_jsonata(value, field=field)
    with pytest.raises(QueryEvaluationError) as caught:
        if expected:
            template.evaluate_as({"input": input}, variables, expected)
        else:
            template.evaluate({"input": input}, variables)
    assert caught.value.error == "States.QueryEvaluationError"
    assert caught.value.in_state
    return caught.value.cause


# --- what is an expression -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["{% $states.input %}", "{%$x%}", "{%\n 1 \n%}"])
def test_a_string_between_the_delimiters_is_an_expression(text):
    assert is_expression(text)


@pytest.mark.parametrize("value", [
    " {% states.input %} ",  # arguments.base_cases[BASE_LAMBDA_LITERALS]: a literal on AWS
    "{% 1 %} ", " {% 1 %}", "$states.input", "{%", "%}", "{%}", None, 1, ["{% 1 %}"],
])
def test_anything_else_is_not_an_expression(value):
    assert not is_expression(value)


def test_literals_with_spaces_around_the_delimiters_come_back_unchanged():
    # output.base_cases[BASE_LITERALS]
    literals = {
        "constant_null": None, "constant_int": 0, "constant_float": 0.1, "constant_bool": True,
        "constant_not_jsonata": " {% states.input %} ", "constant_varpath": "$no.such.var.path",
        "constant_jp_input.$": "$", "constant_jp_context": "$$",
        "constant_if": "States.Format('Format:{}', 101)",
        "constant_lst": [None, 0, 0.1, True, [], {"constant": 0}, " {% states.input %} "],
        "constant_obj_empty": {},
    }
    template = compile_jsonata(literals, field="Output")
    assert template.is_constant
    assert template.evaluate({"input": INPUT}, None) == literals


def test_a_constant_template_returns_its_one_shared_value():
    template = compile_jsonata({"a": [1, {"b": "c"}]}, field="Output")
    states = {"input": {}}
    assert template.evaluate(states, None) is template.evaluate(states, None)


@pytest.mark.parametrize("value", [None, 0, 0.1, "string literal", []])
def test_a_field_may_be_any_json_literal(value):
    # output.base_output_any_non_dict[NULL, INT, FLOAT, STR_LIT, LIST_EMPY]
    assert evaluate(value, {"input_value": "stringliteral"}) == value


def test_expressions_are_evaluated_at_any_depth_of_objects_and_arrays():
    template = compile_jsonata(
        {"a": ["{% 1 + 1 %}", {"b": "{% $states.input.x %}"}], "c": "literal"}, field="Output")
    assert not template.is_constant
    assert template.expressions == [("Output/a[0]", "1 + 1"), ("Output/a[1]/b", "$states.input.x")]
    assert template.evaluate({"input": {"x": [1]}}, None) == {"a": [2, {"b": [1]}], "c": "literal"}


# --- values --------------------------------------------------------------------------------


def test_arguments_read_the_input_and_workflow_variables():
    # arguments.base_cases[BASE_LAMBDA_EXPRESSION]
    arguments = {"ja_states_input": "{% $states.input %}",
                 "ja_var_access": "{% $var_input_value %}",
                 "ja_expr": "{% $sum($states.input.input_values) + $var_constant_1 %}"}
    variables = {"var_input_value": "string literal", "var_constant_1": 1}
    assert evaluate(arguments, INPUT, variables, field="Arguments") == {
        "ja_states_input": INPUT, "ja_var_access": "string literal", "ja_expr": 7}


def test_output_reads_the_result_and_the_context():
    # output.base_lambda[BASE_LAMBDA], output.base_cases[BASE_EXPR]
    result = {"ja_expr": 7}
    context = {"State": {"Name": "State0"}}
    output = {"ja_states_result": "{% $states.result %}",
              "ja_states_result_access": "{% $states.result.ja_expr %}",
              "ja_states_context": "{% $states.context %}"}
    assert evaluate(output, INPUT, result=result, context=context) == {
        "ja_states_result": result, "ja_states_result_access": 7, "ja_states_context": context}


def test_error_output_is_bound_in_a_catcher():
    # error_output.task_catch_error_output[TASK_CATCH_ERROR_OUTPUT]
    error = {"Error": "Exception", "Cause": "boom"}
    assert evaluate({"stateError": "{% $states.errorOutput %}"}, {}, errorOutput=error) == {
        "stateError": error}


def test_merge_joins_objects_from_the_input():
    # base_evaluate_expressions.merge_with_dynamic_args
    assert evaluate("{% $merge([$states.input.part1, $states.input.part2]) %}",
                    {"part1": {"hello": "world"}, "part2": {"foo": "bar"}}) == {
        "hello": "world", "foo": "bar"}


@pytest.mark.parametrize("expression, expected", [
    # base_evaluate_expressions.base_jsonata_regular_expressions[BASE_FALSE, BASE_SINGLE_QUOTE]
    ('{% $contains("hello$world", /^hello\\ /) %}', False),
    ("{% $contains('hello$world', /^hello\\$/) %}", True),
])
def test_regular_expressions_match_as_on_aws(expression, expected):
    assert evaluate(expression, {}) is expected


def test_an_items_array_may_hold_expressions():
    # base_evaluate_expressions.base_map[ITEMS, ITEMS_DOUBLE_QUOTES]
    for items in ([1, '{% $number("2") %}', 3], [1, "{% $number('2') %}", 3]):
        assert compile_jsonata(items, field="Items").evaluate_as({"input": {}}, None, "array") == [
            1, 2, 3]


def test_a_constructed_singleton_array_stays_an_array():
    # base_scenarios.map_state_items_eval_jsonata[singleton]
    assert compile_jsonata("{% [0] %}", field="Items").evaluate_as({"input": {}}, None,
                                                                   "array") == [0]


def test_an_input_array_with_one_item_stays_an_array():
    # base_scenarios.map_state_items_input_array[singleton]
    assert evaluate("{% $states.input.items %}", {"items": [0]}) == [0]


@pytest.mark.parametrize("expression, input, expected", [
    # base_scenarios.choice_aws_docs_scenario[CHOICE_STATE_AWS_SCENARIO_JSONATA]
    ("{% $not($states.input.type = 'Private') %}", {"type": "Private", "value": 22}, False),
    ("{% $states.input.value = 0 %}", {"type": "Private", "value": 22}, False),
    ("{% $states.input.value >= 20 and $states.input.value < 30 %}", {"value": 22}, True),
    # base_scenarios.choice_singleton_composite[...LITERAL_JSONATA]
    ('{% $states.input.str_value = "string literal" %}', {"str_value": "string literal"}, True),
    # base_scenarios.choice_unsorted_parameters_*
    ("{% $states.input.result.done %}", {"result": {"done": True}}, True),
    ("{% $not($states.input.result.done) %}", {"result": {"done": False}}, True),
    # base_scenarios.escape_sequence_parsing[ESCAPE_SEQUENCES_JSONATA_COMPARISON_OUTPUT]
    ("{% $states.input = '\"' %}", '"', True),
])
def test_conditions_evaluate_to_aws_booleans(expression, input, expected):
    template = compile_jsonata(expression, field="Condition")
    assert template.evaluate_as({"input": input}, None, "boolean") is expected


def test_a_variable_holding_a_quote_compares_equal_to_a_quote():
    # base_scenarios.escape_sequence_parsing[ESCAPE_SEQUENCES_JSONATA_COMPARISON_ASSIGN]
    assert evaluate("{% $var = '\"' %}", {}, {"var": '"'}) is True


@pytest.mark.parametrize("field", ["TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency"])
def test_a_binding_expression_returns_the_bound_value(field):
    # base_evaluate_expressions.base_task[TIMEOUT_SECONDS, HEARTBEAT_SECONDS]
    template = compile_jsonata("{% $variable := 1 %}", field=field)
    assert template.evaluate_as({"input": {}}, None, "integer") == 1


def test_a_number_field_reads_the_input():
    # base_evaluate_expressions.base_map_from_input[TOLERATED_FAILURE_PERCENTAGE]
    template = compile_jsonata("{% $states.input.input_value %}",
                               field="ToleratedFailurePercentage")
    assert template.evaluate_as({"input": {"input_value": 100}}, None, "number") == 100


def test_null_in_the_input_is_null_not_undefined():
    input = {"n": None, "list": [None, 1], "obj": {"a": None}}
    assert evaluate("{% $states.input.n %}", input) is None
    assert evaluate("{% $states.input.list %}", input) == [None, 1]
    assert evaluate("{% $states.input.list[0] %}", input) is None
    assert evaluate("{% $type($states.input.list[0]) %}", input) == "null"
    assert evaluate("{% $states.input.obj.* %}", input) is None
    assert evaluate("{% $states.input.n = null %}", input) is True
    assert evaluate({"a": "{% null %}"}, {}) == {"a": None}


def test_null_variables_are_null():
    # base_scenarios.map_state_items_variable_sampling[null]: $ItemsVar is null, not undefined
    assert evaluate("{% $ItemsVar %}", {}, {"ItemsVar": None}) is None


@pytest.mark.parametrize("expression", [
    "$states.input ~> |obj|{'b': 2}|", "$append($states.input.list, 1)",
    "$sort($states.input.nums)", "$reverse($states.input.nums)", "$states.input.list",
    "$merge([$states.input.obj, {'c': 3}])", "$states.input.nums[[0..1]]",
])
def test_the_input_is_not_changed_by_evaluation(expression):
    input = {"list": [None, {"a": None}], "obj": {"a": None}, "nums": [3, 1, 2]}
    snapshot = json.loads(json.dumps(input))
    value = evaluate("{% " + expression + " %}", input)
    assert input == snapshot
    if isinstance(value, (list, dict)):  # and the result shares nothing with it
        value.clear()
        assert input == snapshot


@pytest.mark.parametrize("expression, expected", [
    ("{% 6 / 2 %}", 3), ("{% 1.0 %}", 1), ("{% [1.0, {'a': 2.0}] %}", [1, {"a": 2}]),
    ("{% 3 / 2 %}", 1.5), ("{% $sum([0.5, 0.5]) %}", 1), ("{% 1e21 %}", 1e21),
    ("{% $number('0x1F') %}", 31), ("{% $number('1.50') %}", 1.5), ("{% $number(true) %}", 1),
])
def test_integral_numbers_come_back_as_ints(expression, expected):
    value = evaluate(expression, {})
    assert value == expected
    assert json.dumps(value) == json.dumps(expected)


def test_results_are_plain_json_types():
    value = evaluate("{% {'seq': $states.input.a.b, 'range': [1..3], 'map': $map([1,2], "
                     "function($v){$v * 2})} %}", {"a": [{"b": 1}, {"b": 2}]})
    assert value == {"seq": [1, 2], "range": [1, 2, 3], "map": [2, 4]}
    assert type(value["seq"]) is list and type(value["range"]) is list
    assert type(value["map"]) is list


def test_now_and_millis_agree_within_one_evaluation():
    value = evaluate("{% [$now(), $millis()] %}", {})
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value[0])
    assert isinstance(value[1], int)


def test_a_template_may_be_evaluated_from_many_threads_at_once():
    template = compile_jsonata({"double": "{% ($d := $states.input.n * 2; $d) %}",
                                "same": "{% $states.input.n %}", "v": "{% $v %}"},
                               field="Output")
    errors, barrier = [], threading.Barrier(8)

    def work(n):
        barrier.wait()
        for i in range(300):
            value = template.evaluate({"input": {"n": n * 1000 + i}}, {"v": n})
            if value != {"double": (n * 1000 + i) * 2, "same": n * 1000 + i, "v": n}:
                errors.append(value)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_variable_bound_in_one_thread_is_never_seen_from_another():
    # A jsonata-python object shared between threads leaks bindings this way: a frame made by
    # one evaluation can become the parent of another thread's frame.
    template = compile_jsonata(
        "{% $map([1, 2, 3, 4, 5, 6, 7, 8], function($x){ $exists($v) ? $v : 'none' }) %}",
        field="Output")
    leaks, barrier = [], threading.Barrier(6)

    def work(n):
        barrier.wait()
        for _ in range(400):
            if n % 2:
                value = template.evaluate({"input": {}}, {"w": 0})
                if value != ["none"] * 8:
                    leaks.append(value)
            else:
                template.evaluate({"input": {}}, {"v": n})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert leaks == []


def test_a_workflow_variable_can_be_shadowed_inside_the_expression_only():
    template = compile_jsonata({"inner": "{% ($v := 2; $v) %}", "outer": "{% $v %}"},
                               field="Output")
    assert template.evaluate({"input": {}}, {"v": 1}) == {"inner": 2, "outer": 1}


def test_a_lambda_sees_the_workflow_variables():
    assert evaluate("{% $map([1, 2], function($n){ $n * $factor }) %}", {}, {"factor": 10}) == [
        10, 20]


def test_an_expression_variable_does_not_leak_into_the_next_evaluation():
    template = compile_jsonata({"a": "{% $x := 5 %}", "b": "{% $exists($x) %}"}, field="Output")
    assert template.evaluate({"input": {}}, None) == {"a": 5, "b": False}


# --- AWS's functions -------------------------------------------------------------------------


@pytest.mark.parametrize("array, size, expected", [
    # array_jsonata.array_partition#0, 3, 4, 5, 7, 8, 11, 12, 13, 14, 15, 16, 19
    ([0], 1, [[0]]), ([0], 4, [[0]]), ([0], 5, [[0]]), ([0, 1], 1, [[0], [1]]),
    ([0, 1], 3, [[0, 1]]), ([0, 1], 4, [[0, 1]]), ([0, 1, 2], 2, [[0, 1], [2]]),
    ([0, 1, 2], 3, [[0, 1, 2]]), ([0, 1, 2], 4, [[0, 1, 2]]), ([0, 1, 2], 5, [[0, 1, 2]]),
    ([0, 1, 2, 3], 1, [[0], [1], [2], [3]]), ([0, 1, 2, 3], 2, [[0, 1], [2, 3]]),
    ([0, 1, 2, 3], 5, [[0, 1, 2, 3]]),
])
def test_partition_cuts_an_array_into_chunks(array, size, expected):
    expression = ("{% $partition($states.input.FunctionInput.fst, "
                  "$states.input.FunctionInput.snd) %}")
    assert evaluate(expression, {"FunctionInput": {"fst": array, "snd": size}}) == expected


@pytest.mark.parametrize("start, end, step, expected", [
    # array_jsonata.array_range#1, #2, #3
    (0, 10, 3, [0, 3, 6, 9]), (1, 9, 9, 1), (1, 9, 2, [1, 3, 5, 7, 9]),
    (10, 0, -5, [10, 5, 0]),
])
def test_range_counts_from_start_to_end_inclusive(start, end, step, expected):
    expression = ("{% $range($states.input.FunctionInput.fst, $states.input.FunctionInput.snd, "
                  "$states.input.FunctionInput.trd) %}")
    assert evaluate(expression, {"FunctionInput": {"fst": start, "snd": end,
                                                   "trd": step}}) == expected


@pytest.mark.parametrize("text, expected", [
    # json_manipulation_jsonata.parse#1, #2, #4, #5, #6
    ("1", 1), ("1.1", 1.1), ('"HelloWorld"', "HelloWorld"), ('[1, 2, "HelloWorld"]', [1, 2, "HelloWorld"]),
    ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}), ('{"a": null}', {"a": None}),
])
def test_parse_reads_a_json_string(text, expected):
    assert evaluate("{% $parse($states.input.FunctionInput) %}", {"FunctionInput": text}) == expected


def test_a_parsed_null_is_null_inside_the_expression():
    assert evaluate("{% $type($parse('null')) %}", {}) == "null"


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"])
def test_hash_returns_the_hex_digest(algorithm):
    name = algorithm.replace("-", "").lower()
    assert evaluate("{% $hash($states.input.s, $states.input.a) %}",
                    {"s": "input data", "a": algorithm}) == hashlib.new(
        name, b"input data").hexdigest()


def test_random_with_a_seed_repeats_and_without_one_stays_in_range():
    first, second, unseeded = evaluate("{% [$random(7), $random(7), $random()] %}", {})
    assert first == second
    assert 0 <= first < 1 and 0 <= unseeded < 1


def test_uuid_returns_a_version_4_uuid():
    value = evaluate("{% $uuid() %}", {})
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        value)


@pytest.mark.parametrize("expression, reason", [
    ("$partition([1, 2], 0)", "The chunk size of $partition must be greater than 0, but was 0"),
    ("$partition([1, 2], 1.5)", "The chunk size of $partition must be an integer, but was 1.5"),
    ("$range(0, 10, 0)", "The step of $range must not be 0"),
    ("$range(0.5, 10, 1)", "The start of $range must be an integer, but was 0.5"),
    ("$range(0, 5000, 1)", "$range would return 5001 items; at most 1000 are allowed"),
    ("$hash('a', 'SHA-3')", 'The hashing algorithm "SHA-3" is not supported; use one of MD5, '
                            "SHA-1, SHA-256, SHA-384, SHA-512"),
    ("$parse('{nope')", "The argument of $parse is not valid JSON: {nope"),
    ("$parse('NaN')", "The argument of $parse is not valid JSON: NaN"),
    ("$random(0.5)", "The seed of $random must be an integer, but was 0.5"),
])
def test_aws_functions_refuse_bad_arguments(expression, reason):
    assert failure("{% " + expression + " %}", {}) == (
        f"The JSONata expression '{expression}' specified for the field 'Output' threw an error "
        f"during evaluation: {reason}")


def test_aws_functions_check_argument_types_by_signature():
    assert failure("{% $hash(1, 'MD5') %}", {}) == (
        "The JSONata expression '$hash(1, 'MD5')' specified for the field 'Output' threw an error "
        'during evaluation. T0410: Argument 1 of function "hash" does not match function '
        "signature")


def test_eval_is_not_available():
    assert failure("{% $eval('1+1') %}", {}) == (
        "The JSONata expression '$eval('1+1')' specified for the field 'Output' threw an error "
        "during evaluation. T1006: Attempted to invoke a non-function")


# --- AWS's error wordings --------------------------------------------------------------------


@pytest.mark.parametrize("value, field, path", [
    # assign_reference_variables.undefined_reference[BASE_UNDEFINED_OUTPUT]
    ("{% $doesNotExist %}", "Output", "Output"),
    # ...[BASE_UNDEFINED_ARGUMENTS]
    ("{% $doesNotExist %}", "Arguments", "Arguments"),
    # ...[BASE_UNDEFINED_ARGUMENTS_FIELD]
    ({"FunctionName": "{% $doesNotExist %}"}, "Arguments", "Arguments/FunctionName"),
    # ...[BASE_UNDEFINED_OUTPUT_MULTIPLE_STATES]
    ({"result": "{% $doesNotExist %}"}, "Output", "Output/result"),
])
def test_an_undefined_result_fails_naming_the_field_path(value, field, path):
    assert failure(value, {}, field=field) == (
        f"The JSONata expression '$doesNotExist' specified for the field '{path}' returned "
        "nothing (undefined).")


def test_an_undefined_variable_in_a_catcher_output_fails():
    # error_output.map_catch_error[MAP_CATCH_ERROR_OUTPUT_WITH_RETRY]
    assert failure({"error": "{% $stateError %}"}, {}) == (
        "The JSONata expression '$stateError' specified for the field 'Output/error' returned "
        "nothing (undefined).")


def test_an_undefined_assignment_fails_naming_the_variable():
    assert failure({"x": "{% $states.input.missing %}"}, {}, field="Assign") == (
        "The JSONata expression '$states.input.missing' specified for the field 'Assign/x' "
        "returned nothing (undefined).")


def test_an_undefined_array_item_names_its_index():
    assert failure([1, "{% $nope %}"], {}, field="Items") == (
        "The JSONata expression '$nope' specified for the field 'Items[1]' returned nothing "
        "(undefined).")


def test_the_error_carries_the_field_path_as_its_location():
    with pytest.raises(QueryEvaluationError) as caught:
        evaluate({"result": "{% $doesNotExist %}"}, {})
    assert caught.value.location == "Output/result"
    assert caught.value.with_state_prefix("State2", 6).location == "Output/result"


def test_a_function_result_is_an_unsupported_result_type():
    # base_scenarios.map_state_items_eval_jsonata_fail[function]
    assert failure("{% $fn := function($x){$x} %}", {}, field="Items", expected="array") == (
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Items' "
        "returned an unsupported result type.")


@pytest.mark.parametrize("expression", ["$sum", "/abc/", "{'f': function(){1}}", "[$string]"])
def test_functions_and_regexes_anywhere_in_a_result_are_unsupported(expression):
    assert failure("{% " + expression + " %}", {}).endswith("returned an unsupported result type.")


def test_an_object_where_an_array_is_expected_is_an_unexpected_result_type():
    # base_scenarios.map_state_items_eval_jsonata_fail[object]
    assert failure("{% {'foo': 'bar'} %}", {}, field="Items", expected="array") == (
        "The JSONata expression '{'foo': 'bar'}' specified for the field 'Items' returned an "
        "unexpected result type. Expected 'array', but was 'object' for value: {\"foo\":\"bar\"}")


@pytest.mark.parametrize("value, kind, shown", [
    # base_scenarios.map_state_items_eval_jsonata_variable_sampling_fail[...] and
    # base_scenarios.map_state_items_variable_sampling[...]
    (True, "boolean", "true"), (None, "null", "null"), (1, "number", "1"),
    ("string", "string", '"string"'),
])
def test_a_variable_of_another_type_is_an_unexpected_result_type(value, kind, shown):
    assert failure("{% $ItemsVar %}", {}, {"ItemsVar": value}, field="Items",
                   expected="array") == (
        "The JSONata expression '$ItemsVar' specified for the field 'Items' returned an "
        f"unexpected result type. Expected 'array', but was '{kind}' for value: {shown}")


def test_a_fraction_where_an_integer_is_expected_is_an_unexpected_result_type():
    assert failure("{% 1.5 %}", {}, field="TimeoutSeconds", expected="integer") == (
        "The JSONata expression '1.5' specified for the field 'TimeoutSeconds' returned an "
        "unexpected result type. Expected 'integer', but was 'number' for value: 1.5")


def test_a_literal_of_another_type_is_an_unexpected_result_type():
    template = compile_jsonata({"a": 1}, field="Items")
    with pytest.raises(QueryEvaluationError) as caught:
        template.evaluate_as({"input": {}}, None, "array")
    assert caught.value.cause == (
        "The value specified for the field 'Items' returned an unexpected result type. "
        "Expected 'array', but was 'object' for value: {\"a\":1}")


@pytest.mark.parametrize("expression, detail", [
    ('1 + "a"', 'T2002: The right side of the "+" operator must evaluate to a number'),
    ('"a" - 1', 'T2001: The left side of the "-" operator must evaluate to a number'),
    ('$sum(["a"])', 'T0412: Argument 1 of function "sum" must be an array of "numbers"'),
    ('$abs("x")', 'T0410: Argument 1 of function "abs" does not match function signature'),
    ("$boolean(1, 2)", 'T0410: Argument 2 of function "boolean" does not match function signature'),
    ("$pad('a', 5, 1)", 'T0410: Argument 3 of function "pad" does not match function signature'),
    ("$replace('abc', '', 'x')", "D3010: Second argument of replace function cannot be an empty "
                                 "string"),
    ("{1: 2}", "T1003: Key in object structure must evaluate to a string; got: 1"),
    ("{'a': 1, 'a': 2}", 'D1009: Multiple key definitions evaluate to same key: "a"'),
    ("[1..20000000]", "D2014: The size of the sequence allocated by the range operator (..) must "
                      "not exceed 1e6.  Attempted to allocate 20000000."),
    ("$single([])", "D3139: The $single() function expected exactly 1 matching result.  Instead "
                    "it matched 0."),
    ("$assert(false, 'boom')", "D3141: boom"),
    ("$join(['a', 1])", 'T0412: Argument 1 of function "join" must be an array of "strings"'),
    ("$states.input()", "T1006: Attempted to invoke a non-function"),
    ("1 < 'a'", 'T2009: The values 1 and "a" either side of operator "<" must be of the same '
                "data type"),
    ("-'a'", 'D1002: Cannot negate a non-numeric value: "a"'),
    ("$number('x')", 'D3030: Unable to cast value to a number: "x"'),
    ("$sqrt(-1)", "D3060: The sqrt function cannot be applied to a negative number: -1"),
    ("$error('custom')", "D3137: custom"),
    ("1/0", "D1001: Number out of range: Infinity"),
])
def test_jsonata_errors_read_as_on_aws(expression, detail):
    assert failure("{% " + expression + " %}", {}) == (
        f"The JSONata expression '{expression}' specified for the field 'Output' threw an error "
        f"during evaluation. {detail}")


def test_runaway_recursion_is_a_query_evaluation_error():
    cause = failure("{% ($f := function($n){ $f($n + 1) + 1 }; $f(0)) %}", {})
    assert "threw an error during evaluation. U1001: Stack overflow error" in cause


def test_an_expression_that_runs_too_long_is_stopped(monkeypatch):
    monkeypatch.setattr(jsonata_module, "EVALUATION_TIME_LIMIT", 0.05)
    expression = "($f := function($n){ $n > 0 ? $f($n - 1) : 0 }; $f(100000000))"
    assert failure("{% " + expression + " %}", {}) == (
        f"The JSONata expression '{expression}' specified for the field 'Output' threw an error "
        "during evaluation. D1012: Evaluation timeout after 50 milliseconds. Check for infinite "
        "loop")


@pytest.mark.parametrize("text, detail", [
    ("a[1,2)", 'S0202: Expected "]", got ","'),
    ('"unterminated', "S0101: String literal must be terminated by a matching quote"),
    ("1 +", "S0207: Unexpected end of expression"),
    ('{"a":}', 'S0211: The symbol "}" cannot be used as a unary operator'),
    ("$x :=", "S0207: Unexpected end of expression"),
    ('$match("a", /abc', "S0302: No terminating / in regular expression"),
    ("", "The expression is empty."),
])
def test_a_bad_expression_is_a_syntax_error_naming_field_and_code(text, detail):
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_jsonata({"a": ["{%" + text + "%}"]}, field="Output")
    assert str(caught.value) == (
        f"The JSONata expression '{text}' specified for the field 'Output/a[0]' is invalid: {detail}")
    assert caught.value.field == "Output/a[0]"
    assert caught.value.expression == text


@pytest.mark.parametrize("text, symbol", [
    ("$states.input.a ?? 3", "?"), ("$states.input.a ?: 3", ":"),
])
def test_operators_newer_than_jsonata_2_0_6_are_syntax_errors(text, symbol):
    # AWS implements JSONata 2.0.6; `??` and `?:` came with 2.1.
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_jsonata("{% " + text + " %}", field="Output")
    assert caught.value.detail == f'The symbol "{symbol}" cannot be used as a unary operator'


def test_a_question_mark_in_a_string_is_not_an_operator():
    assert evaluate("{% $states.input.a ? '??' : '?:' %}", {"a": True}) == "??"


def test_a_syntax_error_carries_the_parser_message_without_its_code():
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_jsonata("{% 1 + %}", field="Output")
    assert caught.value.code == "S0207"
    assert caught.value.detail == "Unexpected end of expression"


@pytest.mark.parametrize("expression, references", [
    ("phone", ["phone"]), ("$", ["$"]), ("$.a + $$.b", ["$", "$$"]), ("foo($states)", ["foo"]),
    ("$map($states.input, function($v){ c })", ["c"]),
    ("$states.input.items[price > 5].x", []), ("$states.input{k: v}^(s)", []),
    ("$states.input ~> |p|{'x': u}|", []), ("$x.y.z", []), ("$states.input.(a + b)", []),
])
def test_top_level_references_are_what_aws_refuses_to_read(expression, references):
    template = compile_jsonata({"v": "{% " + expression + " %}"}, field="Output")
    assert template.top_level_references() == [("Output/v", name) for name in references]


@pytest.mark.parametrize("value, name", [
    (None, "null"), (True, "boolean"), (1, "number"), (1.5, "number"), ("", "string"),
    ([], "array"), ({}, "object"),
])
def test_json_type_names_are_awss(value, name):
    assert json_type_name(value) == name


# --- properties ------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False,
                                                                     allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                               max_size=4),
    max_leaves=12)

_pieces = st.sampled_from([
    "$states.input", "$states.context", "$v", "$x", ".", "a", "[", "]", "(", ")", "{", "}",
    ":", ",", ";", " ", "+", "-", "*", "/", "%", "&", "=", "!=", "<", ">=", "and", "or", "?",
    "'s'", '"t"', "1", "2.5", "0", "null", "true", "$sum", "$count", "$string", "$keys",
    "$partition", "$range", "$hash", "$parse", "$random", "$uuid", "$map", "$reduce", "$merge",
    "function($a){$a}", ":=", "~>", "..", "*", "**", "^(", "#", "@", "|", "$$", "$", "/x/",
    "$lookup", "$each", "$sift", "$spread", "$number", "$boolean", "$exists", "$type",
])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=30), st.lists(_pieces, max_size=12).map("".join)),
       _json, _json)
def test_any_text_compiles_or_is_a_syntax_error_and_evaluation_raises_only_states_errors(
        text, input, variable):
    try:
        template = compile_jsonata("{% " + text + " %}", field="Output")
    except ExpressionSyntaxError:
        return
    try:
        value = template.evaluate({"input": input, "context": {"x": 1}}, {"v": variable})
    except StatesError as err:
        assert err.error == "States.QueryEvaluationError"
        return
    json.dumps(value, allow_nan=False)  # plain JSON, nothing else


def _as_jsonata_numbers(value):
    """Returns a JSON value with its numbers as JSONata returns them (3.0 -> 3, 1e21 stays)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        if abs(value) >= 1e21:
            return float(value)
        return int(value) if float(value).is_integer() else value
    if isinstance(value, list):
        return [_as_jsonata_numbers(item) for item in value]
    return {key: _as_jsonata_numbers(item) for key, item in value.items()}


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_json_input_and_variable_come_back_as_they_went_in(value):
    template = compile_jsonata({"input": "{% $states.input %}", "variable": "{% $v %}"},
                               field="Output")
    expected = _as_jsonata_numbers(value)
    assert template.evaluate({"input": value}, {"v": value}) == {"input": expected,
                                                                   "variable": expected}


@settings(max_examples=200, deadline=None)
@given(st.lists(_pieces, max_size=12).map("".join))
def test_finding_top_level_references_never_fails(text):
    try:
        template = compile_jsonata("{% " + text + " %}", field="Output")
    except ExpressionSyntaxError:
        return
    for path, name in template.top_level_references():
        assert path == "Output" and isinstance(name, str) and name
