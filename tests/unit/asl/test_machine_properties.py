"""Property: a machine that validates never raises a Python exception from `run`; whatever the
input, the run ends with a status, and a failed run names its error."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from runtime.asl import DefinitionError, FakeClock, FakeInvoker, StateMachine

from .strategies import echo_or_fail, json_values, machines


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machines(), json_values)
def test_a_valid_machine_ends_every_run_with_a_status_and_never_raises(definition, value):
    try:
        machine = StateMachine(definition)
    except DefinitionError as error:  # the generator makes only valid machines
        raise AssertionError(f"generated an invalid machine: {error}") from error
    result = machine.run(value, invoker=FakeInvoker({"echo": echo_or_fail}), clock=FakeClock())

    assert result.status in ("SUCCEEDED", "FAILED")
    if result.status == "FAILED":
        assert result.error
        assert result.history[-1]["type"] == "ExecutionFailed"
    else:
        assert result.history[-1]["type"] == "ExecutionSucceeded"
