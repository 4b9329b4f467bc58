"""The JSON API under /api/. Every page works through it; every refusal is an ApiError."""

from __future__ import annotations

import functools
import json

from django.db.models import OuterRef, Subquery
from django.http import HttpResponse, JsonResponse

from editor import services
from editor.errors import ApiError, error_response, not_found
from editor.models import Function, Invocation
from editor.serializers import (
    function_json, invocation_json, test_event_json, version_json,
)
from editor.services import code_archive, validation
from editor.services.invocations import parse_invocation_id
from editor.services.test_events import TEMPLATES


def api(*methods):
    """Wraps an endpoint: allowed methods, ApiError -> the error shape, a 405 in the same shape."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                return error_response(ApiError("MethodNotAllowed", f"{request.method} is not allowed here.",
                                               status=405), headers={"Allow": ", ".join(methods)})
            try:
                return view(request, *args, **kwargs)
            except ApiError as error:
                return error_response(error)
        return wrapper
    return decorate


def read_json(request, *, limit: int = validation.PAYLOAD_LIMIT_BYTES, expect=dict):
    """Returns the request's JSON body, refusing oversized, non-JSON or wrongly typed bodies."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > limit:
        raise ApiError("RequestTooLarge", f"The request body is limited to {limit // (1024 * 1024)} MB.",
                       status=413)
    body = request.body
    if len(body) > limit:
        raise ApiError("RequestTooLarge", f"The request body is limited to {limit // (1024 * 1024)} MB.",
                       status=413)
    if not body.strip():
        data = {} if expect is dict else None
    else:
        data = validation.json_text(body)
    if expect is not None and not isinstance(data, expect):
        raise ApiError("InvalidType", "The request body must be a JSON object.")
    return data


def _function_list(user) -> list[dict]:
    last = Invocation.objects.filter(function=OuterRef("pk")).order_by("-started_at")
    functions = (Function.objects.filter(owner=user).select_related("deployed")
                 .annotate(last_id=Subquery(last.values("id")[:1])))
    lasts = {i.id: i for i in Invocation.objects.filter(id__in=[f.last_id for f in functions if f.last_id])}
    return [function_json(f, last_invocation=lasts.get(f.last_id)) for f in functions]


@api("GET")
def runtimes(request):
    found = services.available_runtimes()
    for runtime in found:
        runtime["starting_points"] = services.starting_points(runtime["id"])
    return JsonResponse({"runtimes": found, "test_event_templates": list(TEMPLATES)})


@api("GET", "POST")
def functions(request):
    if request.method == "GET":
        return JsonResponse({"functions": _function_list(request.user)})
    data = read_json(request)
    function = services.create_function(
        request.user, name=data.get("name"), runtime=data.get("runtime"),
        starting_point=data.get("starting_point", "hello-world"), description=data.get("description", ""))
    return JsonResponse(function_json(function, full=True), status=201)


@api("GET", "DELETE")
def function_detail(request, name):
    function = services.get_function(request.user, name)
    if request.method == "DELETE":
        services.delete_function(function)
        return HttpResponse(status=204)
    return JsonResponse(function_json(function, full=True))


@api("PUT")
def function_code(request, name):
    function = services.get_function(request.user, name)
    data = read_json(request)
    if "files" not in data:
        raise ApiError("Required", "files is required.", field="files")
    services.save_code(function, data["files"])
    return JsonResponse(function_json(function, full=True))


