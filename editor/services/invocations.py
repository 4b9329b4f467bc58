"""Running functions and recording every invocation, with log lines streamed while they run.

The runner calls `on_log` on its own thread. Those lines go through a queue to the thread that
asked for the invocation, which sends them to the invocation's Channels group in order. Sending
from the thread that asked (a request thread under the ASGI server, or a job) keeps the in-memory
channel layer on the loop it belongs to.
"""

from __future__ import annotations

import asyncio
import queue
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from editor import messages
from editor.errors import ApiError
from editor.models import Function, FunctionVersion, Invocation
from editor.services.runner import check_sandbox, get_pool, get_runner

_DONE = object()
# How long past a function's own timeout the web process waits for a worker to finish it.
WORKER_GRACE_SECONDS = 30


def invocation_group(function_id: int, invocation_id: uuid.UUID) -> str:
    """Returns the Channels group of one invocation; the owner's function id is part of it, so a
    socket opened under another user's function never joins it."""
    return f"invocation.{function_id}.{invocation_id.hex}"


def parse_invocation_id(value: Any, field: str = "invocation_id") -> uuid.UUID:
    if value is None:
        return uuid.uuid4()
    if not isinstance(value, str):
        raise ApiError("InvalidType", "invocation_id must be a UUID string.", field=field)
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApiError("InvalidInvocationId", "invocation_id must be a UUID.", field=field) from None


def runner_name(function: Function) -> str:
    """Returns the function's name in the runner. Names are per owner: two users' functions of the
    same name never share warm workers."""
    return f"u{function.owner_id}-{function.name}"


def _spec(function: Function, version: FunctionVersion):
    from runtime.functions import FunctionSpec

    return FunctionSpec(
        name=runner_name(function), version=version.label, runtime=version.runtime,
        handler=version.handler, files=dict(version.files), env=dict(version.env),
        timeout=version.timeout, memory=version.memory, network=version.network,
        reserved_concurrency=function.reserved_concurrency,
    )


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def invoke_function(function: Function, event: Any, *, source: str, version: FunctionVersion | None = None,
                    invocation_id: uuid.UUID | None = None) -> Invocation:
    """Runs `version` (the deployed $LATEST by default) with `event`; returns the stored Invocation.

    Log lines are sent to the invocation's group as the function writes them, then an `end`
    message with the summary. A function's own failure is a result (status failed), not an error.
    """
    if version is None:
        if function.deployed_id is None:
            raise ApiError("NotDeployed", "Deploy the function first: nothing is deployed yet.", status=409)
        version = FunctionVersion.objects.get(pk=function.deployed_id)
    if settings.FLOWBENCH_EXECUTOR != "celery":   # (with Celery, the worker that runs it refuses)
        check_sandbox()
    invocation_id = invocation_id or uuid.uuid4()
    try:
        with transaction.atomic():
            invocation = Invocation.objects.create(
                id=invocation_id, function=function, version=version, version_label=version.label,
                source=source, memory_mb=version.memory, request=event)
    except IntegrityError:
        raise ApiError("ResourceConflict", "That invocation id is already used.", status=409,
                       field="invocation_id") from None
    if settings.FLOWBENCH_EXECUTOR == "celery":
        return _run_on_worker(function, invocation)
    return run_invocation(function, version, invocation)


def run_invocation(function: Function, version: FunctionVersion, invocation: Invocation) -> Invocation:
    """Runs a pending invocation in this process's runner, streaming its lines; returns it."""
    group = invocation_group(function.pk, invocation.id)
    event = invocation.request
    lines: queue.Queue = queue.Queue()

    def run():
        try:
            return get_runner().invoke(_spec(function, version), event, on_log=lines.put)
        finally:
            lines.put(_DONE)

    future = get_pool().submit(run)
    _send(group, messages.start(invocation))
    seq = 0
    while True:
        line = lines.get()
        if line is _DONE:
            break
        seq += 1
        _send(group, messages.log(invocation.id, seq, line))
    try:
        result = future.result()
    except Exception as exc:  # the service refused or failed (not the function): record it, say so
        from runtime.functions import service_error

        result = None
        error_type, message = service_error(exc)
        failure = {"errorType": error_type, "errorMessage": message}
    _record(invocation, result, failure if result is None else None)
    _send(group, messages.end(invocation))
    return invocation


def _run_on_worker(function: Function, invocation: Invocation) -> Invocation:
    """With Celery workers the web process runs no function: a worker runs the invocation (its
    lines reach the page through the Redis layer) and this waits for its `end` message."""
    from editor.jobs import invoke_function_job

    group = invocation_group(function.pk, invocation.id)
    limit = invocation.version.timeout + WORKER_GRACE_SECONDS

    async def dispatch_and_wait():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            await asyncio.to_thread(invoke_function_job.delay, str(invocation.id))
            async with asyncio.timeout(limit):
                while (await layer.receive(channel))["type"] != "invocation.end":
                    pass
        finally:
            await layer.group_discard(group, channel)

    try:
        async_to_sync(dispatch_and_wait)()
    except Exception as exc:   # no worker answered in time, or the broker refused the job
        Invocation.objects.filter(pk=invocation.pk, status=Invocation.Status.RUNNING).update(
            status=Invocation.Status.FAILED, finished_at=timezone.now(),
            error={"errorType": "ServiceException",
                   "errorMessage": f"No worker finished the invocation ({type(exc).__name__}: {exc})."})
    invocation.refresh_from_db()
    return invocation


def _record(invocation: Invocation, result, failure: dict | None) -> None:
    invocation.finished_at = timezone.now()
    if result is None:
        invocation.status = Invocation.Status.FAILED
        invocation.error = failure
    else:
        invocation.request_id = str(result.request_id or "")
        invocation.duration_ms = result.duration_ms
        invocation.billed_ms = result.billed_ms
        invocation.max_memory_mb = result.max_memory_mb
        invocation.init_ms = result.init_ms
        invocation.logs = _logs_text(result.logs)
        invocation.error = result.error
        invocation.response = None if result.error else result.payload
        invocation.status = Invocation.Status.FAILED if result.error else Invocation.Status.SUCCEEDED
    with transaction.atomic():
        invocation.save()


def _logs_text(logs) -> str:
    if logs is None:
        return ""
    if isinstance(logs, str):
        return logs
    return "\n".join(str(line).rstrip("\n") for line in logs)


def get_invocation(function: Function, invocation_id) -> Invocation:
    try:
        return function.invocations.get(id=uuid.UUID(str(invocation_id)))
    except (ValueError, Invocation.DoesNotExist):
        raise ApiError("ResourceNotFound", "Invocation not found.", status=404) from None
