"""Timestamps as the States Language reads them: the one parser, for the validator (Wait's Timestamp,
Choice's Timestamp operators), Wait (Timestamp, TimestampPath, JSONata), Choice's comparisons and
IsTimestamp, and the history read back to resume a run.

ASL takes RFC 3339's profile of ISO 8601 with an uppercase T between date and time and an uppercase
Z or a numeric offset: `2024-08-18T17:33:00Z`, `2024-08-18T19:33:00.25+02:00`. Fractions of any
length are read to the microsecond. RFC 3339 allows a leap second (second 60); Python's clock, like
AWS's, has none, so `23:59:60` is read as the second that follows it, `00:00:00` of the next day:
the validator accepts it and every run waits until (and compares) that moment.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["parse_timestamp", "is_timestamp"]

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))")
_LEAP_SECOND = 60


def parse_timestamp(text) -> datetime | None:
    """Returns the (timezone-aware) moment `text` names, or None when it is not an ASL timestamp."""
    if not isinstance(text, str):
        return None
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    zone = timezone.utc
    if match.group(8):
        hours, minutes = int(match.group(9)), int(match.group(10))
        if hours > 23 or minutes > 59:
            return None
        sign = 1 if match.group(8) == "+" else -1
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    leap = second == _LEAP_SECOND
    try:
        moment = datetime(year, month, day, hour, minute, 59 if leap else second, micro, zone)
        return moment + timedelta(seconds=1) if leap else moment
    except (ValueError, OverflowError):
        return None


def is_timestamp(text) -> bool:
    """Returns whether `text` is an ASL timestamp (see the module's docstring)."""
    return parse_timestamp(text) is not None