@api("GET", "PUT")
def function_code_zip(request, name):
    """GET: the deployed version's code as a zip ("Download"). PUT: a zip (the body, as is) whose
    files replace the draft's ("Upload from .zip file"); Deploy then runs them."""
    function = services.get_function(request.user, name)
    if request.method == "GET":
        version = function.deployed
        if version is None:
            raise ApiError("NotDeployed", "Deploy the function first: the download is the deployed code.",
                           status=404)
        return HttpResponse(code_archive.pack_zip(version.files), content_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="{function.name}.zip"'})
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > code_archive.ZIPPED_LIMIT:
        raise ApiError("RequestTooLarge", f"Zipped size must be smaller than {code_archive.ZIPPED_LIMIT} bytes "
                       "(50 MB).", status=413, field="ZipFile")
    # Read past DATA_UPLOAD_MAX_MEMORY_SIZE (7 MB): a package may hold up to Lambda's 50 MB.
    services.upload_zip(function, request.read(code_archive.ZIPPED_LIMIT + 1))
    return JsonResponse(function_json(function, full=True))


@api("PUT")
def function_configuration(request, name):
    function = services.get_function(request.user, name)
    function = services.update_configuration(function, read_json(request))
    return JsonResponse(function_json(function, full=True))


@api("POST")
def function_deploy(request, name):
    """Deploys the draft: 200 with the version deployed, or 202 when its dependencies install in
    the background (the deploy socket says when that Deploy ends); 409 while one installs."""
    function = services.get_function(request.user, name)
    version, update = services.start_deploy(function)
    function = services.get_function(request.user, name)
    if update is not None:
        return JsonResponse({"function": function_json(function, full=True), "version": None}, status=202)
    return JsonResponse({"function": function_json(function, full=True), "version": version_json(version)})


@api("GET", "POST")
def function_versions(request, name):
    function = services.get_function(request.user, name)
    if request.method == "POST":
        data = read_json(request)
        version = services.publish_version(function, data.get("description", ""))
        return JsonResponse(version_json(version), status=201)
    versions = function.versions.filter(number__isnull=False).order_by("-number")
    latest = [version_json(function.deployed)] if function.deployed else []
    return JsonResponse({"versions": latest + [version_json(v) for v in versions]})


@api("GET")
def function_version(request, name, qualifier):
    function = services.get_function(request.user, name)
    return JsonResponse(version_json(services.get_version(function, qualifier), with_code=True))


@api("GET", "POST")
def test_events(request, name):
    function = services.get_function(request.user, name)
    if request.method == "POST":
        event = services.create_test_event(function, read_json(request))
        return JsonResponse(test_event_json(event), status=201)
    return JsonResponse({"test_events": [test_event_json(e) for e in function.test_events.all()],
                         "templates": TEMPLATES})


@api("PUT", "DELETE")
def test_event_detail(request, name, event_id):
    function = services.get_function(request.user, name)
    event = services.get_test_event(function, event_id)
    if request.method == "DELETE":
        services.delete_test_event(event)
        return HttpResponse(status=204)
    return JsonResponse(test_event_json(services.update_test_event(event, read_json(request))))


@api("POST")
def function_test(request, name):
    """Runs the deployed version with a saved test event (or an inline `event`); returns the result.

    Logs stream to /ws/functions/<name>/invocations/<invocation_id>/ while it runs.
    """
    function = services.get_function(request.user, name)
    data = read_json(request)
    invocation_id = parse_invocation_id(data.get("invocation_id"))
    if "test_event_id" in data:
        event = services.get_test_event(function, data["test_event_id"]).body
    elif "event" in data:
        event = data["event"]
    else:
        raise ApiError("Required", "Give test_event_id or event.", field="test_event_id")
    invocation = services.invoke_function(function, event, source=Invocation.Source.TEST,
                                          invocation_id=invocation_id)
    return JsonResponse(invocation_json(invocation))


@api("GET", "POST")
def function_invocations(request, name):
    """GET: recent invocations. POST: Lambda's synchronous Invoke of the deployed version (or
    ?Qualifier=<n>); the body is the event, the response is the function's payload."""
    function = services.get_function(request.user, name)
    if request.method == "GET":
        recent = function.invocations.all()[:50]
        return JsonResponse({"invocations": [invocation_json(i, full=False) for i in recent]})
    body = read_json(request, expect=None)
    version = services.get_version(function, request.GET.get("Qualifier", "$LATEST"))
    invocation = services.invoke_function(function, body, source=Invocation.Source.API, version=version)
    headers = {"X-Amz-Executed-Version": invocation.version_label, "X-Amz-Request-Id": invocation.request_id}
    error_type = (invocation.error or {}).get("errorType")
    if error_type in SERVICE_ERRORS:
        # Lambda itself refused (not the function): its status code and the error shape.
        status, code = SERVICE_ERRORS[error_type]
        return error_response(ApiError(code, invocation.error.get("errorMessage", ""), status=status))
    if invocation.error is not None:
        headers["X-Amz-Function-Error"] = "Unhandled"
        payload = invocation.error
    else:
        payload = invocation.response
    return HttpResponse(json.dumps(payload, ensure_ascii=False), status=200, headers=headers,
                        content_type="application/json")


# Refusals of the Lambda service (the runner raised instead of running): status and code.
SERVICE_ERRORS = {
    "TooManyRequestsException": (429, "TooManyRequestsException"),
    "InvalidRequestContentException": (400, "InvalidRequestContentException"),
    "InvalidRuntimeException": (502, "InvalidRuntimeException"),
    "ServiceException": (500, "ServiceException"),   # e.g. a Celery worker without a sandbox
}


@api("GET")
def invocation_detail(request, name, invocation_id):
    function = services.get_function(request.user, name)
    return JsonResponse(invocation_json(services.get_invocation(function, invocation_id)))


@api("GET")
def function_metrics(request, name):
    function = services.get_function(request.user, name)
    return JsonResponse(services.function_metrics(function, request.GET.get("window", "1h")))


def api_not_found(request, *args, **kwargs):
    return error_response(not_found("API endpoint"))
