"""runtime.asl.timestamps: the one reader of ASL timestamps, and the validator, Wait and Choice
agreeing on it (a leap second included)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from runtime.asl import FakeClock, StateMachine, validate
from runtime.asl.timestamps import is_timestamp, parse_timestamp

UTC = timezone.utc


@pytest.mark.parametrize("text, moment", [
    ("2024-08-18T17:33:00Z", datetime(2024, 8, 18, 17, 33, tzinfo=UTC)),
    ("2024-08-18T19:33:00+02:00", datetime(2024, 8, 18, 17, 33, tzinfo=UTC)),
    ("2024-08-18T17:33:00.25Z", datetime(2024, 8, 18, 17, 33, 0, 250000, tzinfo=UTC)),
    ("2024-08-18T17:33:00.123456789Z", datetime(2024, 8, 18, 17, 33, 0, 123456, tzinfo=UTC)),
    ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=UTC)),
    ("2024-06-30T23:59:60Z", datetime(2024, 7, 1, tzinfo=UTC)),
    ("2016-12-31T23:59:60.5Z", datetime(2017, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ("2024-06-30T19:59:60-04:00", datetime(2024, 7, 1, tzinfo=UTC)),
])
def test_an_rfc3339_timestamp_reads_as_its_moment(text, moment):
    assert parse_timestamp(text) == moment
    assert is_timestamp(text)


@pytest.mark.parametrize("text", [
    "2024-08-18t17:33:00Z", "2024-08-18T17:33:00z", "2024-08-18T17:33:00", "2024-08-18 17:33:00Z",
    "2016-13-05T21:29:29Z", "2016-12-05T25:29:29Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
    "2024-01-01T00:60:00Z", "2024-01-01T00:00:61Z", "2024-01-01T00:00:00+24:00",
    "2024-01-01T00:00:00+01:60", "2024-01-01T00:00:00.Z", "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:60Z", "", None, 5, "2024-01-01T00:00:00Z ",
])
def test_anything_else_is_not_a_timestamp(text):
    assert parse_timestamp(text) is None
    assert not is_timestamp(text)


def wait_until(field: str, value: str) -> dict:
    return {"StartAt": "W", "States": {"W": {"Type": "Wait", field: value, "End": True}}}


@pytest.mark.parametrize("definition, run_input", [
    (wait_until("Timestamp", "2024-06-30T23:59:60Z"), {}),
    (wait_until("TimestampPath", "$.at"), {"at": "2024-06-30T23:59:60Z"}),
    ({"QueryLanguage": "JSONata", **wait_until("Timestamp", "{% $states.input.at %}")},
     {"at": "2024-06-30T23:59:60Z"}),
])
def test_a_wait_for_a_leap_second_validates_and_waits_until_the_next_second(definition,
                                                                            run_input):
    assert validate(definition) == []
    clock = FakeClock(datetime(2024, 6, 30, 23, 59, 0, tzinfo=UTC))
    result = StateMachine(definition).run(run_input, clock=clock)

    assert result.status == "SUCCEEDED", result.cause
    assert clock.now() == datetime(2024, 7, 1, tzinfo=UTC)


def test_a_wait_drops_the_timestamps_fraction_as_aws_does():
    clock = FakeClock(datetime(2024, 1, 1, tzinfo=UTC))
    StateMachine(wait_until("Timestamp", "2024-01-01T00:00:05.900Z")).run({}, clock=clock)
    assert clock.slept == [5.0]


def test_a_choice_compares_a_leap_second_as_the_second_after_it():
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.at", "TimestampEquals": "2024-07-01T00:00:00Z", "Next": "Same"},
        ], "Default": "Other"},
        "Same": {"Type": "Succeed"}, "Other": {"Type": "Fail", "Error": "Other"}}}
    for value in ("2024-06-30T23:59:60Z", "2024-07-01T02:00:00+02:00"):
        assert StateMachine(definition).run({"at": value}).status == "SUCCEEDED", value


def test_the_validator_and_the_wait_agree_on_every_timestamp_the_parser_refuses():
    for text in ("2024-02-30T00:00:00Z", "9999-12-31T23:59:60Z"):
        assert [d.location for d in validate(wait_until("Timestamp", text))] == \
            ["/States/W/Timestamp"]
        result = StateMachine(wait_until("TimestampPath", "$.at")).run({"at": text},
                                                                         clock=FakeClock())
        assert (result.status, result.error) == ("FAILED", "States.Runtime")


def test_a_leap_second_moment_is_one_second_after_the_one_before_it():
    before = parse_timestamp("2024-06-30T23:59:59Z")
    assert parse_timestamp("2024-06-30T23:59:60Z") - before == timedelta(seconds=1)
