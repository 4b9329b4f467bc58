"""Whatever a client sends, validation answers with an ApiError (a 4xx) or a clean value, never
another exception; and the stream's messages carry exactly their declared fields."""

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from editor import messages
from editor.errors import ApiError
from editor.services import machines as machine_service
from editor.services import validation
from runtime.asl import FakeClock, FakeInvoker, StateMachine
from tests.unit.asl.strategies import echo_or_fail, json_values as run_inputs, machines

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def refused_or_value(check, value):
    try:
        return check(value)
    except ApiError as error:
        assert 400 <= error.status < 500
        assert error.message
        return None


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_every_validator_answers_any_json_with_a_value_or_a_4xx(value):
    for check in (validation.function_name, validation.test_event_name, validation.handler, validation.files,
                  validation.environment, lambda v: validation.integer(v, "timeout", 1, 900),
                  lambda v: validation.number(v, "tolerated_failure_percentage", 0, 100),
                  lambda v: validation.boolean(v, "network"),
                  lambda v: validation.text(v, "description", max_length=256)):
        refused_or_value(check, value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_json_or_an_invalid_json_error_with_a_location(raw):
    try:
        validation.json_text(raw)
    except ApiError as error:
        assert error.code == "InvalidJson"
        assert "line" in error.message or "UTF-8" in error.message


@given(st.dictionaries(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{1,20}", fullmatch=True), st.text(max_size=50),
                       max_size=8))
def test_accepted_environments_keep_every_key_and_value(env):
    env = {k: v for k, v in env.items() if k not in validation.RESERVED_ENV_KEYS}
    if sum(len(k.encode()) + len(v.encode()) for k, v in env.items()) <= validation.ENV_LIMIT_BYTES:
        assert validation.environment(env) == env


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machines(), run_inputs)
def test_a_definition_the_editor_calls_valid_runs_without_raising(definition, value):
    # What the machine page validates as you type (timestamps in Waits and Choices included) is
    # what the executor later runs: a clean verdict must mean a run that ends with a status.
    text = json.dumps(definition, ensure_ascii=False)
    checked = machine_service.validate_definition(text)
    assert checked["diagnostics"] == [] and "digraph" in checked["dot"]
    result = StateMachine(text).run(value, invoker=FakeInvoker({"echo": echo_or_fail}),
                                    clock=FakeClock())
    assert result.status in ("SUCCEEDED", "FAILED") and (result.status == "SUCCEEDED" or result.error)


def test_a_message_with_an_undeclared_field_is_rejected():
    with pytest.raises(ValueError, match="unknown fields"):
        messages.to_client({"type": "invocation.log", "invocation_id": "x", "seq": 1, "lines": ["a"], "extra": 1})
    assert messages.to_client({"type": "invocation.log", "invocation_id": "x", "seq": 1, "lines": ["a"]})["type"] == "log"
