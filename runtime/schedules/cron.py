"""AWS's six-field cron (`minutes hours day-of-month month day-of-week year`), read into the five
fields cronsim evaluates plus the rules cronsim has no words for, which are applied as filters on
its ticks:

    AwsCron.parse("0 9 ? * MON-FRI *")      weekdays at 09:00
    AwsCron.parse("0/15 * ? * 2#1 2027")    every 15 minutes of each first Monday of 2027

The translation: day-of-week 1-7 (SUN-SAT) becomes cronsim's 0-6; `?` becomes `*`; `a/b`
becomes `a-<max>/b`; `nW` (the weekday nearest day n) becomes the days n-2..n+2 filtered by the
rule; the year field is a filter of its own. A field that does not read raises CronError naming
the field, its place among the six (1-based) and the character where it starts.

Daylight saving time as Scheduler keeps it: a time the clocks skip does not fire, a time they
repeat fires once (the first time). cronsim is given a seconds field ("0 ...") for that: its
Debian-cron handling (a skipped time fires at the jump) is only for five-field expressions.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from collections.abc import Iterator
from datetime import datetime, timedelta

from cronsim import CronSim, CronSimError

__all__ = ["AwsCron", "CronError", "FIELDS"]

FIELDS = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
DAYS = "SUN MON TUE WED THU FRI SAT".split()
# field -> (lowest, highest, names or None)
BOUNDS = {
    "minutes": (0, 59, None), "hours": (0, 23, None), "day-of-month": (1, 31, None),
    "month": (1, 12, MONTHS), "day-of-week": (1, 7, DAYS), "year": (1970, 2199, None),
}
HORIZON_YEARS = 100
_WEEKDAY = re.compile(r"(?P<day>\d{1,2})W")
_NTH = re.compile(r"(?P<day>\w+)#(?P<nth>\d)")
_LAST_DOW = re.compile(r"(?P<day>\w+)L")


class CronError(ValueError):
    """A cron expression that does not read: `field` (its name), `position` (1-6) and `column`
    (the 1-based character in the expression where the field starts)."""

    def __init__(self, message: str, field: str | None = None, position: int | None = None,
                 column: int | None = None):
        where = f" in field {position} ({field}) at character {column}" if field else ""
        super().__init__(f"{message}{where}")
        self.field = field
        self.position = position
        self.column = column


@dataclass(frozen=True)
class AwsCron:
    """A parsed AWS cron expression: `unix` is what cronsim evaluates (six fields, seconds first);
    `years` (None: every year) and `nearest_weekday` (the n of `nW`, or None) filter its ticks."""

    text: str
    unix: str
    years: frozenset[int] | None = None
    nearest_weekday: int | None = None
    columns: tuple[int, ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, text: str) -> "AwsCron":
        parts, columns = _split(text)
        dom, dow = parts[2], parts[4]
        if (dom == "?") == (dow == "?"):
            position = 3 if dom != "?" else 5
            raise CronError("one of day-of-month and day-of-week must be '?' and the other not",
                            FIELDS[position - 1], position, columns[position - 1])
        translated = []
        nearest = None
        for index, (name, value) in enumerate(zip(FIELDS[:5], parts[:5])):
            try:
                if name == "day-of-month" and _WEEKDAY.fullmatch(value):
                    nearest = int(_WEEKDAY.fullmatch(value)["day"])
                    _number(str(nearest), name)
                    translated.append(",".join(str(d) for d in range(max(1, nearest - 2), min(31, nearest + 2) + 1)))
                else:
                    translated.append(_field(name, value))
            except CronError as error:
                raise CronError(str(error), name, index + 1, columns[index]) from None
        try:
            years = _years(parts[5])
        except CronError as error:
            raise CronError(str(error), "year", 6, columns[5]) from None
        unix = " ".join(["0", *translated])   # with seconds: see the module's docstring on DST
        try:
            CronSim(unix, datetime(2000, 1, 1))
        except CronSimError as error:   # (what reads field by field but never matches a day)
            raise CronError(f"{text!r} matches no time: {error}") from None
        found = cls(text, unix, years, nearest, tuple(columns))
        if nearest is not None and next(found.ticks(datetime(1999, 12, 31, 23, 59)), None) is None:
            raise CronError(f"{text!r} matches no time: no month it allows has a day {nearest}")
        return found

    def ticks(self, after: datetime) -> Iterator[datetime]:
        """Yields the times the expression matches strictly after `after` (an aware datetime, in
        the time zone the expression is read in), in order; ends after the last year it allows."""
        last_year = max(self.years) if self.years else None
        # Past this year nothing more is looked for: an expression whose ticks its filters all
        # refuse (`30W` in February only) ends instead of searching for ever.
        horizon = after.year + HORIZON_YEARS
        start = after
        while True:
            if last_year is not None and start.year > last_year:
                return
            for tick in CronSim(self.unix, start):
                if tick.year > horizon:
                    return
                if self.years is not None and tick.year not in self.years:
                    later = [y for y in self.years if y > tick.year]
                    if not later:
                        return
                    # Jump to the next allowed year (one second before its first minute).
                    start = _year_start(tick, min(later))
                    break
                if self.nearest_weekday is not None and tick.day != _nearest_weekday(tick.year, tick.month,
                                                                                     self.nearest_weekday):
                    continue
                if tick.fold and tick.utcoffset() != tick.replace(fold=0).utcoffset():
                    continue   # the second pass of an hour the clocks repeat: it fired in the first
                yield tick
            else:
                return


def _year_start(tick: datetime, year: int) -> datetime:
    """Returns one second before midnight of 1 January `year`, in `tick`'s time zone: cronsim
    starts strictly after it."""
    return tick.replace(year=year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(seconds=1)


def _nearest_weekday(year: int, month: int, day: int) -> int | None:
    """Returns the day of the month that `dayW` means: the weekday (Mon-Fri) nearest `day`
    within the same month; None when the month is shorter than `day`."""
    length = calendar.monthrange(year, month)[1]
    if day > length:
        return None
    weekday = calendar.weekday(year, month, day)   # Monday = 0
    if weekday < 5:
        return day
    if weekday == 5:   # Saturday: the Friday before, or the Monday after on the 1st
        return day - 1 if day > 1 else day + 2
    return day + 1 if day < length else day - 2   # Sunday: the Monday after, or the Friday before at the end


def _split(text: str) -> tuple[list[str], list[int]]:
    if not isinstance(text, str):
        raise CronError("a cron expression is text")
    parts, columns = [], []
    for match in re.finditer(r"\S+", text):
        parts.append(match.group().upper())
        columns.append(match.start() + 1)
    if len(parts) != 6:
        raise CronError(f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), "
                        f"this one has {len(parts)}")
    return parts, columns


def _number(token: str, name: str) -> int:
    low, high, names = BOUNDS[name]
    if names and token in names:
        value = names.index(token) + low
    elif token.isdigit():
        value = int(token)
    else:
        allowed = f"a number {low}-{high}" + (f" or one of {names[0]}-{names[-1]}" if names else "")
        raise CronError(f"{token!r} is not {allowed}")
    if not low <= value <= high:
        raise CronError(f"{value} is out of range {low}-{high}")
    return value


def _dow(value: int) -> str:
    return str(value - 1)   # AWS's 1-7 (SUN-SAT) -> cronsim's 0-6


def _field(name: str, value: str) -> str:
    """Returns the cronsim text of one of the first five fields."""
    if value == "?":
        if name not in ("day-of-month", "day-of-week"):
            raise CronError("'?' is only for day-of-month or day-of-week")
        return "*"
    return ",".join(_term(name, term) for term in value.split(","))


def _term(name: str, term: str) -> str:
    low, high, _names = BOUNDS[name]
    if term == "":
        raise CronError("an empty item in a list")
    if term == "L" and name == "day-of-month":
        return "L"
    if term == "LW" and name == "day-of-month":
        return "LW"
    if name == "day-of-week":
        if term == "L":
            return _dow(7)   # the last day of the week: Saturday
        nth = _NTH.fullmatch(term)
        if nth:
            if not 1 <= int(nth["nth"]) <= 5:
                raise CronError(f"{term!r}: the week number after '#' is 1-5")
            return f"{_dow(_number(nth['day'], name))}#{nth['nth']}"
        last = _LAST_DOW.fullmatch(term)
        if last:
            return f"{_dow(_number(last['day'], name))}L"
    base, slash, step = term.partition("/")
    if slash:
        if not step.isdigit() or int(step) == 0:
            raise CronError(f"{term!r}: the step after '/' is a positive number")
    if base == "*":
        first, last = low, high
        text = "*"
    elif "-" in base:
        start, _, end = base.partition("-")
        first, last = _number(start, name), _number(end, name)
        if last < first:
            raise CronError(f"{term!r}: the range ends before it starts")
        text = f"{first}-{last}"
    else:
        first = _number(base, name)
        last = high if slash else first
        text = f"{first}-{last}" if slash else str(first)
    if name == "day-of-week":
        text = "*" if base == "*" else "-".join(_dow(int(v)) for v in text.split("-"))
    return f"{text}/{step}" if slash else text


def _years(value: str) -> frozenset[int] | None:
    if value in ("*", "?"):
        return None
    years: set[int] = set()
    low, high, _ = BOUNDS["year"]
    for term in value.split(","):
        base, slash, step = term.partition("/")
        if slash and (not step.isdigit() or int(step) == 0):
            raise CronError(f"{term!r}: the step after '/' is a positive number")
        if base == "*":
            first, last = low, high
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = _number(start, "year"), _number(end, "year")
            if last < first:
                raise CronError(f"{term!r}: the range ends before it starts")
        else:
            first = _number(base, "year")
            last = high if slash else first
        years.update(range(first, last + 1, int(step) if slash else 1))
    return frozenset(years)
