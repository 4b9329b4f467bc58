"""The JSON API of a function's triggers: the overview's trigger boxes and the Configuration tab's
Function URL panel (which, as Lambda's console does, opens a NONE URL to everyone by adding the
FunctionURLAllowPublicAccess statement to the function's policy)."""

from __future__ import annotations

from django.http import JsonResponse

from editor import services
from editor.api import api, read_json
from editor.models import FunctionUrl
from editor.services import function_permissions, function_urls
from editor.services.accounts import function_arn
from editor.services.triggers import triggers_of


def url_json(url: FunctionUrl) -> dict:
    function = url.function
    return {"url_id": url.url_id, "qualifier": url.qualifier or "$LATEST", "url": function_urls.path_url(url.url_id),
            "host_url": function_urls.host_url(url.url_id), "auth_type": url.auth_type, "cors": url.cors,
            "invoke_mode": url.invoke_mode, "function_arn": function_arn(function.owner_id, function.name,
                                                                         url.qualifier or None),
            "public": url.auth_type == "NONE" and function_permissions.allows_public_url(function, url.qualifier),
            "created_at": url.created_at.isoformat(), "updated_at": url.updated_at.isoformat()}


@api("GET")
def function_triggers(request, name):
    function = services.get_function(request.user, name)
    return JsonResponse({"triggers": triggers_of(function)})


@api("GET", "POST", "PUT", "DELETE")
def function_url(request, name):
    """GET the function's URL (null when it has none), POST creates it, PUT changes it, DELETE
    deletes it; `?qualifier=` names an alias ($LATEST by default)."""
    function = services.get_function(request.user, name)
    qualifier = request.GET.get("qualifier") or None
    if request.method == "GET":
        found = function.urls.filter(qualifier="" if qualifier in (None, "$LATEST") else qualifier).first()
        return JsonResponse({"url": url_json(found) if found else None})
    if request.method == "DELETE":
        function_urls.delete_url(function_urls.get_url(function, qualifier))
        return JsonResponse({"url": None})
    data = read_json(request)
    if request.method == "POST":
        url = function_urls.create_url(function, auth_type=data.get("auth_type"), qualifier=qualifier,
                                       cors=data.get("cors"), allow_public=True)
    else:
        url = function_urls.update_url(function_urls.get_url(function, qualifier), auth_type=data.get("auth_type"),
                                       cors=data.get("cors") if "cors" in data else None)
        if url.auth_type == "NONE":
            function_permissions.allow_public_url(function, url.qualifier)
    return JsonResponse({"url": url_json(url)}, status=201 if request.method == "POST" else 200)
