"""Every message the function-log stream sends, declared once.

Group messages carry `type` ("invocation.start", "invocation.log", "invocation.end"); the consumer
forwards each to the browser as {"type": "start" | "log" | "end", ...} with exactly these fields.
A "log" message carries a batch of lines in order: `lines`, the first of which is line number
`seq` (1, 2, ... for the invocation), so a client can drop what it already has. "end" carries the
invocation's status and figures, not its logs, request or response: those can be megabytes, more
than a WebSocket message may hold, and the Test request returns them.
"""

from __future__ import annotations

from editor.models import Invocation
from editor.serializers import invocation_json
from runtime.asl.execution import to_json

FIELDS = {
    "ready": {"type", "invocation_id"},
    "start": {"type", "invocation_id", "version"},
    "log": {"type", "invocation_id", "seq", "lines"},
    "end": {"type", "invocation_id", "invocation"},
}


def _check(kind: str, message: dict) -> dict:
    extra = set(message) - FIELDS[kind]
    missing = FIELDS[kind] - set(message)
    if extra or missing:
        raise ValueError(f"{kind} message: unknown fields {sorted(extra)}, missing {sorted(missing)}")
    return message


def to_client(group_message: dict) -> dict:
    """Returns what the browser receives for a group message (its `type` without the prefix)."""
    kind = group_message["type"].removeprefix("invocation.")
    return _check(kind, {**group_message, "type": kind})


def ready(invocation_id) -> dict:
    return _check("ready", {"type": "ready", "invocation_id": str(invocation_id)})


def start(invocation: Invocation) -> dict:
    return {"type": "invocation.start", "invocation_id": str(invocation.id), "version": invocation.version_label}


def log(invocation_id, seq: int, lines: list[str]) -> dict:
    """Returns the group message of a batch of log lines, the first being line number `seq`."""
    return {"type": "invocation.log", "invocation_id": str(invocation_id), "seq": seq, "lines": list(lines)}


def end(invocation: Invocation) -> dict:
    return {"type": "invocation.end", "invocation_id": str(invocation.id),
            "invocation": invocation_json(invocation, full=False)}


# -- the Deploy log stream (/ws/functions/<name>/deploy/) ------------------------------------
#
# Group message (deploy.<function id>): "deploy.log" {line}, one line of pip's or npm's output (or
# Flowbench's own: what it installs, that the cache had it, why it failed) as the install runs.
# Group message "deploy.end" {status, reason, version}: a Deploy whose install ran in the
# background ended (status Successful or Failed, reason pip's or npm's message, version the label
# it deployed or published, None when it failed).
# Server -> client: "ready" once the socket listens (the page then POSTs the Deploy), then
# "log" {line} for each line, and "end" as above. Close codes as the invocation stream's (4401, 4404).

DEPLOY_FIELDS = {"ready": {"type"}, "log": {"type", "line"}, "end": {"type", "status", "reason", "version"}}


def deploy_log(line: str) -> dict:
    """Returns the group message of one line of a Deploy's install log."""
    return {"type": "deploy.log", "line": line}


def deploy_end(status: str, reason: str, version: str | None) -> dict:
    """Returns the group message of a background Deploy's end."""
    return {"type": "deploy.end", "status": status, "reason": reason, "version": version}


def deploy_to_client(group_message: dict) -> dict:
    """Returns what the browser receives for a Deploy group message."""
    kind = group_message["type"].removeprefix("deploy.")
    message = {**group_message, "type": kind}
    if set(message) != DEPLOY_FIELDS[kind]:
        raise ValueError(f"deploy {kind} message: fields {sorted(message)}")
    return message


