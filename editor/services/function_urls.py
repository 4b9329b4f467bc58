"""Function URLs (Lambda's FunctionUrlConfig): the only code that writes them.

A function has at most one URL for $LATEST and one per alias. Its address is on the studio's own,
in two forms that reach the same URL:

    path form   {FLOWBENCH_BASE_URL}/lambda-url/<url-id>/...      works without any DNS
    host form   http://<url-id>.lambda-url.<host>:<port>/...       as AWS's <url-id>.lambda-url.<region>.on.aws
                (<host> is the base URL's host, "localhost" when that is an IP address)

The Lambda API reports the path form as `FunctionUrl`; the function page shows both.
"""

from __future__ import annotations

import re
import secrets
import string

from django.db import IntegrityError, transaction

from editor.errors import ApiError
from editor.models import Function, FunctionAlias, FunctionUrl
from editor.services.addresses import host_form, path_form

__all__ = ["AUTH_TYPES", "PATH_PREFIX", "HOST_LABEL", "create_url", "update_url", "delete_url", "get_url",
           "list_urls", "find_url", "path_url", "host_url", "normalize_cors"]

AUTH_TYPES = ("NONE", "AWS_IAM")
INVOKE_MODES = ("BUFFERED",)
PATH_PREFIX = "/lambda-url/"
HOST_LABEL = ".lambda-url."
URL_ID = re.compile(r"^[a-z0-9]{32}$")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "*")
# Lambda's Cors members: list members with their most items and longest item.
_CORS_LISTS = {"AllowOrigins": (100, 253), "AllowHeaders": (100, 1024), "ExposeHeaders": (100, 1024),
               "AllowMethods": (6, 6)}
_ALPHABET = string.ascii_lowercase + string.digits


def _new_url_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(32))


def path_url(url_id: str) -> str:
    """Returns the URL's path form on FLOWBENCH_BASE_URL (ends with "/", as AWS's URLs do)."""
    return path_form(PATH_PREFIX, url_id) + "/"


def host_url(url_id: str) -> str:
    """Returns the URL's host form: <url-id>.lambda-url.<base host>, "localhost" for an IP."""
    return host_form(f"{url_id}{HOST_LABEL.rstrip('.')}") + "/"


def _qualifier(function: Function, qualifier: str | None) -> tuple[str, FunctionAlias | None]:
    """Returns ("" or the alias name, the alias) a Qualifier names: $LATEST or an alias."""
    if qualifier in (None, "", "$LATEST"):
        return "", None
    if qualifier.isdigit():
        raise ApiError("InvalidParameterValue", f"A function URL is for $LATEST or an alias, not a version "
                       f"({qualifier}): make an alias that points at it.", field="Qualifier")
    alias = function.aliases.filter(name=qualifier).first()
    if alias is None:
        raise ApiError("ResourceNotFound", f"Alias not found: {qualifier}", status=404, field="Qualifier")
    return alias.name, alias


def _auth_type(value) -> str:
    if value not in AUTH_TYPES:
        raise ApiError("InvalidParameterValue", f"AuthType must be NONE or AWS_IAM, not {value!r}.", field="AuthType")
    return value


def _invoke_mode(value) -> str:
    if value in (None, ""):
        return "BUFFERED"
    if value == "RESPONSE_STREAM":
        raise ApiError("InvalidParameterValue", "Flowbench answers function URLs whole (InvokeMode BUFFERED): "
                       "RESPONSE_STREAM is not supported.", field="InvokeMode")
    if value not in INVOKE_MODES:
        raise ApiError("InvalidParameterValue", f"InvokeMode must be BUFFERED, not {value!r}.", field="InvokeMode")
    return value


