"""The JSON API of the Security credentials page: the person's AWS account and access keys.
The secret is in the answer to the POST that creates a key, and nowhere else, ever."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse

from editor.api import api, read_json
from editor.models import AccessKey
from editor.serializers import iso
from editor.services import access_keys
from editor.services.accounts import account_id


def key_json(key: AccessKey) -> dict:
    return {"id": key.access_key_id, "status": key.status, "created_at": iso(key.created_at),
            "last_used_at": iso(key.last_used_at), "last_used_service": key.last_used_service or None,
            "last_used_region": key.last_used_region or None}


@api("GET", "POST")
def access_key_list(request):
    if request.method == "POST":
        read_json(request)   # no settings: the body, if any, must still be a JSON object
        key, secret = access_keys.create_access_key(request.user)
        return JsonResponse({**key_json(key), "secret": secret}, status=201)
    number = account_id(request.user)
    return JsonResponse({"account_id": number, "arn": f"arn:aws:iam::{number}:root",
                         "limit": access_keys.KEYS_PER_USER,
                         "access_keys": [key_json(k) for k in access_keys.list_access_keys(request.user)]})


@api("PUT", "DELETE")
def access_key_detail(request, key_id):
    key = access_keys.get_access_key(request.user, key_id)
    if request.method == "DELETE":
        access_keys.delete_access_key(key)
        return HttpResponse(status=204)
    data = read_json(request)
    return JsonResponse(key_json(access_keys.set_status(key, data.get("status"))))
