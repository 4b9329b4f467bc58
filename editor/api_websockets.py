"""The JSON API of the WebSocket APIs page: each of the user's WebSocket APIs with its stages'
addresses, its routes and the functions they call, its live connections and the messages of its
last minutes (the page asks again every few seconds)."""

from __future__ import annotations

from django.http import JsonResponse

from editor.api import api
from editor.models import Function, HttpApi
from editor.services import http_apis, websocket_apis


def _route_json(api_obj: HttpApi, route) -> dict:
    integration = api_obj.integrations.filter(integration_id=route.target.split("/", 1)[1]).first() \
        if route.target else None
    ref = http_apis.integration_function(integration) if integration is not None else None
    missing = None
    if ref and not Function.objects.filter(owner=api_obj.owner, name=ref.name).exists():
        missing = (f"The function {ref.name} does not exist (deleted?): this route answers "
                   "\"Internal server error\" until it exists again.")
    return {"route_id": route.route_id, "route_key": route.route_key, "function": ref.name if ref else None,
            "missing": missing, "two_way": websocket_apis.is_two_way(route)}


def api_json(api_obj: HttpApi) -> dict:
    endpoint = websocket_apis.api_endpoint(api_obj)
    return {
        "api_id": api_obj.api_id, "name": api_obj.name, "endpoint": endpoint,
        "route_selection_expression": api_obj.route_selection_expression,
        "stages": [{"name": s.name, "url": f"{endpoint}/{s.name}"} for s in api_obj.stages.order_by("name")],
        "routes": [_route_json(api_obj, r) for r in api_obj.routes.order_by("route_key")],
        "connections": [{"connection_id": c.connection_id, "stage": c.stage, "source_ip": c.source_ip,
                         "user_agent": c.user_agent, "connected_at": c.connected_at.isoformat(),
                         "last_active_at": c.last_active_at.isoformat()}
                        for c in websocket_apis.list_connections(api_obj)],
        "messages": [{"at": m.at.isoformat(), "direction": m.direction, "connection_id": m.connection_id,
                      "route_key": m.route_key, "size": m.size, "excerpt": m.excerpt}
                     for m in websocket_apis.recent_messages(api_obj)],
    }


@api("GET")
def websocket_api_list(request):
    apis = HttpApi.objects.filter(owner=request.user, protocol_type="WEBSOCKET").order_by("name", "api_id")
    return JsonResponse({"apis": [api_json(a) for a in apis]})
