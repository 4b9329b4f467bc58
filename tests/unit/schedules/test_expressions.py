"""AWS's schedule expressions (runtime.schedules): the six-field cron translated for cronsim (every
special character, day-of-week 1-7 = SUN-SAT, names, the year field, time zones across DST),
rate() and at(), start and end dates, and refusals that say where the expression is wrong."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import runtime.schedules as schedules
from runtime.schedules import At, ExpressionError, Rate, next_fire, parse_expression, upcoming

UTC = timezone.utc
# Friday 1 January 2027, 00:00 UTC.
START = datetime(2027, 1, 1, tzinfo=UTC)


def ticks(expression: str, count: int = 3, after: datetime = START, zone_name: str = "UTC") -> list[datetime]:
    return upcoming(parse_expression(expression), count, after=after, zone_name=zone_name, anchor=after)


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_the_package_names_its_public_surface():
    assert sorted(schedules.__all__) == sorted(["AwsCron", "CronError", "At", "Cron", "ExpressionError", "Rate",
                                                "next_fire", "parse_expression", "upcoming", "zone"])
    for name in schedules.__all__:
        assert hasattr(schedules, name)


def test_day_of_week_1_is_sunday_and_7_is_saturday():
    assert ticks("cron(0 12 ? * 1 *)", 2) == [utc(2027, 1, 3, 12), utc(2027, 1, 10, 12)]   # Sundays
    assert ticks("cron(0 12 ? * 7 *)", 1) == [utc(2027, 1, 2, 12)]                         # Saturday
    assert ticks("cron(0 12 ? * 2-6 *)", 5) == [utc(2027, 1, d, 12) for d in (1, 4, 5, 6, 7)]  # MON-FRI


def test_names_of_days_and_months_read_as_aws_reads_them():
    assert ticks("cron(0 8 ? * MON-FRI *)", 2) == [utc(2027, 1, 1, 8), utc(2027, 1, 4, 8)]
    assert ticks("cron(0 0 1 JAN,JUL ? *)", 2) == [utc(2027, 7, 1), utc(2028, 1, 1)]
    assert ticks("cron(0 0 ? * sat *)", 1) == [utc(2027, 1, 2)]


def test_ranges_lists_and_steps():
    assert ticks("cron(0/15 10 * * ? *)", 4) == [utc(2027, 1, 1, 10, m) for m in (0, 15, 30, 45)]
    assert ticks("cron(5/20 10 * * ? *)", 3) == [utc(2027, 1, 1, 10, m) for m in (5, 25, 45)]
    assert ticks("cron(*/30 1-2 * * ? *)", 4) == [utc(2027, 1, 1, h, m) for h in (1, 2) for m in (0, 30)]
    assert ticks("cron(0 9,17 * * ? *)", 2) == [utc(2027, 1, 1, 9), utc(2027, 1, 1, 17)]
    assert ticks("cron(0 0 ? * 2/2 *)", 3) == [utc(2027, 1, 4), utc(2027, 1, 6), utc(2027, 1, 8)]   # MON, WED, FRI


def test_question_mark_leaves_the_other_day_field_to_decide():
    assert ticks("cron(0 0 15 * ? *)", 2) == [utc(2027, 1, 15), utc(2027, 2, 15)]
    assert ticks("cron(0 0 ? * 4 *)", 1) == [utc(2027, 1, 6)]   # Wednesday


def test_l_is_the_last_day_of_the_month_or_the_last_weekday_of_that_kind():
    assert ticks("cron(0 0 L * ? *)", 3) == [utc(2027, 1, 31), utc(2027, 2, 28), utc(2027, 3, 31)]
    assert ticks("cron(0 0 ? * 6L *)", 2) == [utc(2027, 1, 29), utc(2027, 2, 26)]   # last Fridays
    assert ticks("cron(0 0 ? * L *)", 1) == [utc(2027, 1, 2)]                       # L alone: Saturday


def test_w_is_the_weekday_nearest_the_day_within_the_month():
    # 15 May 2027 is a Saturday -> Friday 14; 15 Aug 2027 is a Sunday -> Monday 16.
    assert utc(2027, 5, 14) in ticks("cron(0 0 15W * ? *)", 12)
    assert utc(2027, 8, 16) in ticks("cron(0 0 15W * ? *)", 12)
    # 1 May 2027 is a Saturday: the nearest weekday in May is Monday 3 (never April 30).
    assert ticks("cron(0 0 1W 5 ? *)", 1) == [utc(2027, 5, 3)]
    # 31 Oct 2027 is a Sunday: the Friday before (29), the month ends there.
    assert ticks("cron(0 0 31W 10 ? *)", 1) == [utc(2027, 10, 29)]
    assert ticks("cron(0 0 LW * ? *)", 2) == [utc(2027, 1, 29), utc(2027, 2, 26)]


def test_hash_is_the_nth_weekday_of_the_month():
    assert ticks("cron(0 9 ? * 2#1 *)", 2) == [utc(2027, 1, 4, 9), utc(2027, 2, 1, 9)]   # first Mondays
    assert ticks("cron(0 9 ? * FRI#3 *)", 1) == [utc(2027, 1, 15, 9)]


def test_the_year_field_filters_and_ends_the_schedule():
    assert ticks("cron(0 0 1 1 ? 2028/2)", 3) == [utc(2028, 1, 1), utc(2030, 1, 1), utc(2032, 1, 1)]
    # (strictly after START, which is 1 January 2027 00:00 itself)
    assert ticks("cron(0 0 1 * ? 2027-2028)", 30)[-1] == utc(2028, 12, 1)
    assert len(ticks("cron(0 0 1 * ? 2027-2028)", 30)) == 23
    assert ticks("cron(0 0 1 1 ? 2026)", 1) == []


def test_time_zones_are_read_with_their_daylight_saving_time():
    paris = ZoneInfo("Europe/Paris")
    found = ticks("cron(30 9 * * ? *)", 1, zone_name="Europe/Paris")
    assert found == [datetime(2027, 1, 1, 9, 30, tzinfo=paris).astimezone(UTC)] == [utc(2027, 1, 1, 8, 30)]
    summer = ticks("cron(30 9 * * ? *)", 1, after=utc(2027, 7, 1), zone_name="Europe/Paris")
    assert summer == [utc(2027, 7, 1, 7, 30)]
    # 28 March 2027 02:30 does not exist in Paris (clocks go 02:00 -> 03:00): as on Scheduler,
    # that day's fire is skipped.
    spring = ticks("cron(30 2 * * ? *)", 3, after=utc(2027, 3, 26, 12), zone_name="Europe/Paris")
    assert spring == [utc(2027, 3, 27, 1, 30), utc(2027, 3, 29, 0, 30), utc(2027, 3, 30, 0, 30)]
    # 31 October 2027 02:30 happens twice in Paris: it fires once, the first time.
    autumn = ticks("cron(30 2 * * ? *)", 3, after=utc(2027, 10, 29, 12), zone_name="Europe/Paris")
    assert autumn == [utc(2027, 10, 30, 0, 30), utc(2027, 10, 31, 0, 30), utc(2027, 11, 1, 1, 30)]
    repeated = ticks("cron(0/30 * * * ? *)", 6, after=utc(2027, 10, 30, 23, 15), zone_name="Europe/Paris")
    assert repeated == [utc(2027, 10, 30, 23, 30), utc(2027, 10, 31, 0), utc(2027, 10, 31, 0, 30),
                        utc(2027, 10, 31, 2), utc(2027, 10, 31, 2, 30), utc(2027, 10, 31, 3)]   # 02:00-02:59 once
    # An hourly expression keeps its hours across the change: 23 on the short day.
    short_day = [t for t in ticks("cron(0 * * * ? *)", 30, after=utc(2027, 3, 27, 22, 59), zone_name="Europe/Paris")
                 if t.astimezone(paris).date().isoformat() == "2027-03-28"]
    assert len(short_day) == 23


def test_a_rate_fires_every_period_from_its_anchor_or_start_date():
    assert parse_expression("rate(1 minute)") == Rate(1, "minute")
    # Without a start date it fires at once (at its anchor, when it was made) when asked from just before.
    at_once = next_fire(parse_expression("rate(5 minutes)"), after=START - timedelta(microseconds=1), zone_name="UTC",
                        anchor=START)
    assert at_once == START
    assert parse_expression("rate(5 minutes)").period == timedelta(minutes=5)
    assert ticks("rate(2 hours)", 2) == [START + timedelta(hours=2), START + timedelta(hours=4)]
    start = START + timedelta(days=1, seconds=7)
    found = next_fire(parse_expression("rate(1 day)"), after=START, zone_name="UTC", anchor=START, start=start)
    assert found == start   # the start date itself is the first tick
    later = next_fire(parse_expression("rate(10 minutes)"), after=START + timedelta(minutes=25), zone_name="UTC",
                      anchor=START)
    assert later == START + timedelta(minutes=30)


def test_an_at_fires_once_in_its_time_zone():
    assert parse_expression("at(2027-02-01T09:30:00)") == At(datetime(2027, 2, 1, 9, 30))
    assert ticks("at(2027-02-01T09:30:00)", 3, zone_name="America/New_York") == [utc(2027, 2, 1, 14, 30)]
    assert ticks("at(2026-02-01T09:30:00)", 1) == []   # already past
    # A one-time schedule ignores the start and end dates.
    found = next_fire(parse_expression("at(2027-02-01T09:30:00)"), after=START, zone_name="UTC", anchor=START,
                      start=utc(2027, 6, 1), end=utc(2027, 1, 15))
    assert found == utc(2027, 2, 1, 9, 30)


def test_the_end_date_stops_the_ticks():
    found = upcoming(parse_expression("rate(1 hour)"), 10, after=START, zone_name="UTC", anchor=START,
                     end=START + timedelta(hours=3))
    assert found == [START + timedelta(hours=h) for h in (1, 2, 3)]


@pytest.mark.parametrize("expression, fragment, column", [
    ("cron(0 9 ? * 8 *)", "field 5 (day-of-week) at character 9", 14),
    ("cron(61 9 ? * * *)", "field 1 (minutes)", 6),
    ("cron(0 24 ? * * *)", "field 2 (hours)", 8),
    ("cron(0 9 ? XYZ * *)", "'XYZ' is not a number 1-12 or one of JAN-DEC", 12),
    ("cron(0 9 * * MON *)", "one of day-of-month and day-of-week must be '?'", 10),
    ("cron(0 9 ? * ? *)", "one of day-of-month and day-of-week must be '?'", 14),
    ("cron(0 9 ? * 2#6 *)", "the week number after '#' is 1-5", 14),
    ("cron(0 9 32 * ? *)", "field 3 (day-of-month)", 10),
    ("cron(0 9 ? * MON-FRI)", "6 fields", None),
    ("cron(0 9 1 * ? 1969)", "field 6 (year)", 16),
    ("cron(0/0 9 1 * ? *)", "the step after '/' is a positive number", 6),
    ("cron(? 9 1 * ? *)", "'?' is only for day-of-month or day-of-week", 6),
    ("cron(0 9 5-2 * ? *)", "the range ends before it starts", 10),
    ("cron(0 9 1W,15 * ? *)", "field 3", 10),
    ("cron(0 9 30 2 ? *)", "matches no time", None),
    ("cron(0 9 30W 2 ? *)", "no month it allows has a day 30", None),
    ("rate(1 minutes)", "'minute', not 'minutes'", 8),
    ("rate(2 minute)", "'minutes', not 'minute'", 8),
    ("rate(0 hours)", "not a positive whole number", 6),
    ("rate(5 weeks)", "'weeks' is not minute(s), hour(s) or day(s)", 8),
    ("rate(five minutes)", "not a positive whole number", 6),
    ("at(2027-13-01T00:00:00)", "at(yyyy-mm-ddThh:mm:ss)", 4),
    ("at(2027-01-01 00:00:00)", "at(yyyy-mm-ddThh:mm:ss)", 4),
    ("every 5 minutes", "rate(...), cron(...) or at(...)", 1),
])
def test_an_expression_that_does_not_read_says_where(expression, fragment, column):
    with pytest.raises(ExpressionError) as refused:
        parse_expression(expression)
    assert fragment in str(refused.value)
    assert refused.value.column == column


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ExpressionError, match="IANA"):
        schedules.zone("Mars/Olympus")
