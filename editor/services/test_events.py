"""Saved test events: create, rename/edit, delete. Templates a new event can start from.

An event is changed only through its own id: a name that another event has is refused (409),
never taken over, so saving one event can never replace another.
"""

from __future__ import annotations

import json

from django.db import IntegrityError, transaction

from editor.errors import ApiError
from editor.models import Function, TestEvent
from editor.services import validation

EVENT_LIMIT_BYTES = validation.PAYLOAD_LIMIT_BYTES

TEMPLATES = {
    "hello-world": {"key1": "value1", "key2": "value2", "key3": "value3"},
    "s3-put": {"Records": [{
        "eventVersion": "2.0", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "1970-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "EXAMPLE123456789",
                             "x-amz-id-2": "EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "testConfigRule",
               "bucket": {"name": "photos", "ownerIdentity": {"principalId": "EXAMPLE"},
                          "arn": "arn:aws:s3:::photos"},
               "object": {"key": "uploads/team-photo.jpg", "size": 1024,
                          "eTag": "0123456789abcdef0123456789abcdef", "sequencer": "0A1B2C3D4E5F678901"}},
    }]},
    "apigateway-http": {
        "version": "2.0", "routeKey": "POST /chat/message", "rawPath": "/chat/message", "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "api.example.test"},
        "requestContext": {"http": {"method": "POST", "path": "/chat/message", "protocol": "HTTP/1.1",
                                    "sourceIp": "127.0.0.1", "userAgent": "flowbench"},
                           "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "stage": "$default"},
        "body": "{\"room\": \"lobby\", \"text\": \"hello\"}", "isBase64Encoded": False,
    },
}


def _body(value, field="body"):
    if isinstance(value, str):
        raise ApiError("InvalidType", "body must be a JSON value, not JSON text in a string.", field=field)
    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    if size > EVENT_LIMIT_BYTES:
        raise ApiError("PayloadTooLarge", "An event is limited to 6 MB.", status=413, field=field)
    return value


def get_test_event(function: Function, event_id) -> TestEvent:
    if isinstance(event_id, bool) or not isinstance(event_id, (int, str)) or not str(event_id).isdigit():
        raise ApiError("ResourceNotFound", "Test event not found.", status=404, field="test_event_id")
    try:
        return function.test_events.get(pk=int(event_id))
    except TestEvent.DoesNotExist:
        raise ApiError("ResourceNotFound", "Test event not found.", status=404, field="test_event_id") from None


def _save(event: TestEvent) -> TestEvent:
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        raise ApiError("ResourceConflict", f"An event called {event.name} already exists: choose another name, "
                       "or edit that event.", status=409, field="name") from None
    return event


def _fields(data, allowed: set[str]) -> dict:
    if not isinstance(data, dict):
        raise ApiError("InvalidType", "A test event is a JSON object with name and body.")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApiError("UnknownField", f"{unknown[0]} is not a field of a test event.", field=unknown[0])
    return data


def create_test_event(function: Function, data) -> TestEvent:
    """Stores a new event (its body, or a template's); refuses a name the function's events have."""
    _fields(data, {"name", "body", "template"})
    name = validation.test_event_name(data.get("name"))
    if "body" not in data:
        template = data.get("template", "hello-world")
        if template not in TEMPLATES:
            raise ApiError("InvalidTemplate", f"Choose one of: {', '.join(TEMPLATES)}.", field="template")
        body = TEMPLATES[template]
    else:
        body = _body(data["body"])
    return _save(TestEvent(function=function, name=name, body=body))


def update_test_event(event: TestEvent, data) -> TestEvent:
    """Changes this event's body and/or name; refuses a name another event has."""
    _fields(data, {"name", "body"})
    if "name" in data:
        event.name = validation.test_event_name(data["name"])
    if "body" in data:
        event.body = _body(data["body"])
    return _save(event)


@transaction.atomic
def delete_test_event(event: TestEvent) -> None:
    event.delete()
