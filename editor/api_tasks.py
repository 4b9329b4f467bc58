"""The JSON API of task tokens and nested executions, for the execution page: the tokens an
execution waits on, the executions it started or was started by (a Distributed Map's children
only through their Map Run: a run may have thousands), and the answers (the same
editor.services.task_answers that SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat call)."""

from __future__ import annotations

from django.http import JsonResponse

from editor.api import api, read_json
from editor.api_map_runs import map_run_summary
from editor.errors import ApiError
from editor.models import Execution, TaskToken
from editor.serializers import iso
from editor.services import executions as runs
from editor.services import map_runs, task_answers, task_tokens


def token_json(token: TaskToken) -> dict:
    return {"token": token.token, "state": token.state_name, "entered_event_id": token.entered_event_id,
            "created_at": iso(token.created_at), "heartbeat_seconds": token.heartbeat_seconds,
            "heartbeat_deadline": iso(token.heartbeat_deadline), "timeout_deadline": iso(token.timeout_deadline)}


def _link(execution: Execution) -> dict:
    return {"id": str(execution.id), "name": execution.name, "machine": execution.machine.name,
            "status": execution.status}


def _parent_json(execution: Execution) -> dict | None:
    """The execution that started this one, with the state that did; a Map Run's child also names
    its run and its item's index."""
    parent = execution.parent
    if parent is None:
        return None
    run = execution.map_run
    return {**_link(parent), "state": execution.parent_state,
            "mapRun": None if run is None else {"id": str(run.id), "label": run.label, "index": execution.map_index}}


def callbacks_json(execution: Execution) -> dict:
    """Returns what the execution page shows of an execution's callbacks: the tokens it waits on,
    the execution that started it (with the Task that did), those its Tasks started and its
    Distributed Maps' runs (with their counts, in place of their children)."""
    children = execution.children.filter(map_run__isnull=True).select_related("machine").order_by("started_at")
    runs = list(execution.map_runs.described().order_by("started_at"))
    counts = map_runs.item_counts(runs)
    return {
        "waiting": [token_json(t) for t in task_tokens.waiting(execution)],
        "parent": _parent_json(execution),
        "children": [{**_link(child), "state": child.parent_state} for child in children],
        "mapRuns": [map_run_summary(run, counts[run.pk]) for run in runs],
    }


@api("GET")
def execution_callbacks(request, execution_id):
    execution = runs.get_execution(request.user, execution_id)
    return JsonResponse(callbacks_json(execution))


def _fields(data: dict, allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        field = sorted(unknown)[0]
        raise ApiError("UnknownField", f"{field} is not a field of this request.", field=field)
    if not isinstance(data.get("taskToken"), str):
        raise ApiError("InvalidToken", "taskToken is the token the task waits on.", field="taskToken")


@api("POST")
def send_success(request):
    data = read_json(request)
    _fields(data, {"taskToken", "output"})
    if "output" not in data:
        raise ApiError("InvalidOutput", "output is the task's result, as JSON text.", field="output")
    task_answers.send_success(request.user, data["taskToken"], data["output"])
    return JsonResponse({})


@api("POST")
def send_failure(request):
    data = read_json(request)
    _fields(data, {"taskToken", "error", "cause"})
    task_answers.send_failure(request.user, data["taskToken"], data.get("error"), data.get("cause"))
    return JsonResponse({})


@api("POST")
def send_heartbeat(request):
    data = read_json(request)
    _fields(data, {"taskToken"})
    task_answers.send_heartbeat(request.user, data["taskToken"])
    return JsonResponse({})
