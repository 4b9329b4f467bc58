"""Clocks for runs: the real one, and a fake one whose sleeps jump virtual time at once."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

__all__ = ["Clock", "FakeClock"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Clock:
    """Wall-clock time; `sleep` waits for real but wakes early when `cancel` is set."""

    _second = -1
    _prefix = ""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def timestamp(self) -> str:
        """Returns now as AWS's event timestamp text (UTC, milliseconds), e.g. 2024-01-01T00:00:00.000Z.

        Every history event carries one, so the text of the current second is kept."""
        moment = time.time()
        second = int(moment)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
            self._second = second
        return f"{self._prefix}{int((moment - second) * 1000):03d}Z"

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        """Waits `seconds`; returns False if `cancel` was set before the time was up."""
        if seconds <= 0:
            return not (cancel and cancel.is_set())
        if cancel is None:
            time.sleep(seconds)
            return True
        return not cancel.wait(seconds)


class FakeClock(Clock):
    """Virtual time: `sleep` advances it instantly, so Waits, Retry intervals and timeouts never
    hold a test. Starts at `start` (default 2024-01-01T00:00:00Z)."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2024, 1, 1, tzinfo=timezone.utc)
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def timestamp(self) -> str:
        moment = self.now()
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        with self._lock:
            self.slept.append(seconds)
            if seconds > 0:
                self._now += timedelta(seconds=seconds)
        return not (cancel and cancel.is_set())

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
