"""The Monitor tab's figures: invocations, errors and duration percentiles per time bucket."""

from __future__ import annotations

import math
from datetime import timedelta

from django.utils import timezone

from editor.errors import ApiError
from editor.models import Function

WINDOWS = {"1h": (3600, 30), "3h": (3 * 3600, 36), "24h": (86400, 48), "7d": (7 * 86400, 56)}


def percentile(values: list[float], p: float) -> float | None:
    """Returns the nearest-rank percentile `p` (0-100) of `values`, or None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def function_metrics(function: Function, window: str = "1h", now=None) -> dict:
    """Returns bucketed counts and percentiles for the window ending now."""
    if window not in WINDOWS:
        raise ApiError("InvalidWindow", f"window is one of {', '.join(WINDOWS)}.", field="window")
    seconds, count = WINDOWS[window]
    now = now or timezone.now()
    start = now - timedelta(seconds=seconds)
    step = seconds / count
    buckets = [{"start": (start + timedelta(seconds=i * step)).isoformat(), "invocations": 0, "errors": 0,
                "durations": []} for i in range(count)]
    rows = (function.invocations.filter(started_at__gte=start, started_at__lte=now)
            .values_list("started_at", "status", "duration_ms"))
    for started_at, status, duration in rows:
        index = min(count - 1, int((started_at - start).total_seconds() // step))
        bucket = buckets[index]
        bucket["invocations"] += 1
        if status == "failed":
            bucket["errors"] += 1
        if duration is not None:
            bucket["durations"].append(duration)
    for bucket in buckets:
        durations = bucket.pop("durations")
        bucket["p50_ms"] = percentile(durations, 50)
        bucket["p99_ms"] = percentile(durations, 99)
    return {"window": window, "start": start.isoformat(), "end": now.isoformat(), "step_seconds": step,
            "buckets": buckets}
