"""What invokes a function, as its page's overview draws it (trigger boxes beside the function).

Each event source is one row of TRIGGER_SOURCES: a callable taking the function and returning its
triggers of that kind, each a dict

    {"kind": "function-url", "title": "Function URL", "label": "$LATEST · NONE",
     "detail": "http://.../lambda-url/<id>/", "href": "http://.../lambda-url/<id>/"}

and optionally "lines" (more lines of text in the box) and "disabled" (why it no longer starts
anything: the box is drawn disabled, with the reason).

HTTP and WebSocket APIs are the second row (editor.services.http_apis.triggers_for: a WebSocket
API's box links to the WebSocket APIs page), bucket notifications the third (a box "S3" per
configuration: bucket, events, prefix and suffix, linking to the bucket's page) and schedules the
fourth (a box "EventBridge Scheduler": name, expression, state and next run, linking to the
Schedules page). The page shows each with no change of its own.

A state machine's page lists what starts it the same way (MACHINE_TRIGGER_SOURCES): HTTP APIs
whose routes start or stop its executions (a box per API, a line per route), bucket notifications
and schedules.
"""

from __future__ import annotations

from typing import Callable

from editor.models import Function, StateMachine
from editor.services import function_urls, http_apis, notifications, schedules

__all__ = ["TRIGGER_SOURCES", "MACHINE_TRIGGER_SOURCES", "triggers_of", "machine_triggers_of"]


def _function_urls(function: Function) -> list[dict]:
    return [{"kind": "function-url", "title": "Function URL",
             "label": f"{url.qualifier or '$LATEST'} · {url.auth_type}",
             "detail": function_urls.path_url(url.url_id), "href": function_urls.path_url(url.url_id)}
            for url in function_urls.list_urls(function)]


TRIGGER_SOURCES: list[Callable[[Function], list[dict]]] = [_function_urls, http_apis.triggers_for,
                                                           notifications.triggers_for, schedules.triggers_for]
MACHINE_TRIGGER_SOURCES: list[Callable[[StateMachine], list[dict]]] = [http_apis.machine_triggers,
                                                                       notifications.machine_triggers,
                                                                       schedules.machine_triggers]


def triggers_of(function: Function) -> list[dict]:
    """Returns every trigger of the function, source by source in TRIGGER_SOURCES' order."""
    return [trigger for source in TRIGGER_SOURCES for trigger in source(function)]


def machine_triggers_of(machine: StateMachine) -> list[dict]:
    """Returns what starts the state machine (bucket notifications, schedules), source by source."""
    return [trigger for source in MACHINE_TRIGGER_SOURCES for trigger in source(machine)]
