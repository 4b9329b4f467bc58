"""The JSON API of Distributed Map runs, for the console's Map Run page: a run as DescribeMapRun
describes it (its ARN, the parent execution and Map state, MaxConcurrency, tolerated failures,
item counts) with one page of its child executions, in item order, filterable by status. The page
polls it while the run is RUNNING, and its Edit changes a running run's MaxConcurrency and tolerated
failures as UpdateMapRun does (PATCH)."""

from __future__ import annotations

from django.http import JsonResponse

from editor.api import api, read_json
from editor.api_machines import STATUSES
from editor.errors import ApiError
from editor.models import MapRun
from editor.serializers import iso
from editor.services import map_runs, validation


def map_run_summary(run: MapRun, counts: dict) -> dict:
    """Returns what the parent execution's page shows of one of its runs (a link with its counts)."""
    return {"id": str(run.id), "label": run.label, "state": run.state_name, "status": run.status,
            "started_at": iso(run.started_at), "stopped_at": iso(run.stopped_at), "counts": counts}


def _child_json(child) -> dict:
    return {"id": str(child.id), "name": child.name, "index": child.map_index, "status": child.status,
            "started_at": iso(child.started_at), "stopped_at": iso(child.stopped_at)}


def _page_number(text: str | None) -> int:
    if text is None:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise ApiError("InvalidType", "page is a page number (1 is the first).", field="page")
    return int(text)


# What PATCH may change. A run's MaxConcurrency goes up to AWS's 10,000 children at once (what a
# run without one runs); the tolerated count is stored in a PositiveIntegerField, whose range is
# the same on every database up to 2**31 - 1.
SETTINGS = ("max_concurrency", "tolerated_failure_count", "tolerated_failure_percentage")
MAX_CONCURRENCY = map_runs.DEFAULT_CONCURRENCY
MAX_TOLERATED_COUNT = map_runs.COUNT_CEILING


def _settings(data: dict) -> dict:
    """Returns map_runs.update's keywords for a PATCH body, every field checked before any is used."""
    unknown = set(data) - set(SETTINGS)
    if unknown:
        field = sorted(unknown)[0]
        raise ApiError("UnknownField", f"{field} is not a setting of a Map Run.", field=field)
    if not data:
        raise ApiError("Required", f"Give at least one of {', '.join(SETTINGS)}.", field=SETTINGS[0])
    checked = {}
    if "max_concurrency" in data:
        checked["max_concurrency"] = validation.integer(data["max_concurrency"], "max_concurrency",
                                                        0, MAX_CONCURRENCY)
    if "tolerated_failure_count" in data:
        checked["tolerated_count"] = validation.integer(data["tolerated_failure_count"], "tolerated_failure_count",
                                                        0, MAX_TOLERATED_COUNT)
    if "tolerated_failure_percentage" in data:
        checked["tolerated_percentage"] = validation.number(data["tolerated_failure_percentage"],
                                                            "tolerated_failure_percentage", 0, 100)
    return checked


def _children_query(request) -> tuple[str | None, int]:
    """Returns the status (or None) and the page of children that ?status= and ?page= ask for."""
    status = request.GET.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError("InvalidStatus", f"status is one of {', '.join(sorted(STATUSES))}.", field="status")
    return status, _page_number(request.GET.get("page"))


def _run_json(run: MapRun, status: str | None, page: int) -> dict:
    children, matching = map_runs.children_page(run, status, page)
    parent = run.execution
    return {
        **map_run_summary(run, map_runs.item_counts([run])[run.pk]),
        "arn": run.arn,
        "error": run.error, "cause": run.cause, "max_concurrency": run.max_concurrency,
        "tolerated_failure_count": run.tolerated_failure_count,
        "tolerated_failure_percentage": run.tolerated_failure_percentage,
        "execution": {"id": str(parent.id), "name": parent.name, "machine": parent.machine.name,
                      "status": parent.status},
        "children": [_child_json(child) for child in children],
        "page": page, "pages": max(1, -(-matching // map_runs.PAGE_SIZE)), "matching": matching,
        "page_size": map_runs.PAGE_SIZE,
    }


@api("GET", "PATCH")
def map_run_detail(request, execution_id, map_run_id):
    """GET ?status=<an execution status>&page=<n>: the run, its item counts and page n of its
    children (those with that status only, when given).

    PATCH {max_concurrency?, tolerated_failure_count?, tolerated_failure_percentage?}: the console's
    Edit of a running run (UpdateMapRun); 409 MapRunEnded once it ended. It answers as GET does,
    with the run read again: the update advanced it (more children, or a failure now past its
    tolerance)."""
    run = map_runs.get_run(request.user, execution_id, map_run_id)   # 404 before the body is read
    status, page = _children_query(request)
    if request.method == "PATCH":
        map_runs.update(run.pk, **_settings(read_json(request)))
        run = map_runs.get_run(request.user, execution_id, map_run_id)
    return JsonResponse(_run_json(run, status, page))
