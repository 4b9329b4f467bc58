"""What operators and their tools read: health checks (django-health-check) and Prometheus
metrics (prometheus-client). No sign-in: load balancers and scrapers call them; they tell counts
and whether services answer, nothing of anyone's functions or executions."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from health_check.views import HealthCheckView
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from editor.services.telemetry import ClusterCollector


def _redis():
    from redis.asyncio import Redis

    return ("health_check.contrib.redis.Redis",
            {"client_factory": lambda: Redis.from_url(settings.FLOWBENCH_REDIS_URL, socket_timeout=5)})


def _this_process_checks() -> list:
    """What a web process needs to serve: the database, and Redis when it is the channel layer."""
    checks = ["health_check.checks.Database"]
    if settings.FLOWBENCH_REDIS_URL:
        checks.append(_redis())
    return checks


def _worker_checks() -> list:
    """The workers: at least one answers Celery's ping (embedded mode: this process runs them)."""
    checks = _this_process_checks()
    if settings.FLOWBENCH_EXECUTOR == "celery":
        checks.append(("health_check.contrib.celery.Ping", {"timeout": timedelta(seconds=2)}))
    return checks


# /health/: for a load balancer in front of web processes (200, or 500 naming what failed).
health = login_not_required(HealthCheckView.as_view(checks=_this_process_checks()))
# /health/workers: whether any worker is alive to run executions.
workers_health = login_not_required(HealthCheckView.as_view(checks=_worker_checks()))

_registry = CollectorRegistry()   # collected on each scrape, never at import
_registry.register(ClusterCollector())


@login_not_required
def metrics(request):
    """The cluster's figures in Prometheus' text format (editor.services.telemetry)."""
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
