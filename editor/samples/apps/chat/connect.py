"""$connect: a client joins a room (?room=..., "lobby" when not given) under a name (?name=...,
"guest" when not given). The connection is refused (403 to the client) when the room name is not
1 to 64 letters, digits, - and _, or the name is longer than 40 characters."""

import rooms


def handler(event, context):
    query = event.get("queryStringParameters") or {}
    room = query.get("room") or "lobby"
    name = (query.get("name") or "").strip() or "guest"
    if not rooms.ROOM.match(room) or len(name) > 40:
        print(f"refused: room {room!r}, name {name!r}")
        return {"statusCode": 400, "body": "room: 1 to 64 letters, digits, - and _; name: at most 40 characters"}
    connection_id = event["requestContext"]["connectionId"]
    rooms.write(rooms.connection_key(connection_id), {"room": room, "name": name})

    def join(connections: dict) -> None:
        connections[connection_id] = {"name": name, "joined": rooms.now()}

    present = rooms.change_room(room, join)
    print(f"{name} ({connection_id}) joined {room}: {len(present)} connected")
    return {"statusCode": 200}
