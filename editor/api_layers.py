"""The studio's JSON API for layers: list them with the functions using each version, upload a zip
as a new version (the request's body is the zip itself: up to 50 MB, too big for a JSON body), and
delete a version. Every call goes through editor.services.layers."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse

from editor.api import api
from editor.errors import ApiError
from editor.serializers import iso
from editor.services import layers


def _version_json(user, version, used: dict) -> dict:
    arn = layers.layer_arn(user, version.layer.name, version.version)
    return {"version": version.version, "arn": arn, "description": version.description,
            "compatible_runtimes": version.compatible_runtimes, "license_info": version.license_info,
            "code_size": version.code_size, "created_at": iso(version.created_at),
            "used_by": sorted(used.get(arn, ()))}


@api("GET")
def layer_list(request):
    used = layers.usage(request.user)
    found: dict[str, dict] = {}
    for latest in layers.list_layers(request.user):
        name = latest.layer.name
        found[name] = {"name": name, "arn": layers.layer_arn(request.user, name),
                       "versions": [_version_json(request.user, v, used)
                                    for v in layers.list_layer_versions(request.user, name)]}
    return JsonResponse({"layers": list(found.values())})


@api("POST")
def layer_versions(request, name):
    from runtime.functions.layers import ZIPPED_LIMIT

    data = request.read(ZIPPED_LIMIT + 1)
    if len(data) > ZIPPED_LIMIT:
        raise ApiError("RequestTooLarge", f"A layer's zip is limited to {ZIPPED_LIMIT // (1024 * 1024)} MB.",
                       status=413, field="zip")
    runtimes = [r.strip() for r in request.GET.get("compatible_runtimes", "").split(",") if r.strip()]
    try:
        version = layers.publish_layer_version(
            request.user, name, data, description=request.GET.get("description", ""),
            compatible_runtimes=runtimes, license_info=request.GET.get("license_info", ""))
    except ApiError as error:
        # The studio's form names its own fields.
        error.field = {"Content": "zip", "LayerName": "name", "Description": "description",
                       "CompatibleRuntimes": "compatible_runtimes", "LicenseInfo": "license_info"}.get(
                           error.field, error.field)
        raise
    return JsonResponse(_version_json(request.user, version, {}), status=201)


@api("DELETE")
def layer_version(request, name, version):
    layers.get_layer_version(request.user, name, version)   # 404 for none (of this user's)
    layers.delete_layer_version(request.user, name, version)
    return HttpResponse(status=204)
