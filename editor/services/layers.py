"""Lambda layers: publishing, listing and deleting a user's layer versions, and the layers a
function runs with (at most five, extracted under /opt in order). The only code that writes them.

A layer version is named by its ARN, `arn:aws:lambda:<region>:<account>:layer:<name>:<version>`.
Another user's layers are not found, whatever ARN is given. A deleted version disappears from
listings and lookups, and functions already listing it keep running with it (as on Lambda).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core import signing
from django.db import transaction

from editor.errors import ApiError, not_found
from editor.models import Function, Layer, LayerVersion
from editor.services.accounts import account_id, region, user_of_account

__all__ = ["layer_arn", "layer_name", "publish_layer_version", "list_layers", "list_layer_versions", "get_layer_version",
           "layer_version_for_arn", "delete_layer_version", "checked_layers", "opt_dir_for",
           "usage", "content_token", "layer_version_for_token"]

LAYER_NAME = re.compile(r"[a-zA-Z0-9_-]{1,140}")
LAYER_ARN = re.compile(r"arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9_-]{1,140}):(\d{1,9})")
LAYER_ARN_PREFIX = re.compile(r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:(\d{12}):layer:([a-zA-Z0-9_-]{1,140})")
MAX_LAYERS = 5
LINK_SECONDS = 600
_SALT = "flowbench.lambda.layer-location"


def layer_arn(user, name: str, version: int | None = None) -> str:
    """Returns the ARN of `user`'s layer `name`, or of one of its versions."""
    arn = f"arn:aws:lambda:{region()}:{account_id(user)}:layer:{name}"
    return arn if version is None else f"{arn}:{version}"


def layer_name(user, given, field: str = "LayerName") -> str:
    """Returns the layer's name from a name or the ARN of one of `user`'s layers; refuses others."""
    if not isinstance(given, str):
        raise ApiError("InvalidParameterValue", "LayerName must be a string.", field=field)
    if LAYER_NAME.fullmatch(given):
        return given
    match = LAYER_ARN_PREFIX.fullmatch(given)
    if match is None:
        raise ApiError("InvalidParameterValue", f"1 validation error detected: Value '{given}' at '{field}' failed "
                       "to satisfy constraint: Member must satisfy regular expression pattern: "
                       "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+",
                       field=field)
    if match.group(1) != account_id(user):
        raise not_found("Layer")
    return match.group(2)


