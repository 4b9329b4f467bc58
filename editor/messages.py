"""Every message the function-log stream sends, declared once.

Group messages carry `type` ("invocation.start", "invocation.log", "invocation.end"); the consumer
forwards each to the browser as {"type": "start" | "log" | "end", ...} with exactly these fields.
"""

from __future__ import annotations

from editor.models import Invocation
from editor.serializers import invocation_json

FIELDS = {
    "ready": {"type", "invocation_id"},
    "start": {"type", "invocation_id", "version"},
    "log": {"type", "invocation_id", "seq", "line"},
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


def log(invocation_id, seq: int, line: str) -> dict:
    return {"type": "invocation.log", "invocation_id": str(invocation_id), "seq": seq,
            "line": str(line).rstrip("\n")}


def end(invocation: Invocation) -> dict:
    return {"type": "invocation.end", "invocation_id": str(invocation.id),
            "invocation": invocation_json(invocation)}
