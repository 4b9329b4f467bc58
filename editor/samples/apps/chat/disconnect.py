"""$disconnect: the client left (closed its tab, or the connection was dropped): it leaves its room."""

import rooms


def handler(event, context):
    connection_id = event["requestContext"]["connectionId"]
    record, _ = rooms.read(rooms.connection_key(connection_id))
    if record is None:
        print(f"{connection_id} was in no room")
        return {"statusCode": 200}
    rooms.forget(record["room"], [connection_id])
    print(f"{record['name']} ({connection_id}) left {record['room']}")
    return {"statusCode": 200}