def _strings(value, field: str, limit: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > limit:
        raise ApiError("InvalidParameterValue", f"{field} must be a list of at most {limit} strings.", field=field)
    return list(value)


def publish_layer_version(user, name, data: bytes, *, description="", compatible_runtimes=None,
                          compatible_architectures=None, license_info="") -> LayerVersion:
    """Stores the zip `data` as the next version of `user`'s layer `name` (made on first use)
    and returns it; refuses a bad zip naming the entry, and stores nothing then."""
    from runtime.functions.layers import ZIPPED_LIMIT, InvalidLayerZip, check_layer_zip

    name = layer_name(user, name)
    if not isinstance(description, str) or len(description) > 256:
        raise ApiError("InvalidParameterValue", "Description must be at most 256 characters.", field="Description")
    if not isinstance(license_info, str) or len(license_info) > 512:
        raise ApiError("InvalidParameterValue", "LicenseInfo must be at most 512 characters.", field="LicenseInfo")
    runtimes = _strings(compatible_runtimes, "CompatibleRuntimes", 15)
    architectures = _strings(compatible_architectures, "CompatibleArchitectures", 2)
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ApiError("InvalidParameterValue", "Content.ZipFile is required: the layer's zip.", field="Content")
    if len(data) > ZIPPED_LIMIT:
        raise ApiError("RequestTooLarge", f"Zipped size must be smaller than {ZIPPED_LIMIT} bytes.", status=413,
                       field="Content")
    try:
        sha256, _ = check_layer_zip(bytes(data))
    except InvalidLayerZip as refused:
        raise ApiError("InvalidParameterValue", str(refused), field="Content") from None
    with transaction.atomic():
        layer, _ = Layer.objects.get_or_create(owner=user, name=name)
        layer = Layer.objects.select_for_update().get(pk=layer.pk)
        version = LayerVersion.objects.create(
            layer=layer, version=layer.next_version, description=description, license_info=license_info,
            compatible_runtimes=runtimes, compatible_architectures=architectures, content=bytes(data),
            code_sha256=sha256, code_size=len(data))
        layer.next_version += 1
        layer.save(update_fields=["next_version"])
    return version


def _visible(user):
    return LayerVersion.objects.filter(layer__owner=user, deleted=False).select_related("layer")


def _matching(versions, runtime=None, architecture=None):
    return [v for v in versions if (not runtime or runtime in v.compatible_runtimes)
            and (not architecture or architecture in v.compatible_architectures)]


def list_layers(user, runtime: str | None = None, architecture: str | None = None) -> list[LayerVersion]:
    """Returns the latest visible version of each of `user`'s layers that matches the filters."""
    latest: dict[str, LayerVersion] = {}
    for version in _matching(_visible(user).order_by("layer__name", "-version"), runtime, architecture):
        latest.setdefault(version.layer.name, version)
    return list(latest.values())


def list_layer_versions(user, name, runtime: str | None = None,
                        architecture: str | None = None) -> list[LayerVersion]:
    """Returns the visible versions of `user`'s layer `name`, newest first (none for an unknown
    name, as Lambda answers)."""
    name = layer_name(user, name)
    return _matching(_visible(user).filter(layer__name=name).order_by("-version"), runtime, architecture)


def get_layer_version(user, name, number) -> LayerVersion:
    """Returns version `number` of `user`'s layer `name`, or 404."""
    name = layer_name(user, name)
    try:
        return _visible(user).get(layer__name=name, version=int(number))
    except (LayerVersion.DoesNotExist, ValueError, TypeError):
        raise not_found("Layer version") from None


def layer_version_for_arn(user, arn, *, field: str = "Arn", deleted_too: bool = False) -> LayerVersion:
    """Returns `user`'s layer version named by `arn`; 404 for another account's or a missing one
    (a deleted one too, unless `deleted_too`: functions keep running with theirs)."""
    match = LAYER_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        raise ApiError("InvalidParameterValue", f"{arn!r} is not a layer version ARN "
                       "(arn:aws:lambda:<region>:<account>:layer:<name>:<version>).", field=field)
    if user_of_account(match.group(2)) != user:
        raise not_found("Layer version")
    versions = LayerVersion.objects.filter(layer__owner=user).select_related("layer")
    if not deleted_too:
        versions = versions.filter(deleted=False)
    try:
        return versions.get(layer__name=match.group(3), version=int(match.group(4)))
    except LayerVersion.DoesNotExist:
        raise not_found("Layer version") from None


@transaction.atomic
def delete_layer_version(user, name, number) -> None:
    """Deletes a version of `user`'s layer (nothing when there is none, as Lambda does); functions
    that list it keep running with it."""
    name = layer_name(user, name)
    _visible(user).filter(layer__name=name, version=number).update(deleted=True)


def checked_layers(user, value, field: str = "Layers") -> list[str]:
    """Returns the layer version ARNs a function of `user` may list: at most five, each an existing
    version of the user's, no layer twice."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError("InvalidParameterValue", "Layers must be a list of layer version ARNs.", field=field)
    if len(value) > MAX_LAYERS:
        raise ApiError("InvalidParameterValue", f"A function can list at most {MAX_LAYERS} layers.", field=field)
    names = set()
    for i, arn in enumerate(value):
        version = layer_version_for_arn(user, arn, field=f"{field}/{i}")
        if version.layer.name in names:
            raise ApiError("InvalidParameterValue", "Two different versions of the same layer are not allowed: "
                           f"{version.layer.name}.", field=f"{field}/{i}")
        names.add(version.layer.name)
    return list(value)


def opt_dir_for(user, arns: list[str]) -> str:
    """Returns the directory of the layers `arns` merged as /opt holds them ("" for none); the
    merge is made once per ordered list, in the packages folder."""
    if not arns:
        return ""
    from runtime.functions.layers import opt_dir

    found = [layer_version_for_arn(user, arn, deleted_too=True) for arn in arns]
    return opt_dir(str(settings.FLOWBENCH_PACKAGES_DIR),
                   [(v.code_sha256, (lambda v=v: bytes(v.content))) for v in found])


def usage(user) -> dict[str, set]:
    """Returns {layer version ARN: names of `user`'s functions whose draft or deployed version
    lists it}."""
    used: dict[str, set] = {}
    for function in Function.objects.filter(owner=user).select_related("deployed"):
        for arn in {*function.layers, *(function.deployed.layers if function.deployed else ())}:
            used.setdefault(arn, set()).add(function.name)
    return used


def content_token(version: LayerVersion) -> str:
    """Returns the signed token of a link that downloads `version`'s zip for ten minutes
    (GetLayerVersion's Content.Location)."""
    return signing.dumps({"layer_version": version.pk}, salt=_SALT, compress=True)


def layer_version_for_token(token: str) -> LayerVersion | None:
    """Returns the layer version a download token names, or None when it is forged or expired."""
    try:
        found = signing.loads(token, salt=_SALT, max_age=LINK_SECONDS)
    except signing.BadSignature:
        return None
    return LayerVersion.objects.filter(pk=found.get("layer_version"), deleted=False).first()
