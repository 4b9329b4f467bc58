"""The JSONata-mode expression layer: templates, AWS's functions and AWS's error wordings."""

import pytest

from runtime.asl.diagnostics import ExpressionSyntaxError
from runtime.asl.errors import QueryEvaluationError
from runtime.asl.jsonata import compile_jsonata, is_expression

STATES = {"input": {"input_value": "string literal", "input_values": [1, 2, 3]}, "context": {}}


def evaluate(value, states=STATES, variables=None, field="Output"):
    return compile_jsonata(value, field=field).evaluate(states, variables)


def test_it_recognises_only_strings_that_start_and_end_with_the_delimiters():
    assert is_expression("{% $states.input %}")
    assert not is_expression(" {% states.input %} ")
    assert not is_expression({"a": "{% 1 %}"})


def test_it_evaluates_states_and_variables():
    assert evaluate("{% $sum($states.input.input_values) + $one %}", variables={"one": 1}) == 7


def test_an_undefined_member_names_its_field_path():
    with pytest.raises(QueryEvaluationError) as caught:
        evaluate({"result": "{% $doesNotExist %}"})
    assert caught.value.cause == ("The JSONata expression '$doesNotExist' specified for the field "
                                  "'Output/result' returned nothing (undefined).")


def test_a_bad_expression_is_a_syntax_error():
    with pytest.raises(ExpressionSyntaxError):
        compile_jsonata("{% 1 + %}", field="Output")
