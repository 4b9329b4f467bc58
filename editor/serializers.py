"""The JSON shapes the API returns (and the pages read). One function per record type."""

from __future__ import annotations

from editor.models import Function, FunctionUpdate, FunctionVersion, Invocation, TestEvent
from editor.services.validation import CODE_LIMIT_BYTES, code_size


def iso(value):
    """Returns a datetime as ISO 8601 text, None as None: how every record's times are given."""
    return value.isoformat() if value else None


def summary(invocation: Invocation) -> dict:
    """Returns Lambda's REPORT line figures for one invocation."""
    return {
        "request_id": invocation.request_id,
        "duration_ms": invocation.duration_ms,
        "billed_ms": invocation.billed_ms,
        "memory_mb": invocation.memory_mb,
        "max_memory_mb": invocation.max_memory_mb,
        "init_ms": invocation.init_ms,
    }


def delivery(invocation: Invocation) -> dict | None:
    """Returns where an asynchronous invocation stands in its queue (editor.services.event_queue):
    queued, running (attempt n), retrying at a time, succeeded or failed after n attempts; None
    for a synchronous one."""
    if not invocation.asynchronous:
        return None
    state = invocation.status
    if invocation.status == Invocation.Status.RUNNING:
        state = ("running" if invocation.runner else
                 "retrying" if invocation.next_attempt_at is not None and invocation.attempts else "queued")
    return {"state": state, "attempts": invocation.attempts, "function_errors": invocation.function_errors,
            "retry_at": iso(invocation.next_attempt_at) if state == "retrying" else None}


def invocation_json(invocation: Invocation, *, full: bool = True) -> dict:
    data = {
        "id": str(invocation.id),
        "source": invocation.source,
        "status": invocation.status,
        "version": invocation.version_label,
        "started_at": iso(invocation.started_at),
        "finished_at": iso(invocation.finished_at),
        **summary(invocation),
        "asynchronous": invocation.asynchronous,
        "attempts": invocation.attempts,
        "delivery": delivery(invocation),
    }
    if full:
        data.update(response=invocation.response, error=invocation.error, logs=invocation.logs,
                    request=invocation.request)
    return data


def version_json(version: FunctionVersion, *, with_code: bool = False) -> dict:
    data = {
        "version": version.label,
        "number": version.number,
        "description": version.description,
        "runtime": version.runtime,
        "handler": version.handler,
        "timeout": version.timeout,
        "memory": version.memory,
        "env": version.env,
        "network": version.network,
        "code_sha256": version.code_sha256,
        "code_size": version.code_size,
        "created_at": iso(version.created_at),
        "install_log": version.install_log,
    }
    if with_code:
        data["files"] = version.files
    return data


def update_json(update: FunctionUpdate | None) -> dict | None:
    """A Deploy whose dependencies installed (or install) in the background."""
    if update is None:
        return None
    return {"status": update.status, "reason": update.reason, "log": update.log,
            "started_at": iso(update.created_at), "finished_at": iso(update.finished_at),
            "version": update.version.label if update.version is not None else None}


def function_json(function: Function, *, last_invocation: Invocation | None = None, full: bool = False) -> dict:
    data = {
        "name": function.name,
        "runtime": function.runtime,
        "description": function.description,
        "handler": function.handler,
        "updated_at": iso(function.updated_at),
        "deployed": function.deployed is not None,
        "undeployed_changes": function.has_undeployed_changes,
        "last_invocation": None if last_invocation is None else {
            "id": str(last_invocation.id), "status": last_invocation.status,
            "started_at": iso(last_invocation.started_at)},
    }
    if full:
        editable = code_size(function.files) <= CODE_LIMIT_BYTES
        data.update(
            # A package past the console's inline limit is not sent to the editor (it says so).
            files=function.files if editable else None,
            code_editable=editable,
            configuration={
                "description": function.description, "handler": function.handler,
                "timeout": function.timeout, "memory": function.memory,
                "env": [{"key": k, "value": v} for k, v in function.env.items()],
                "network": function.network, "reserved_concurrency": function.reserved_concurrency,
                "layers": function.layers,
            },
            deployed_version=None if function.deployed is None else version_json(function.deployed),
            last_update=update_json(function.updates.order_by("-created_at").first()),
        )
    return data


def test_event_json(event: TestEvent) -> dict:
    return {"id": event.pk, "name": event.name, "body": event.body, "updated_at": iso(event.updated_at)}
