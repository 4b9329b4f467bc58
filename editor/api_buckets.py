"""The studio's JSON API for buckets: the Buckets page lists, creates and deletes buckets, browses a
bucket by prefix, uploads an object (the request's body is the object itself), downloads, previews
and deletes objects, and shows the bucket's notifications with their last deliveries. Every call
goes through the same services as S3's API (editor.services.buckets, objects, notifications).
"""

from __future__ import annotations

from urllib.parse import quote

from django.db import transaction
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse

from editor.api import api, read_json
from editor.aws.http import streamed
from editor.errors import ApiError
from editor.serializers import iso
from editor.services import buckets, notifications, objects
from editor.services.accounts import region
from editor.services.object_store import read_blob

PAGE = 200
DELIVERIES_SHOWN = 20
# Shown in the page as they are; anything else is downloaded (an HTML or SVG object shown on the
# studio's own address could run script there).
PREVIEWED = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp")
TEXT_PREVIEW_BYTES = 64 * 1024


def _object_json(found) -> dict:
    return {"key": found.key, "size": found.size, "etag": found.etag.strip('"'), "content_type": found.content_type,
            "metadata": found.metadata, "last_modified": iso(found.last_modified)}


@api("GET", "POST")
def bucket_list(request):
    if request.method == "POST":
        name = read_json(request).get("name")
        if not isinstance(name, str):
            raise ApiError("InvalidBucketName", "Name the bucket.", field="name")
        try:
            bucket = buckets.create_bucket(request.user, name, region())
        except ApiError as error:
            error.field = "name"
            raise
        return JsonResponse({"name": bucket.name, "region": bucket.region, "created_at": iso(bucket.created_at),
                             "objects": 0, "size": 0}, status=201)
    rows = buckets.list_buckets_with_totals(request.user)
    return JsonResponse({"buckets": [{"name": b.name, "region": b.region, "created_at": iso(b.created_at),
                                      "objects": b.object_count, "size": b.total_size or 0,
                                      "notifications": len(b.notifications)} for b in rows]})


@api("DELETE")
def bucket_detail(request, name):
    buckets.delete_bucket(request.user, name)
    return HttpResponse(status=204)


@api("GET")
def bucket_objects(request, name):
    bucket = buckets.owned_bucket(request.user, name)
    listing = buckets.list_objects(bucket, prefix=request.GET.get("prefix", ""), delimiter="/",
                                   after=request.GET.get("after", ""), limit=PAGE)
    return JsonResponse({"bucket": bucket.name, "prefix": request.GET.get("prefix", ""),
                         "prefixes": listing.prefixes, "objects": [_object_json(o) for o in listing.objects],
                         "truncated": listing.truncated, "next": listing.last if listing.truncated else None})


@api("GET", "PUT", "DELETE")
def bucket_object(request, name, key):
    bucket = buckets.owned_bucket(request.user, name)
    if request.method == "PUT":
        # read a piece at a time: put_object refuses past the object limits (EntityTooLarge)
        found = objects.put_object(bucket, key, iter(lambda: request.read(1024 * 1024), b""),
                                   content_type=request.content_type or None)
        return JsonResponse(_object_json(found), status=201)
    if request.method == "DELETE":
        objects.delete_object(bucket, key)
        return HttpResponse(status=204)
    found = objects.find_object(bucket, key)
    return _download(found, inline=request.GET.get("inline") == "1")


def _download(found, *, inline: bool) -> StreamingHttpResponse:
    """The object's bytes: shown in the page when it is an image or text (text as plain text, its
    first 64 kB), downloaded otherwise."""
    is_text = found.content_type.startswith("text/") or found.content_type in ("application/json",)
    if inline and is_text:
        response = StreamingHttpResponse(streamed(read_blob(found.blob, 0, min(found.size, TEXT_PREVIEW_BYTES))),
                                         content_type="text/plain; charset=utf-8")
    elif inline and found.content_type in PREVIEWED:
        response = StreamingHttpResponse(streamed(read_blob(found.blob)), content_type=found.content_type)
        response["Content-Length"] = str(found.size)
    else:
        response = StreamingHttpResponse(streamed(read_blob(found.blob)), content_type="application/octet-stream")
        response["Content-Length"] = str(found.size)
        filename = found.key.rsplit("/", 1)[-1] or "object"
        response["Content-Disposition"] = "attachment; filename*=UTF-8''" + quote(filename, safe="")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["ETag"] = found.etag
    return response


@api("GET", "PUT")
def bucket_notifications(request, name):
    """GET: the bucket's notifications (a disabled one with "Disabled": {"Reason", "At"}) and last
    deliveries. PUT {"functions": [{"LambdaFunctionArn" (or a name), "Events", "Filter"}]}: the
    functions its changes invoke (each function's policy gets the statement letting S3 invoke it
    when it lacks one, as the S3 console adds it); {"state_machines": [{"StateMachineArn" (or a
    name), "Events", "Filter"}]}: the state machines its changes start. Either or both, in one
    transaction."""
    bucket = buckets.owned_bucket(request.user, name)
    if request.method == "PUT":
        data = read_json(request)
        if not isinstance(data, dict) or not ({"functions", "state_machines"} & set(data)):
            raise ApiError("InvalidType", "Send functions or state_machines: a list of configurations.",
                           field="state_machines")
        lists = {}
        for field in ("functions", "state_machines"):
            if field in data:
                configurations = data[field]
                if not isinstance(configurations, list) or not all(isinstance(c, dict) for c in configurations):
                    raise ApiError("InvalidType", f"{field} is a list of configurations.", field=field)
                lists[field] = configurations
        with transaction.atomic():
            if "functions" in lists:
                _set(notifications.set_notifications, bucket, lists["functions"], "functions", grant=True)
            if "state_machines" in lists:
                _set(notifications.set_machine_notifications, bucket, lists["state_machines"], "state_machines")
    deliveries = bucket.deliveries.select_related("invocation__function", "execution")[:DELIVERIES_SHOWN]
    return JsonResponse({"configurations": bucket.notifications, "state_machines": bucket.machine_notifications,
                         "deliveries": [_delivery_json(d) for d in deliveries]})


def _set(setter, bucket, configurations, field: str, **options) -> None:
    """Calls `setter`, its refusal's field said as a JSON pointer into the request (/functions/0/Events)."""
    try:
        setter(bucket, configurations, **options)
    except ApiError as error:
        where = error.field or ""
        if where.startswith("/LambdaFunctionConfigurations"):
            where = where[len("/LambdaFunctionConfigurations"):]
        error.field = f"/{field}{where}"
        raise


def _delivery_json(delivery) -> dict:
    found = {"event_name": delivery.event_name, "key": delivery.key, "target_arn": delivery.target_arn,
             "configuration_id": delivery.configuration_id, "created_at": iso(delivery.created_at),
             "error": delivery.error, "status": "not started", "invocation_id": None, "function": None,
             "execution_id": None}
    if delivery.invocation is not None:
        found.update(status=delivery.invocation.status, invocation_id=str(delivery.invocation_id),
                     function=delivery.invocation.function.name)
    elif delivery.execution is not None:
        found.update(status=delivery.execution.status, execution_id=str(delivery.execution_id))
    return found
