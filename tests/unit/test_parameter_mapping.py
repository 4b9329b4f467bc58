"""API Gateway's parameter mapping expressions (runtime.parameter_mapping): each source, text
around expressions, what finds nothing, and the expressions that do not read."""

from __future__ import annotations

import pytest

from runtime.parameter_mapping import MappingError, Sources, check, evaluate

SOURCES = Sources(body='{"order": {"items": [{"id": "a1"}, {"id": "b2"}], "note": "hi"}, "n": 3}',
                  headers={"x-trace": "t-1"}, query={"page": "2"}, path_parameters={"id": "17"},
                  path="/dev/orders/17", context={"requestId": "r-9", "identity": {"sourceIp": "10.0.0.1"}},
                  stage_variables={"env": "dev"})


@pytest.mark.parametrize("value, expected", [
    ("$request.body", SOURCES.body),
    ("$request.body.n", "3"),
    ("$request.body.order.note", "hi"),
    ("$request.body.order.items[1].id", "b2"),
    ("$request.body['order']['note']", "hi"),
    ("$request.body.order.items", '[{"id":"a1"},{"id":"b2"}]'),
    ("$request.header.X-Trace", "t-1"),
    ("$request.querystring.page", "2"),
    ("$request.path.id", "17"),
    ("$request.path", "/dev/orders/17"),
    ("$context.requestId", "r-9"),
    ("$context.identity.sourceIp", "10.0.0.1"),
    ("$stageVariables.env", "dev"),
    ("arn:aws:states:us-east-1:123456789012:stateMachine:m", "arn:aws:states:us-east-1:123456789012:stateMachine:m"),
    ("order-${request.path.id}-${context.requestId}", "order-17-r-9"),
    ("$request.body.missing", None),
    ("$request.header.none", None),
    ("x-${request.header.none}", "x-"),
])
def test_each_expression_maps_the_request(value, expected):
    check(value)
    assert evaluate(value, SOURCES) == expected


def test_a_body_that_is_not_json_has_no_paths():
    assert evaluate("$request.body.a", Sources(body="plain")) is None
    assert evaluate("$request.body", Sources(body="plain")) == "plain"


@pytest.mark.parametrize("value, words", [
    ("$request.nothing", "$request.nothing is not a mapping expression"),
    ("$context.secret", "$context.secret is not a context variable"),
    ("$request.body.a[x", "is not a JSONPath"),
    ("${request.header.}", "names no header"),
    (5, "a mapping value is a text"),
])
def test_what_does_not_read_is_refused_saying_why(value, words):
    with pytest.raises(MappingError) as caught:
        check(value)
    assert words in str(caught.value)
