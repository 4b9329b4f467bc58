"""The cluster's figures for Prometheus, read from the database (and the broker) when scraped.

Every process of a cluster writes what it does to the shared database, so one web process can
answer for all of them: the figures survive restarts and need no exporter per worker. Counters
come from rows (executions by how they ended, invocations by source and outcome, the history's
highest event id); the queue depth is what waits for a thread, in the broker or in this process.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Max, Q, Sum
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from editor.models import Execution, ExecutionEvent, Invocation

__all__ = ["ClusterCollector", "DURATION_BUCKETS"]

# Invocation durations, in seconds (Lambda bills by the millisecond; functions time out at 900 s).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
THROTTLED = "TooManyRequestsException"


class ClusterCollector:
    """A prometheus_client collector of the whole cluster's figures (see the module docstring)."""

    def collect(self):
        yield from self._executions()
        yield from self._invocations()
        events = ExecutionEvent.objects.aggregate(last=Max("id"))["last"] or 0
        yield CounterMetricFamily("flowbench_history_events", "History events written (all executions).",
                                  value=events)
        yield GaugeMetricFamily("flowbench_queue_depth", "Executions dispatched and waiting for a thread to "
                                "run them (the broker's queue, or this process's pool).", value=_queue_depth())

    def _executions(self):
        by_status = dict(Execution.objects.values_list("status").annotate(n=Count("id")))
        started = CounterMetricFamily("flowbench_executions_started", "Executions started.",
                                      value=sum(by_status.values()))
        ended = CounterMetricFamily("flowbench_executions_ended", "Executions that ended, by status.",
                                    labels=["status"])
        for status in ENDED:
            ended.add_metric([status], by_status.get(status, 0))
        running = GaugeMetricFamily("flowbench_executions_running", "Executions running now (parked Waits too).",
                                    value=by_status.get("RUNNING", 0))
        taken = Execution.objects.aggregate(n=Sum("takeovers"))["n"] or 0
        resumed = CounterMetricFamily("flowbench_executions_resumed", "Times an execution was taken up by "
                                      "another process after the one running it died or stopped.", value=taken)
        return started, ended, running, resumed

    def _invocations(self):
        buckets = {f"le{bound}": Count("id", filter=Q(duration_ms__lte=bound * 1000)) for bound in DURATION_BUCKETS}
        rows = (Invocation.objects.values("source", "status")
                .annotate(n=Count("id"), seconds=Sum("duration_ms"), timed=Count("duration_ms"),
                          throttled=Count("id", filter=Q(error__errorType=THROTTLED)), **buckets))
        total = CounterMetricFamily("flowbench_invocations", "Function invocations, by source (test, state_machine, "
                                    "api, schedule, bucket) and outcome.", labels=["source", "status"])
        throttled = CounterMetricFamily("flowbench_invocations_throttled", "Invocations refused with "
                                        "TooManyRequestsException, by source.", labels=["source"])
        durations = HistogramMetricFamily("flowbench_invocation_duration_seconds", "How long functions ran.",
                                          labels=["source"])
        per_source: dict[str, dict] = {}
        for row in rows:
            total.add_metric([row["source"], row["status"]], row["n"])
            into = per_source.setdefault(row["source"], {"throttled": 0, "seconds": 0.0, "count": 0,
                                                         **{key: 0 for key in buckets}})
            into["throttled"] += row["throttled"]
            into["seconds"] += (row["seconds"] or 0) / 1000
            into["count"] += row["timed"]
            for key in buckets:
                into[key] += row[key]
        for source, figures in per_source.items():
            throttled.add_metric([source], figures["throttled"])
            cumulative = [(str(bound), figures[f"le{bound}"]) for bound in DURATION_BUCKETS]
            durations.add_metric([source], cumulative + [("+Inf", figures["count"])], figures["seconds"])
        return total, throttled, durations


def _queue_depth() -> int:
    if settings.FLOWBENCH_EXECUTOR != "celery":
        from editor.services.executor import get_executor

        return get_executor().queued()
    import redis

    with redis.Redis.from_url(settings.FLOWBENCH_REDIS_URL, socket_timeout=5) as client:
        return client.llen(settings.CELERY_TASK_DEFAULT_QUEUE)
