"""The JSON API of Distributed Map runs, for the console's Map Run page: a run as DescribeMapRun
describes it (its ARN, the parent execution and Map state, MaxConcurrency, tolerated failures,
item counts) with one page of its child executions, in item order, filterable by status. The page
polls it while the run is RUNNING."""

from __future__ import annotations

from django.http import JsonResponse

from editor.api import api
from editor.api_machines import STATUSES
from editor.errors import ApiError
from editor.models import MapRun
from editor.services import map_runs


def _iso(value):
    return value.isoformat() if value else None


def map_run_summary(run: MapRun, counts: dict) -> dict:
    """Returns what the parent execution's page shows of one of its runs (a link with its counts)."""
    return {"id": str(run.id), "label": run.label, "state": run.state_name, "status": run.status,
            "started_at": _iso(run.started_at), "stopped_at": _iso(run.stopped_at), "counts": counts}


def _child_json(child) -> dict:
    return {"id": str(child.id), "name": child.name, "index": child.map_index, "status": child.status,
            "started_at": _iso(child.started_at), "stopped_at": _iso(child.stopped_at)}


def _page_number(text: str | None) -> int:
    if text is None:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise ApiError("InvalidType", "page is a page number (1 is the first).", field="page")
    return int(text)


@api("GET")
def map_run_detail(request, execution_id, map_run_id):
    """GET ?status=<an execution status>&page=<n>: the run, its item counts and page n of its
    children (those with that status only, when given)."""
    run = map_runs.get_run(request.user, execution_id, map_run_id)
    status = request.GET.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError("InvalidStatus", f"status is one of {', '.join(sorted(STATUSES))}.", field="status")
    page = _page_number(request.GET.get("page"))
    children, matching = map_runs.children_page(run, status, page)
    parent = run.execution
    return JsonResponse({
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
    })
