"""The seed's chat (1.3): a WebSocket API whose $connect, $disconnect and sendmessage routes each
call their own Python function; the functions keep each room's connections in a bucket object and
send every message to the whole room with PostToConnection.

    client --ws--> flowbench-chat (stage production, route selection $request.body.action)
        $connect     -> chat-connect      rooms/<room>.json += the connection (name, room from ?name=&room=)
        sendmessage  -> chat-sendmessage  PostToConnection {name, text, at} to the room; Gone ones removed
        $disconnect  -> chat-disconnect   rooms/<room>.json -= the connection

The functions run as the role flowbench-chat-role (trusted by Lambda), which allows the objects of
the bucket they use and execute-api:ManageConnections on this API, nothing else. Bucket names are
one namespace for everyone, so the bucket is chat-rooms-<account id>.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.urls import reverse

from editor.samples.apps import SampleApp

HERE = Path(__file__).resolve().parent / "chat"
API_NAME = "flowbench-chat"
STAGE = "production"
ROLE = "flowbench-chat-role"
# route key -> (function name, handler module, what it does)
ROUTES = {
    "$connect": ("chat-connect", "connect", "Chat sample: $connect adds the connection to its room"),
    "$disconnect": ("chat-disconnect", "disconnect", "Chat sample: $disconnect removes the connection from its room"),
    "sendmessage": ("chat-sendmessage", "sendmessage", "Chat sample: sends a message to everyone in the room"),
}


def _read(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def bucket_name(user) -> str:
    from editor.services.accounts import account_id

    return f"chat-rooms-{account_id(user)}"


def chat_api(user):
    """Returns the user's chat WebSocket API, or None when they have not loaded the sample."""
    from editor.models import HttpApi

    return HttpApi.objects.filter(owner=user, name=API_NAME, protocol_type="WEBSOCKET").order_by("created_at").first()


def stage_url(user) -> str | None:
    """Returns the address a client connects to (the API's stage), or None without the sample."""
    from editor.services.websocket_apis import api_endpoint

    api = chat_api(user)
    if api is None or not api.stages.filter(name=STAGE).exists():
        return None
    return f"{api_endpoint(api)}/{STAGE}"


def role_policy(user, api_id: str) -> dict:
    from editor.services.accounts import account_id, region

    bucket = bucket_name(user)
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "RoomObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": [f"arn:aws:s3:::{bucket}/rooms/*", f"arn:aws:s3:::{bucket}/connections/*"]},
        {"Sid": "PostToTheRoom", "Effect": "Allow", "Action": "execute-api:ManageConnections",
         "Resource": f"arn:aws:execute-api:{region()}:{account_id(user)}:{api_id}/{STAGE}/*"}]}


def load(user) -> list[str]:
    """Creates the chat's bucket, WebSocket API (routes, integrations, stage), role and functions
    the user lacks; returns their names. All or nothing."""
    from editor.models import Bucket, Function, Role
    from editor.services import http_apis
    from editor.services.accounts import function_arn, region
    from editor.services.buckets import create_bucket
    from editor.services.functions import create_function_from_code
    from editor.services.samples import ensure_role

    created = []
    with transaction.atomic():
        bucket = bucket_name(user)
        if not Bucket.objects.filter(owner=user, name=bucket).exists():
            create_bucket(user, bucket, region())
            created.append(bucket)
        api = chat_api(user)
        new_api = api is None
        if new_api:
            api = http_apis.create_api(user, name=API_NAME, protocol_type="WEBSOCKET",
                                       route_selection_expression="$request.body.action",
                                       description="Chat sample: a room per ?room=, messages to everyone in it")
            created.append(API_NAME)
        if not Role.objects.filter(owner=user, name=ROLE).exists():
            created.append(ROLE)
        role = ensure_role(user, ROLE, trusted=["lambda"], policy=role_policy(user, api.api_id),
                           description="Lets the chat sample's functions keep rooms in their bucket and post to "
                                       "the chat's connections.")
        for function_name, module, description in ROUTES.values():
            if Function.objects.filter(owner=user, name=function_name).exists():
                continue
            create_function_from_code(
                user, name=function_name, runtime="python", handler=f"{module}.handler", role=role,
                files={"rooms.py": _read("rooms.py"), f"{module}.py": _read(f"{module}.py")},
                description=description, timeout=30, memory=128, env={"CHAT_BUCKET": bucket})
            created.append(function_name)
        if new_api:
            for route_key, (function_name, _module, _description) in ROUTES.items():
                integration = http_apis.create_integration(api, integration_type="AWS_PROXY",
                                                           integration_uri=function_arn(user, function_name))
                http_apis.create_route(api, route_key=route_key, target=f"integrations/{integration.integration_id}")
            http_apis.create_stage(api, name=STAGE, auto_deploy=True)
    return created


def resources(user) -> list[dict]:
    """The chat's things the user has, each {"kind", "name", "href"}."""
    from editor.models import Bucket, Function, Role

    found = []
    api = chat_api(user)
    if api is not None:
        found.append({"kind": "WebSocket API", "name": f"{api.name} ({api.api_id})",
                      "href": f"{reverse('websocket-api-list')}#{api.api_id}"})
    for function_name, _module, _description in ROUTES.values():
        if Function.objects.filter(owner=user, name=function_name).exists():
            found.append({"kind": "Function", "name": function_name, "href": reverse("function", args=[function_name])})
    if Role.objects.filter(owner=user, name=ROLE).exists():
        found.append({"kind": "Role", "name": ROLE, "href": reverse("role", args=[ROLE])})
    bucket = bucket_name(user)
    if Bucket.objects.filter(owner=user, name=bucket).exists():
        found.append({"kind": "Bucket", "name": bucket, "href": reverse("bucket", args=[bucket])})
    return found


APP = SampleApp(
    id="chat", title="Chat",
    summary="A chat room for browser tabs: a WebSocket API whose connect, message and disconnect routes each call "
            "a function; the room's connections live in a bucket object.",
    template="samples/chat.html", load=load, resources=resources)
