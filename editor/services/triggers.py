"""What invokes a function, as its page's overview draws it (trigger boxes beside the function).

Each event source is one row of TRIGGER_SOURCES: a callable taking the function and returning its
triggers of that kind, each a dict

    {"kind": "function-url", "title": "Function URL", "label": "$LATEST · NONE",
     "detail": "http://.../lambda-url/<id>/", "href": "http://.../lambda-url/<id>/"}

HTTP and WebSocket APIs are the second row (editor.services.http_apis.triggers_for: a WebSocket
API's box links to the WebSocket APIs page). Buckets and schedules add a row each (a callable in
their own module)
and the page shows them with no change of its own.
"""

from __future__ import annotations

from typing import Callable

from editor.models import Function
from editor.services import function_urls, http_apis

__all__ = ["TRIGGER_SOURCES", "triggers_of"]


def _function_urls(function: Function) -> list[dict]:
    return [{"kind": "function-url", "title": "Function URL",
             "label": f"{url.qualifier or '$LATEST'} · {url.auth_type}",
             "detail": function_urls.path_url(url.url_id), "href": function_urls.path_url(url.url_id)}
            for url in function_urls.list_urls(function)]


TRIGGER_SOURCES: list[Callable[[Function], list[dict]]] = [_function_urls, http_apis.triggers_for]


def triggers_of(function: Function) -> list[dict]:
    """Returns every trigger of the function, source by source in TRIGGER_SOURCES' order."""
    return [trigger for source in TRIGGER_SOURCES for trigger in source(function)]