def normalize_cors(cors) -> dict:
    """Returns Lambda's Cors member checked (each problem named by its member), empty lists and
    unset members left out; {} means no CORS."""
    if cors in (None, ""):
        return {}
    if not isinstance(cors, dict):
        raise ApiError("InvalidParameterValue", "Cors must be an object.", field="Cors")
    found: dict = {}
    for name, (most, longest) in _CORS_LISTS.items():
        items = cors.get(name)
        if items in (None, []):
            continue
        if not isinstance(items, list) or not all(isinstance(i, str) and 0 < len(i) <= longest for i in items):
            raise ApiError("InvalidParameterValue", f"Cors.{name} must be a list of texts of 1 to {longest} "
                           "characters.", field=f"Cors/{name}")
        if len(items) > most:
            raise ApiError("InvalidParameterValue", f"Cors.{name} has at most {most} items.", field=f"Cors/{name}")
        if name == "AllowMethods":
            items = [i.upper() for i in items]
            wrong = [i for i in items if i not in METHODS]
            if wrong:
                raise ApiError("InvalidParameterValue", f"Cors.AllowMethods: {wrong[0]} is not an HTTP method "
                               f"({', '.join(METHODS)}).", field="Cors/AllowMethods")
        found[name] = items
    if cors.get("MaxAge") is not None:
        age = cors["MaxAge"]
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 86400:
            raise ApiError("InvalidParameterValue", "Cors.MaxAge is a number of seconds from 0 to 86400.",
                           field="Cors/MaxAge")
        found["MaxAge"] = age
    if cors.get("AllowCredentials") is not None:
        if not isinstance(cors["AllowCredentials"], bool):
            raise ApiError("InvalidParameterValue", "Cors.AllowCredentials is true or false.",
                           field="Cors/AllowCredentials")
        found["AllowCredentials"] = cors["AllowCredentials"]
    return found


def get_url(function: Function, qualifier: str | None = None) -> FunctionUrl:
    """Returns the function's URL for `qualifier` ($LATEST by default); 404 when it has none."""
    name, _alias = _qualifier(function, qualifier)
    found = function.urls.filter(qualifier=name).first()
    if found is None:
        raise ApiError("ResourceNotFound", "The resource you requested does not exist.", status=404)
    return found


def list_urls(function: Function) -> list[FunctionUrl]:
    return list(function.urls.order_by("qualifier"))


def find_url(url_id: str) -> FunctionUrl | None:
    """Returns the URL whose id is `url_id` with its function and alias, or None."""
    if not URL_ID.match(url_id or ""):
        return None
    return FunctionUrl.objects.select_related("function", "function__owner", "alias__version").filter(
        url_id=url_id).first()


@transaction.atomic
def create_url(function: Function, *, auth_type, qualifier: str | None = None, cors=None,
               invoke_mode=None, allow_public: bool = False) -> FunctionUrl:
    """Creates the function's URL for `qualifier`; refuses a second one. `allow_public` (what
    the studio's panel asks for a NONE URL, as Lambda's console does) also adds the statement
    letting everyone call lambda:InvokeFunctionUrl to the function's resource-based policy."""
    name, alias = _qualifier(function, qualifier)
    fields = {"auth_type": _auth_type(auth_type), "cors": normalize_cors(cors), "invoke_mode": _invoke_mode(invoke_mode)}
    if function.urls.filter(qualifier=name).exists():
        raise ApiError("ResourceConflict", "Failed to create function url config: a FunctionUrlConfig exists for "
                       "this function and qualifier.", status=409)
    try:
        with transaction.atomic():
            url = FunctionUrl.objects.create(function=function, qualifier=name, alias=alias, url_id=_new_url_id(),
                                             **fields)
    except IntegrityError:   # made by a concurrent request meanwhile (an id of 32 random characters never clashes)
        raise ApiError("ResourceConflict", "A FunctionUrlConfig exists for this function and qualifier.",
                       status=409) from None
    if allow_public and url.auth_type == "NONE":
        from editor.services.function_permissions import allow_public_url

        allow_public_url(function, name)
    return url


@transaction.atomic
def update_url(url: FunctionUrl, *, auth_type=None, cors=None, invoke_mode=None) -> FunctionUrl:
    """Changes what is given of the URL's auth type, CORS and invoke mode (its address stays)."""
    url = FunctionUrl.objects.select_for_update().get(pk=url.pk)
    if auth_type is not None:
        url.auth_type = _auth_type(auth_type)
    if cors is not None:
        url.cors = normalize_cors(cors)
    if invoke_mode is not None:
        url.invoke_mode = _invoke_mode(invoke_mode)
    url.save()
    return url


@transaction.atomic
def delete_url(url: FunctionUrl) -> None:
    """Deletes the URL: its address answers 404 from now on."""
    FunctionUrl.objects.filter(pk=url.pk).delete()
