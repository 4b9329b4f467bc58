"""Wait: the delays AWS refuses fail the run with States.Runtime and AWS's causes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from runtime.asl import FakeClock, StateMachine

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def run_wait(spec: dict, run_input):
    definition = {"StartAt": "WaitState", "States": {"WaitState": {"Type": "Wait", **spec,
                                                                   "End": True}}}
    clock = FakeClock(START)
    return StateMachine(definition).run(run_input, clock=clock), clock


@pytest.mark.parametrize("seconds", [-1, -86400, -1.0])
def test_a_negative_seconds_path_fails_the_run(seconds):
    result, clock = run_wait({"SecondsPath": "$.input.waitSeconds"},
                             {"input": {"waitSeconds": seconds}})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause == (
        "An error occurred while executing the state 'WaitState' (entered at the event id #2). "
        f"The SecondsPath parameter references a negative value: $.input.waitSeconds == "
        f"{int(seconds)}")
    assert clock.slept == []


def test_a_fractional_seconds_path_is_not_a_long_value():
    result, _ = run_wait({"SecondsPath": "$.s"}, {"s": -1.5})
    assert result.cause.endswith("The SecondsPath parameter cannot be parsed as a long value: "
                                 "$.s == -1.5")


def at(days: int) -> str:
    return (START + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.mark.parametrize("spec, run_input", [
    ({"TimestampPath": "$.start_at"}, {"start_at": at(24856)}),
    ({"Timestamp": at(24856)}, {}),
    ({"SecondsPath": "$.s"}, {"s": 2**31}),
])
def test_a_delay_beyond_2_to_the_31_seconds_fails_as_too_long(spec, run_input):
    result, clock = run_wait(spec, run_input)
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause == ("An error occurred while executing the state 'WaitState' (entered at "
                            "the event id #2). Wait state delay is too long.")
    assert clock.slept == []
    assert [e["type"] for e in result.history] == ["ExecutionStarted", "WaitStateEntered",
                                                   "ExecutionFailed"]


def test_a_timestamp_24855_days_ahead_is_waited_for():
    result, clock = run_wait({"TimestampPath": "$.start_at"}, {"start_at": at(24855)})
    assert result.status == "SUCCEEDED"
    assert clock.now() == START + timedelta(days=24855)
