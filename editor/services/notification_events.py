"""The events bucket notifications deliver: S3's own record (to functions) and EventBridge's
"Object Created" / "Object Deleted" event (to state machines), as AWS writes each."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from urllib.parse import quote_plus

from editor.models import Bucket, StoredObject
from editor.services.accounts import account_id

__all__ = ["event_record", "eventbridge_event"]


def _stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sequencer() -> str:
    """Returns an S3 sequencer: hex that grows with each change."""
    return f"{time.time_ns():016X}"


def event_record(bucket: Bucket, event_name: str, key: str, found: StoredObject | None, configuration_id: str,
                 *, when: datetime, request_id: str, principal: str) -> dict:
    """Returns S3's event (Records with one record) for the change of `key`."""
    described = {"key": quote_plus(key, safe="/"), "sequencer": sequencer()}
    if found is not None:
        described.update({"size": found.size, "eTag": found.etag.strip('"')})
    owner = {"principalId": account_id(bucket.owner)}
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": bucket.region,
        "eventTime": _stamp(when),
        "eventName": event_name, "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": request_id},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": configuration_id,
               "bucket": {"name": bucket.name, "ownerIdentity": owner, "arn": f"arn:aws:s3:::{bucket.name}"},
               "object": described},
    }]}


# S3's event names -> EventBridge's detail-type and the reason it gives
_DETAIL = {"ObjectCreated:Put": ("Object Created", "PutObject"), "ObjectCreated:Copy": ("Object Created", "CopyObject"),
           "ObjectCreated:CompleteMultipartUpload": ("Object Created", "CompleteMultipartUpload"),
           "ObjectRemoved:Delete": ("Object Deleted", "DeleteObject")}


def eventbridge_event(bucket: Bucket, event_name: str, key: str, found: StoredObject | None, *, when: datetime,
                      request_id: str) -> dict:
    """Returns the EventBridge event S3 sends for the change of `key` (what a rule passes to a
    state machine's StartExecution as its input)."""
    detail_type, reason = _DETAIL.get(event_name, ("Object Created", event_name))
    described = {"key": key, "sequencer": sequencer()}
    if found is not None:
        described.update({"size": found.size, "etag": found.etag.strip('"')})
    account = account_id(bucket.owner)
    detail = {"version": "0", "bucket": {"name": bucket.name}, "object": described, "request-id": request_id,
              "requester": account, "reason": reason}
    if detail_type == "Object Deleted":
        detail["deletion-type"] = "Permanently Deleted"
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": "aws.s3",
            "account": account, "time": when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": bucket.region,
            "resources": [f"arn:aws:s3:::{bucket.name}"], "detail": detail}
