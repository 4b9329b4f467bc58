"""sendmessage: {"action": "sendmessage", "text": "..."} sends {"name", "text", "at"} to every
connection of the sender's room (the sender's too) with PostToConnection; a connection that is
gone (GoneException) is removed from the room. A message without text, or over 2000 characters,
gets {"error": ...} back instead."""

import json

import boto3
import rooms
from botocore.exceptions import ClientError

MAX_TEXT = 2000

connections_api = boto3.client("apigatewaymanagementapi")   # AWS_ENDPOINT_URL: Flowbench's @connections


def post(connection_id: str, message: dict) -> bool:
    """Sends the message to one connection; False when it is gone."""
    try:
        connections_api.post_to_connection(ConnectionId=connection_id,
                                           Data=json.dumps(message, ensure_ascii=False).encode())
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] == "GoneException":
            return False
        raise


def handler(event, context):
    sender = event["requestContext"]["connectionId"]
    try:
        text = json.loads(event.get("body") or "").get("text")
    except (ValueError, AttributeError):
        text = None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        post(sender, {"error": f"text: a message is 1 to {MAX_TEXT} characters"})
        return {"statusCode": 400}
    record, _ = rooms.read(rooms.connection_key(sender))
    if record is None:
        post(sender, {"error": "this connection is in no room: connect again"})
        return {"statusCode": 400}
    room, _ = rooms.read(rooms.room_key(record["room"]))
    message = {"name": record["name"], "text": text, "at": rooms.now()}
    gone = [connection_id for connection_id in (room or {}).get("connections", {})
            if not post(connection_id, message)]
    rooms.forget(record["room"], gone)
    print(f"{record['name']} in {record['room']}: sent to {len((room or {}).get('connections', {})) - len(gone)}, "
          f"{len(gone)} gone")
    return {"statusCode": 200}