# -- the execution stream (/ws/executions/<id>/) ----------------------------------------------
#
# Group messages (executor -> consumers): "execution.events" {first, last: the ids of the first
# and last event of the batch one checkpoint wrote; frame: the "events" message of that batch as
# JSON text, encoded once for every watcher}, "execution.status" {execution}.
# Client -> server: {"type": "subscribe", "after": <last event id the client has, 0 for none>}.
# Server -> client: "events" {events: [AWS history events, in id order]}, "execution" {execution:
# {status, output, error, cause, stopped_at, transitions, redrive_count}}, "error" {error: {code,
# message, field}}. After a subscribe the server sends the catch-up as one or more "events"
# messages (at least one, possibly empty), then one "execution", then every new event once.
# A socket answers one subscribe: a second one gets the error AlreadySubscribed (field "type")
# and changes nothing, since the stream already goes on from the last event sent (a client that
# wants to start over opens a new socket). An `after` above the execution's last stored event is
# refused with OutOfRange (field "after"): those events do not exist yet, and skipping them when
# they come would lose them. A refused or malformed message (InvalidMessage, UnknownType,
# UnknownField, InvalidType, MessageTooLarge) leaves the socket open and unsubscribed, so the
# client may send a correct subscribe. A frame over the server's limit (1 MiB) ends the
# connection with close code 1009 and a close frame.
# Close codes: 4401 not signed in, 4404 no such execution of yours (unknown and another user's
# look the same), 4429 the user holds too many execution sockets in this process (the page retries
# later); the page reconnects after any other close while the execution runs.

CLIENT_FIELDS = {
    "subscribe": {"type", "after"},
}
EXECUTION_FIELDS = {
    "events": {"type", "events"},
    "execution": {"type", "execution"},
    "error": {"type", "error"},
}
STATUS_FIELDS = ("status", "output", "error", "cause", "stopped_at", "transitions", "redrive_count")


def _checked(kind: str, message: dict) -> dict:
    extra = set(message) - EXECUTION_FIELDS[kind]
    missing = EXECUTION_FIELDS[kind] - set(message)
    if extra or missing:
        raise ValueError(f"{kind} message: unknown fields {sorted(extra)}, missing {sorted(missing)}")
    return message


def parse_client_message(content) -> tuple[dict | None, dict | None]:
    """Returns (the message, None) when the client's message is declared and well formed, else
    (None, the error message to send back)."""
    if not isinstance(content, dict):
        return None, client_error("InvalidMessage", "A message is a JSON object with a type.", None)
    kind = content.get("type")
    if kind not in CLIENT_FIELDS:
        return None, client_error("UnknownType", f"Unknown message type {kind!r}: send subscribe.", "type")
    extra = sorted(set(content) - CLIENT_FIELDS[kind])
    if extra:
        return None, client_error("UnknownField", f"{extra[0]} is not a field of {kind}.", extra[0])
    after = content.get("after", 0)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        return None, client_error("InvalidType", "after is the last event id you have (0 for none).", "after")
    return {"type": kind, "after": after}, None


def client_error(code: str, message: str, field) -> dict:
    return _checked("error", {"type": "error", "error": {"code": code, "message": message, "field": field}})


def events(batch: list[dict]) -> dict:
    return _checked("events", {"type": "events", "events": list(batch)})


def execution_status(status: dict) -> dict:
    return _checked("execution", {"type": "execution", "execution": {k: status[k] for k in STATUS_FIELDS}})


def status_of(execution) -> dict:
    return {"status": execution.status, "output": execution.output, "error": execution.error,
            "cause": execution.cause, "stopped_at": execution.stopped_at.isoformat() if execution.stopped_at else None,
            "transitions": execution.transitions, "redrive_count": execution.redrive_count}


def events_group_message(batch: list[dict]) -> dict:
    """The events one checkpoint wrote (in id order, ids contiguous), for the execution's group.

    The browser's "events" message is encoded here, once: the watchers forward the text as it is
    (the in-memory layer copies a message for each of them, and a batch is hundreds of events)."""
    return {"type": "execution.events", "first": batch[0]["id"], "last": batch[-1]["id"],
            "frame": encode(events(batch))}


def encode(message: dict) -> str:
    """Returns a message to the browser as JSON text (orjson: every event goes to every watcher)."""
    return to_json(message)


def status_group_message(execution) -> dict:
    return {"type": "execution.status", "execution": status_of(execution)}
