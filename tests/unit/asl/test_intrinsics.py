"""The intrinsic functions of JSONPath mode, and the recorded one-Pass-state cases using them."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.asl.diagnostics import ExpressionSyntaxError
from runtime.asl.errors import RuntimeFailure, StatesError
from runtime.asl.intrinsics import FUNCTIONS, compile_intrinsic, is_intrinsic, json_equal
from runtime.asl.jsonpath import compile_path, compile_result_path, compile_template

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "conformance" / "asl-public.jsonl"


def call(text, data=None, context=None, variables=None):
    """Returns what the intrinsic call `text` evaluates to."""
    return compile_intrinsic(text).evaluate({} if data is None else data, context, variables)


def failure(text, data=None, context=None, variables=None) -> RuntimeFailure:
    """Returns the RuntimeFailure that evaluating the call `text` raises."""
    with pytest.raises(RuntimeFailure) as raised:
        call(text, data, context, variables)
    assert raised.value.error == "States.Runtime"
    assert raised.value.in_state
    return raised.value


# --- the recorded corpus: one JSONPath Pass state with Parameters ------------------------------


def _single_pass_cases() -> list[dict]:
    cases = []
    with CORPUS.open(encoding="utf-8") as lines:
        for line in lines:
            case = json.loads(line)
            definition = case["definition"]
            states = definition["States"]
            if definition.get("QueryLanguage") == "JSONata" or len(states) != 1:
                continue
            (state,) = states.values()
            if state.get("Type") == "Pass" and "Parameters" in state \
                    and state.get("QueryLanguage") != "JSONata":
                cases.append(case)
    return cases


def _context_object(case: dict) -> dict:
    context = case.get("context") or {}
    machine = context.get("stateMachineName", "statemachine")
    execution = context.get("executionName", "execution")
    prefix = "arn:aws:states:us-east-1:111111111111"
    return {
        "Execution": {"Id": f"{prefix}:execution:{machine}:{execution}", "Input": case["input"],
                      "Name": execution, "RoleArn": context.get("roleArn", "role"),
                      "StartTime": "2024-01-01T00:00:00.000Z", "RedriveCount": 0},
        "StateMachine": {"Id": f"{prefix}:stateMachine:{machine}", "Name": machine},
        "State": {"Name": next(iter(case["definition"]["States"])),
                  "EnteredTime": "2024-01-01T00:00:00.000Z"},
    }


def _with_placeholders(case: dict, value):
    text = json.dumps(value)
    for real, placeholder in sorted(case.get("replacements") or [], key=lambda r: -len(r[0])):
        text = text.replace(real, placeholder)
    return json.loads(text)


SINGLE_PASS_CASES = _single_pass_cases()


def test_the_corpus_holds_the_one_pass_state_cases_these_tests_replay():
    assert len(SINGLE_PASS_CASES) >= 90
    assert sum("feature:intrinsics" in case["tags"] for case in SINGLE_PASS_CASES) >= 80


@pytest.mark.parametrize("case", SINGLE_PASS_CASES, ids=[c["id"] for c in SINGLE_PASS_CASES])
def test_a_recorded_pass_state_gives_what_aws_gave(case):
    (state,) = case["definition"]["States"].values()
    data = case["input"]
    context = _context_object(case)
    expect = case["expect"]
    try:
        output = compile_template(state["Parameters"], field="Parameters").evaluate(data, context)
        if "ResultPath" in state:
            output = compile_result_path(state["ResultPath"]).apply(data, output)
        if "OutputPath" in state:
            output = compile_path(state["OutputPath"]).select(output, context)
    except StatesError as error:
        assert expect["status"] == "FAILED", error
        assert error.error == expect["error"]
        prefix = re.match(r"An error occurred while executing the state '.*?' "
                          r"\(entered at the event id #\d+\)\. ", expect["cause"])
        assert prefix, expect["cause"]
        detail = expect["cause"][prefix.end():]
        if "<json-input:1>" in detail:
            assert error.cause.startswith(detail.split("<json-input:1>")[0])
        else:
            assert error.cause == detail
        return
    assert expect["status"] == "SUCCEEDED"
    if "States.MathRandom" in json.dumps(state):  # recorded as "RandomNumberGenerated"
        low, high = data["FunctionInput"]["fst"], data["FunctionInput"]["snd"]
        assert low <= output["FunctionResult"] < high
        return
    assert _with_placeholders(case, output) == expect["output"]


# --- recognising and parsing calls -------------------------------------------------------------


def test_a_call_is_recognised_by_its_states_prefix():
    assert is_intrinsic("States.Format('x')")
    assert not is_intrinsic("$.States.Format")
    assert not is_intrinsic(None)


def test_the_table_holds_the_eighteen_functions():
    assert len(FUNCTIONS) == 18
    assert {"States.Format", "States.UUID", "States.MathRandom", "States.Hash"} <= set(FUNCTIONS)


@pytest.mark.parametrize("text", [
    "States.Format", "States.Format(", "States.Format('a'", "States.Format('a',)",
    "States.Format('unterminated)", "States.Nope()", "States.Array(1 2)", "States.Array(,)",
    "States.Array(1))", "States.Array() trailing", "States.Array(tru)", "States.Array(@)",
    "States.Array($.a[)", "States.Array(01)", "States.UUID(1)", "States.MathAdd(1)",
    "States.ArrayRange(1, 2)", "States.JsonMerge($.a, $.b)", "States.Format()",
    "States.Array(1,, 2)", "Format('x')",
    "States.Array(1.)", "States.Array(-)", "States.Array('a' 'b')",
])
def test_it_refuses_a_call_it_cannot_parse(text):
    with pytest.raises(ExpressionSyntaxError):
        compile_intrinsic(text)


def test_the_syntax_error_says_what_is_wrong():
    with pytest.raises(ExpressionSyntaxError, match="unknown function 'States.Nope'"):
        compile_intrinsic("States.Nope()")
    with pytest.raises(ExpressionSyntaxError, match="States.MathAdd expects 2 argument"):
        compile_intrinsic("States.MathAdd(1)")


def test_literals_of_every_kind_parse_to_json_values():
    assert call("States.Array('text', 1, -2, 1.5, -0.25, 1e3, true, false, null)") == [
        "text", 1, -2, 1.5, -0.25, 1000.0, True, False, None]
    assert call("States.Array()") == []
    assert call("States.Array( 1 ,  'a'  )") == [1, "a"]


def test_path_arguments_read_the_input_the_context_object_and_variables():
    context = {"StateMachine": {"Name": "a-b-c"}}
    assert call("States.Array($.x, $$.StateMachine.Name, $v, $)", {"x": 1}, context, {"v": 2}) \
        == [1, "a-b-c", 2, {"x": 1}]


def test_path_arguments_may_hold_brackets_commas_and_filters():
    data = {"a": [{"b": 1, "c": "x"}, {"b": 2, "c": "y"}], "k": {"x,y": 5}}
    assert call("States.Array($.a[0,1].b, $.k['x,y'], $.a[?(@.b == 2)].c)", data) == [
        [1, 2], 5, ["y"]]


def test_nested_calls_evaluate_inside_out():
    # generic.nested_calls_2
    text = ("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
            "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), "
            "-1))")
    assert call(text, {}, {"StateMachine": {"Name": "one-two-three"}}) == "three"


def test_calls_nest_up_to_ten_deep_and_no_deeper():
    ten = "States.Array(" * 10 + "1" + ")" * 10
    assert call(ten) == [[[[[[[[[[1]]]]]]]]]]
    with pytest.raises(ExpressionSyntaxError, match="more than 10 nested"):
        compile_intrinsic("States.Array(" * 11 + "1" + ")" * 11)


def test_the_documented_nine_call_example_evaluates():
    # AWS's documentation example, with its template reduced to the two placeholders it fills.
    text = ("States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem("
            "States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem("
            "States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), "
            "2), '.'), 1))")
    arn = "arn:aws:imagebuilder:us-east-1:111111111111:image-recipe/recipe-name/1.2.3"
    assert call(text, {"ImageRecipe": {"Arn": arn}}) == "1.2"


def test_a_missing_path_argument_fails_naming_the_path_and_the_field():
    intrinsic = compile_intrinsic("States.Format('{}', $.missing)", field="value.$")
    with pytest.raises(RuntimeFailure) as raised:
        intrinsic.evaluate({"a": 1})
    assert raised.value.cause == ("The JSONPath '$.missing' specified for the field 'value.$' "
                                  "could not be found in the input '{\"a\":1}'")


# --- States.Format -----------------------------------------------------------------------------


@pytest.mark.parametrize("argument, text", [
    ("", "Formatting argument ."), (" ", "Formatting argument  ."),
    (None, "Formatting argument null."), (1, "Formatting argument 1."),
    (1.1, "Formatting argument 1.1."), (1.0, "Formatting argument 1.0."),
    (True, "Formatting argument true."), ('{"Arg1": 1, "Arg2": []}',
                                         'Formatting argument {"Arg1": 1, "Arg2": []}.'),
    ({"Arg1": 1, "Arg2": []}, "Formatting argument {Arg1=1, Arg2=[]}."),
    ([1, "a", None], "Formatting argument [1, a, null]."),
])
def test_format_renders_each_argument_as_aws_does(argument, text):
    # generic.format_1, generic.format_2
    assert call("States.Format('Formatting argument {}.', $.v)", {"v": argument}) == text


def test_format_escapes_quotes_braces_and_backslashes():
    assert call(r"States.Format('It\'s \{\} {} \\ done', 'x')") == "It's {} x \\ done"


@pytest.mark.parametrize("text", [
    # validation.base_scenarios.illegal_escapes (both recorded CreateStateMachine rejections)
    'States.StringToJson(\'{"text":"An \\"escaped double quote\\" here"}\')',
    "States.Format('He said, \\\"Hello, {}!\\\"', 'Test \\\"Name\\\" Here')",
    r"States.Format('a\nb {}', 1)",
])
def test_a_literal_with_an_escape_other_than_quote_braces_or_backslash_is_refused(text):
    with pytest.raises(ExpressionSyntaxError, match="illegal escape"):
        compile_intrinsic(text)


def test_format_takes_its_template_from_a_path():
    # assign_reference_variables.reference_in_map_state[MAP_STATE_REFERENCE_IN_INTRINSIC_FUNCTION]
    assert call("States.Format($t, $.v)", {"v": "Pikachu"}, None, {"t": "It's {}!"}) == \
        "It's Pikachu!"


@pytest.mark.parametrize("text, data", [
    ("States.Format($.t, 1)", {"t": "no placeholders"}),
    ("States.Format('{} {}', 1)", {}),
    ("States.Format('{}')", {}),
    ("States.Format('\\{}', 1)", {}),
])
def test_format_fails_when_placeholders_and_arguments_differ_in_number(text, data):
    # Checked when the call runs, not when it is compiled: AWS's own documentation shows a
    # template with three placeholders and two arguments, so its validator may accept it.
    compile_intrinsic(text)
    assert failure(text, data).cause == "Invalid arguments in States.Format"


def test_format_refuses_a_template_that_is_not_a_string():
    assert failure("States.Format($.t)", {"t": 5}).cause == "Invalid arguments in States.Format"


# --- JSON ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("-0", 0), ("1", 1), ("1.1", 1.1), ("null", None), ("true", True),
    ('"HelloWorld"', "HelloWorld"), ('[1, 2, "HelloWorld"]', [1, 2, "HelloWorld"]),
    ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}),
    ("", None), (" ", None),
])
def test_string_to_json_parses_json_text(text, value):
    # json_manipulation.string_to_json
    assert call("States.StringToJson($.s)", {"s": text}) == value


def test_string_to_json_refuses_text_that_is_not_json():
    assert failure("States.StringToJson('{nope')").cause == \
        "Invalid arguments in States.StringToJson"


def test_the_recorded_illegal_escape_rejections_are_syntax_errors():
    calls_refused = []
    with CORPUS.with_name("validation-public.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            case = json.loads(line)
            if case["id"].startswith("validation.base_scenarios.illegal_escapes[ESCAPE_SEQUENCES_"
                                     "ILLEGAL_INTRINSIC"):
                calls_refused.append(case["definition"]["States"]["IntrinsicEscape"]
                                     ["Parameters"]["parsed.$"])
    assert len(calls_refused) == 2
    for text in calls_refused:
        with pytest.raises(ExpressionSyntaxError):
            compile_template({"parsed.$": text}, field="Parameters")


def test_string_to_json_reads_a_literal_with_unescaped_braces_and_double_quotes():
    # json_manipulation.json_merge_escaped_argument
    assert call('States.StringToJson(\'{"constant_in_literal": "false"}\')') == {
        "constant_in_literal": "false"}


@pytest.mark.parametrize("value, text", [
    (None, "null"), (0, "0"), (1, "1"), (1.1, "1.1"), (True, "true"),
    ("HelloWorld", '"HelloWorld"'),
    ([1, 2, "HelloWorld"], '[1,2,"HelloWorld"]'), ({"Arg1": 1, "Arg2": []}, '{"Arg1":1,"Arg2":[]}'),
])
def test_json_to_string_writes_compact_json(value, text):
    # json_manipulation.json_to_string
    assert call("States.JsonToString($.v)", {"v": value}) == text


def test_json_merge_is_shallow_and_the_second_object_wins():
    # json_manipulation.json_merge
    data = {"fst": {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3},
            "snd": {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4}}
    merged = call("States.JsonMerge($.fst, $.snd, false)", data)
    assert merged == {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3, "d": 4}
    assert data["fst"] == {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3}


def test_json_merge_refuses_a_deep_merge_and_non_objects():
    assert failure("States.JsonMerge($.a, $.a, true)", {"a": {}}).cause == \
        "Invalid arguments in States.JsonMerge"
    failure("States.JsonMerge($.a, $.b, false)", {"a": {}, "b": [1]})
    failure("States.JsonMerge($.a, $.a, 'false')", {"a": {}})


# --- arrays --------------------------------------------------------------------------------------


def test_array_collects_its_arguments():
    assert call("States.Array($.a, $.b)", {"a": {"x": []}, "b": None}) == [{"x": []}, None]


@pytest.mark.parametrize("array, size, chunks", [
    ([], 1, []), ([0], 2, [[0]]), ([0, 1], 1, [[0], [1]]), ([0, 1, 2], 2, [[0, 1], [2]]),
    ([0, 1, 2, 3], 4, [[0, 1, 2, 3]]), ([1, 2, 3, 4, 5], 2.4, [[1, 2], [3, 4], [5]]),
])
def test_array_partition_cuts_the_array_into_chunks(array, size, chunks):
    # array.array_partition
    assert call("States.ArrayPartition($.a, $.n)", {"a": array, "n": size}) == chunks


@pytest.mark.parametrize("size", [0, -1, 0.49, "2"])
def test_array_partition_refuses_a_chunk_size_below_one(size):
    assert failure("States.ArrayPartition($.a, $.n)", {"a": [1], "n": size}).cause == \
        "Invalid arguments in States.ArrayPartition"


@pytest.mark.parametrize("array, value, found", [
    ([], None, False), ([], [], False), ([[1, 2, 3], 2], None, False),
    ([[1, 2, 3], 2], [1, 2, 3], True),
    ([{"1": 2, "2": []}], {"1": 2, "2": []}, True), ([True, False], True, True), ([1], True, False),
    ([0], False, False), ([1.0], 1, False), ([1.5], 1.5, True), (["1"], 1, False),
])
def test_array_contains_compares_json_values(array, value, found):
    # array.array_contains
    assert call("States.ArrayContains($.a, $.v)", {"a": array, "v": value}) is found


@pytest.mark.parametrize("arguments, values", [
    ("0, 9, 3", [0, 3, 6, 9]), ("0, 10, 3", [0, 3, 6, 9]), ("1, 9, 9", [1]),
    ("1, 9, 2", [1, 3, 5, 7, 9]), ("0, 3, 1", [0, 1, 2, 3]), ("5, 1, -2", [5, 3, 1]),
    ("5, 1, 1", []), ("1, 1000, 1", list(range(1, 1001))),
])
def test_array_range_counts_from_start_to_end_inclusive(arguments, values):
    # array.array_range, base_scenarios.map_state_legacy_reentrant
    assert call(f"States.ArrayRange({arguments})") == values


@pytest.mark.parametrize("arguments", ["0, 1000, 1", "1, 5, 0", "'1', 5, 1"])
def test_array_range_refuses_a_zero_step_non_numbers_and_more_than_1000_items(arguments):
    assert failure(f"States.ArrayRange({arguments})").cause == \
        "Invalid arguments in States.ArrayRange"


def test_array_get_item_returns_the_item_at_an_index():
    # array.array_get_item
    assert call("States.ArrayGetItem($.a, $.i)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9], "i": 5}) == 6


@pytest.mark.parametrize("index", [9, -1, "0", None])
def test_array_get_item_refuses_an_index_outside_the_array(index):
    assert failure("States.ArrayGetItem($.a, $.i)", {"a": [1] * 9, "i": index}).cause == \
        "Invalid arguments in States.ArrayGetItem"


def test_array_length_counts_the_items():
    assert call("States.ArrayLength($.a)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}) == 9
    failure("States.ArrayLength($.a)", {"a": "not an array"})


def test_array_unique_keeps_the_first_of_each_value_in_order():
    values = [None, None, True, True, False, False, 1, 1, 1.1, 0, -0, "HelloWorld", "HelloWorld",
              [], [], [None], [None], {"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1, "b": 1}]
    assert call("States.ArrayUnique($.a)", {"a": values}) == [
        None, True, False, 1, 1.1, 0, "HelloWorld", [], [None], {"a": 1, "b": 2}, {"a": 1, "b": 1}]


# --- encoding and hashing ------------------------------------------------------------------------


@pytest.mark.parametrize("text, encoded", [("", ""), ("Data to encode", "RGF0YSB0byBlbmNvZGU="),
                                           ("héllo", "aMOpbGxv")])
def test_base64_encodes_utf8_text_and_decodes_it_back(text, encoded):
    # encode_decode.base_64_encode, encode_decode.base_64_decode
    assert call("States.Base64Encode($.s)", {"s": text}) == encoded
    assert call("States.Base64Decode($.s)", {"s": encoded}) == text


def test_base64_refuses_text_over_10000_characters_and_invalid_base64():
    assert call("States.Base64Encode($.s)", {"s": "a" * 10_000})
    failure("States.Base64Encode($.s)", {"s": "a" * 10_001})
    failure("States.Base64Decode($.s)", {"s": "A" * 10_004})
    failure("States.Base64Decode('not base64!')")
    failure("States.Base64Encode(1)")


@pytest.mark.parametrize("algorithm, digest", [
    ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
    ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
    ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
    ("SHA-384", "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1"
                "fb9e9374a15562"),
])
def test_hash_digests_text_in_hex(algorithm, digest):
    # hash_calculations.hash
    assert call("States.Hash($.s, $.a)", {"s": "input data", "a": algorithm}) == digest


def test_hash_computes_sha512_and_refuses_unknown_algorithms():
    assert len(call("States.Hash('x', 'SHA-512')")) == 128
    assert failure("States.Hash('x', 'SHA-999')").cause == "Invalid arguments in States.Hash"
    failure("States.Hash($.s, 'MD5')", {"s": "a" * 10_001})


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("first, second, total", [
    (-9, 3, -6), (1.49, 1.5, 3), (1.5, 1.51, 4), (-1.49, -1.5, -2), (-1.5, -1.51, -3), (1.49, 0, 1),
    (1.49, -1.49, 0), (1.5, 0, 2), (-1.5, 0, -1), (-1.51, 0, -2), (0.5, 0, 1), (2.5, 0, 3),
    (-0.5, 0.5, 1), (-3.5, 0, -3),
])
def test_math_add_rounds_each_number_half_up_then_adds(first, second, total):
    # math_operations.math_add
    assert call("States.MathAdd($.a, $.b)", {"a": first, "b": second}) == total


def test_math_add_refuses_non_numbers_and_values_outside_32_bit_integers():
    assert failure("States.MathAdd('1', 2)").cause == "Invalid arguments in States.MathAdd"
    failure("States.MathAdd(true, 2)")
    failure("States.MathAdd($.a, 1)", {"a": 2 ** 31})


def test_math_random_returns_an_integer_from_start_up_to_end():
    for _ in range(50):
        assert -99999 <= call("States.MathRandom(-99999, -9999)") < -9999


def test_math_random_with_a_seed_repeats_itself():
    assert call("States.MathRandom(1, 1000, 7)") == call("States.MathRandom(1, 1000, 7)")


@pytest.mark.parametrize("arguments, value", [
    # new java.util.Random(seed).nextInt(end - start) + start, checked on OpenJDK 17
    ("0, 100, 42", 30), ("0, 10, 0", 0), ("0, 100, 1", 85), ("0, 1000, 123", 782),
    ("10000, 100000, -5", 79411), ("0, 64, 7", 46),
])
def test_math_random_with_a_seed_draws_as_java_util_random_does(arguments, value):
    assert call(f"States.MathRandom({arguments})") == value


@pytest.mark.parametrize("number, rounded", [
    (0.49999999999999994, 0), (-2.5, -2), (1073741823.5, 1073741824),
])
def test_math_add_rounds_exactly_as_java_math_round(number, rounded):
    assert call("States.MathAdd($.n, 0)", {"n": number}) == rounded


def test_math_random_refuses_an_empty_range():
    assert failure("States.MathRandom(5, 5)").cause == "Invalid arguments in States.MathRandom"


# --- strings -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, delimiters, pieces", [
    (", , ,", ",", [" ", " "]), (",,,,", ",", []), ("1,2,3,4,5", ",", ["1", "2", "3", "4", "5"]),
    ("This.is+a,test=string", ".+,=", ["This", "is", "a", "test", "string"]),
    ("split on T and \nnew line", "T\n", ["split on ", " and ", "new line"]),
    ("a]b^c", "]^", ["a", "b", "c"]),
])
def test_string_split_splits_on_any_delimiter_character_and_drops_empty_pieces(text, delimiters,
                                                                               pieces):
    # string_operations.string_split
    assert call("States.StringSplit($.s, $.d)", {"s": text, "d": delimiters}) == pieces


def test_uuid_returns_a_random_version_4_uuid():
    first, second = call("States.UUID()"), call("States.UUID()")
    assert uuid.UUID(first).version == 4
    assert first != second


# --- helpers -------------------------------------------------------------------------------------


def test_json_equality_tells_booleans_integers_and_decimals_apart_as_jackson_does():
    assert json_equal({"a": [1, 2.5, None, "x"]}, {"a": [1, 2.5, None, "x"]})
    assert not json_equal({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not json_equal(True, 1)
    assert not json_equal(0, False)
    assert not json_equal({"a": 1}, {"b": 1})
    assert not json_equal([1], [1, 1])


def test_evaluating_a_call_never_changes_its_input():
    data = {"a": [3, 1, 3], "o": {"k": 1}}
    before = json.dumps(data)
    for text in ["States.ArrayUnique($.a)", "States.ArrayPartition($.a, 2)",
                 "States.JsonMerge($.o, $.o, false)", "States.Array($.a, $.o)"]:
        call(text, data)
    assert json.dumps(data) == before


# --- properties ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=15)

call_alphabet = st.sampled_from(
    list("(),'\\{}$. -1e") + ["States.", "States.Array", "States.Format", "States.MathAdd", "true",
                              "$.a", "$$", "null", "'x'", "[0]"])
call_like_text = st.lists(call_alphabet, max_size=14).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(st.text(max_size=30), call_like_text, call_like_text.map("States.".__add__)))
def test_compiling_any_text_yields_a_call_or_an_expression_syntax_error(text):
    try:
        intrinsic = compile_intrinsic(text)
    except ExpressionSyntaxError:
        return
    assert intrinsic.name in FUNCTIONS


ARGUMENT_PATHS = ["$.a", "$.b", "$.c", "$v", "$$.x", "$.missing", "$.a[0]", "$.a[*]"]


@st.composite
def calls(draw, depth=0):
    name = draw(st.sampled_from(sorted(FUNCTIONS)))
    _, minimum, maximum, _ = FUNCTIONS[name]
    count = draw(st.integers(minimum, maximum if maximum is not None else minimum + 3))
    arguments = []
    for _ in range(count):
        kinds = ["path", "literal", "call"] if depth < 2 else ["path", "literal"]
        kind = draw(st.sampled_from(kinds))
        if kind == "path":
            arguments.append(draw(st.sampled_from(ARGUMENT_PATHS)))
        elif kind == "call":
            arguments.append(draw(calls(depth=depth + 1)))
        else:
            arguments.append(draw(st.sampled_from(
                ["'{}'", "'a,b'", "'SHA-1'", "'{} {}'", "1", "-2", "2.5", "0", "true", "false",
                 "null", "'e30='", "'[1,2]'", "1000"])))
    return f"{name}({', '.join(arguments)})"


@settings(max_examples=500, deadline=None)
@given(text=calls(), a=json_values, b=json_values, c=json_values, v=json_values, x=json_values)
def test_evaluating_any_call_returns_json_or_raises_a_states_error(text, a, b, c, v, x):
    try:
        intrinsic = compile_intrinsic(text)
    except ExpressionSyntaxError:
        return
    try:
        value = intrinsic.evaluate({"a": a, "b": b, "c": c}, {"x": x}, {"v": v})
    except StatesError:
        return
    json.dumps(value)  # the result is plain JSON


def test_the_module_exports_exactly_its_api():
    from runtime.asl import intrinsics

    assert sorted(intrinsics.__all__) == sorted([
        "FUNCTIONS", "Intrinsic", "compile_intrinsic", "is_intrinsic", "json_equal"])
    for name in intrinsics.__all__:
        assert hasattr(intrinsics, name), name
