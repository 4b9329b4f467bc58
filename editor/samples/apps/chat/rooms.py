"""The chat's rooms, kept in the bucket CHAT_BUCKET (set by the sample):

    rooms/<room>.json              {"connections": {"<connection id>": {"name": ..., "joined": ...}}}
    connections/<connection id>.json   {"room": ..., "name": ...}

Two people may join or leave the same room at the same moment (two browser tabs opened at once),
so a room is changed by a conditional write: read it with its ETag, change it, put it back only if
it still has that ETag (If-Match), or only if it does not exist yet (If-None-Match: *); when
another change came first, S3 answers 412 PreconditionFailed (409 ConditionalRequestConflict when
two writes race) and the change is made again on what is there now.
"""

import json
import os
import re
from datetime import datetime, timezone

import boto3
from botocore.exceptions import ClientError

BUCKET = os.environ["CHAT_BUCKET"]
ROOM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ATTEMPTS = 20

s3 = boto3.client("s3")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def room_key(room: str) -> str:
    return f"rooms/{room}.json"


def connection_key(connection_id: str) -> str:
    return f"connections/{connection_id}.json"


def read(key: str):
    """Returns (the JSON object at key, its ETag), or (None, None) when there is none."""
    try:
        found = s3.get_object(Bucket=BUCKET, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchKey":
            return None, None
        raise
    return json.loads(found["Body"].read()), found["ETag"]


def write(key: str, value: dict) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(value, ensure_ascii=False).encode(),
                  ContentType="application/json")


def change_room(room: str, change) -> dict:
    """Applies change(connections) to the room's connections (a dict it changes in place) with a
    conditional write, again on the newer room whenever another write came first; returns them."""
    for _ in range(ATTEMPTS):
        found, etag = read(room_key(room))
        connections = dict((found or {}).get("connections", {}))
        change(connections)
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            s3.put_object(Bucket=BUCKET, Key=room_key(room), ContentType="application/json",
                          Body=json.dumps({"connections": connections}, ensure_ascii=False).encode(), **condition)
            return connections
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
    raise RuntimeError(f"room {room} changed {ATTEMPTS} times while this write tried to land")


def forget(room: str, connection_ids) -> None:
    """Removes connections from the room and their connection records."""
    gone = set(connection_ids)
    if not gone:
        return

    def remove(connections: dict) -> None:
        for connection_id in gone:
            connections.pop(connection_id, None)

    change_room(room, remove)
    for connection_id in gone:
        s3.delete_object(Bucket=BUCKET, Key=connection_key(connection_id))
