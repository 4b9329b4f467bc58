"""The one table of Choice operators, and the engine, the validator and the graph all reading it."""

from __future__ import annotations

import pytest

from runtime.asl import StateMachine, rule_text, validate
from runtime.asl.choice_operators import OPERATORS, page_table

SAMPLE = {"string": "b", "number": 2, "boolean": True, "timestamp": "2024-01-01T00:00:00Z",
          "path": "$.other", "test": True}
INPUT = {"string": {"v": "b", "other": "b"}, "number": {"v": 2, "other": 2},
         "boolean": {"v": True, "other": True},
         "timestamp": {"v": "2024-01-01T01:00:00+01:00", "other": "2024-01-01T00:00:00Z"}}


def test_every_comparison_but_string_matches_has_its_path_variant_and_tests_take_a_boolean():
    compared = [op for op in OPERATORS.values() if op.kind not in ("path", "test")]
    assert len(compared) == 17 and len(OPERATORS) == 39
    for op in compared:
        variant = OPERATORS.get(op.name + "Path")
        assert (variant is None) == (op.name == "StringMatches")
        if variant:
            assert (variant.kind, variant.base, variant.compare) == ("path", op.name, op.compare)
    assert sorted(op.name for op in OPERATORS.values() if op.kind == "test") == [
        "IsBoolean", "IsNull", "IsNumeric", "IsPresent", "IsString", "IsTimestamp"]


def test_the_page_gets_names_kinds_and_bases_only():
    table = page_table()
    assert [row["name"] for row in table] == list(OPERATORS)
    assert {"name": "NumericLessThanPath", "kind": "path", "base": "NumericLessThan"} in table
    assert {"name": "IsPresent", "kind": "test"} in table
    assert all(set(row) <= {"name", "kind", "base"} for row in table)


def _family(op) -> str:
    base = OPERATORS[op.base] if op.base else op
    return base.kind


@pytest.mark.parametrize("name", list(OPERATORS))
def test_each_operator_validates_runs_and_reads_from_the_same_row(name):
    op = OPERATORS[name]
    rule = {"Variable": "$.v", name: SAMPLE[op.kind], "Next": "Yes"}
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [rule], "Default": "No"},
        "Yes": {"Type": "Succeed"}, "No": {"Type": "Fail", "Error": "NoMatch"}}}
    assert validate(definition) == []
    run_input = INPUT.get(_family(op), {"v": "b", "other": "b"})
    result = StateMachine(definition).run(run_input)
    assert result.status in ("SUCCEEDED", "FAILED") and result.error in (None, "NoMatch")
    assert op.reads in rule_text(rule)


@pytest.mark.parametrize("name, value", [("NumericEquals", "2"), ("IsNull", "yes"),
                                          ("StringEqualsPath", "not a path"),
                                          ("TimestampEquals", "2024-13-01T00:00:00Z")])
def test_a_value_of_the_wrong_kind_is_refused(name, value):
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.v", name: value, "Next": "Y"}]},
        "Y": {"Type": "Succeed"}}}
    assert [d.code for d in validate(definition)] == ["SCHEMA_VALIDATION_FAILED"]
