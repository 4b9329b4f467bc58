"""Running functions and recording every invocation, with log lines streamed while they run.

The runner calls `on_log` on its own thread; it only appends the line to a list. The thread that
asked for the invocation (a request thread under the ASGI server, or a job) takes what has
gathered every BATCH_SECONDS and sends it to the invocation's Channels group as a few "log"
messages of at most BATCH_CHARS each, in order. A function printing a million lines costs some
hundred messages, not a million; sending from the thread that asked keeps the in-memory channel
layer on the loop it belongs to.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import operator
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from editor import messages
from editor.errors import ApiError
from editor.models import Function, FunctionVersion, Invocation
from editor.services import concurrency
from editor.services.checkpoints import RowUpdate
from editor.services.leases import lease_seconds, queued_until
from editor.services.runner import check_sandbox, get_pool, get_runner
from editor.services.validation import without_lone_surrogates

# How long past a function's own timeout the web process waits for a worker to finish it.
WORKER_GRACE_SECONDS = 30
# Log lines gathered this long go out together; a message holds at most BATCH_CHARS characters
# of lines (a longer line is cut into pieces that size), well under the 1 MB a WebSocket message
# may have and a small part of what the channel layers hold.
BATCH_SECONDS = 0.03
BATCH_CHARS = 64 * 1024


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


def runner_namespace(function: Function) -> str:
    """Returns the function's namespace in the runner: per owner, so that two users' functions of
    one name never share warm workers or a concurrency count (each sees only its own name)."""
    return f"u{function.owner_id}"


def function_spec(function: Function, version: FunctionVersion):
    """Returns the runtime.functions FunctionSpec that runs `version` of `function`."""
    from editor.services.role_sessions import execution_role, function_credentials
    from editor.services.layers import opt_dir_for
    from editor.services.packages import install_packages
    from runtime.functions import FunctionSpec

    role = execution_role(function)
    return FunctionSpec(
        role=role.role_id if role else "",
        credentials=function_credentials(function, role, settings.FLOWBENCH_BASE_URL) if role else None,
        name=function.name, namespace=runner_namespace(function), version=version.label,
        runtime=version.runtime, handler=version.handler, files=dict(version.files),
        env=dict(version.env), timeout=version.timeout, memory=version.memory,
        network=version.network, packages=install_packages(version.runtime, version.files),
        layers=opt_dir_for(function.owner, version.layers),
    )


def _invoked_arn(function: Function, version: FunctionVersion, alias: str = "") -> str:
    """Returns the ARN the function was invoked by: qualified with the alias it was invoked
    through, else unqualified for $LATEST, as Lambda's is when called without a qualifier, else
    qualified with the version number."""
    from editor.services.accounts import function_arn

    arn = function_arn(function.owner_id, function.name)
    if alias:
        return f"{arn}:{alias}"
    return arn if version.number is None else f"{arn}:{version.number}"


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def invoke_function(function: Function, event: Any, *, source: str, version: FunctionVersion | None = None,
                    invocation_id: uuid.UUID | None = None, client_context: dict | None = None,
                    alias: str = "") -> Invocation:
    """Runs `version` (the deployed $LATEST by default) with `event`; returns the stored Invocation.

    Log lines are sent to the invocation's group as the function writes them, then an `end`
    message with the summary. A function's own failure is a result (status failed), not an error.
    `client_context` (Invoke's ClientContext) is the handler's context.client_context; `alias`
    names the alias `version` was invoked through.
    """
    version, invocation = pending_invocation(function, event, source, version, invocation_id, client_context, alias)
    if settings.FLOWBENCH_EXECUTOR == "celery":
        return _run_on_worker(function, invocation)
    return run_invocation(function, version, invocation)


def pending_invocation(function: Function, event: Any, source: str, version: FunctionVersion | None,
                       invocation_id: uuid.UUID | None, client_context: dict | None,
                       alias: str, asynchronous: bool = False) -> tuple[FunctionVersion, Invocation]:
    """Returns the version to run (the deployed $LATEST by default) and a new RUNNING Invocation
    of it: queued for whoever claims it when `asynchronous` (editor.services.event_queue), else
    with the deadline its caller waits until."""
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
                source=source, memory_mb=version.memory, request=event, client_context=client_context,
                alias=alias, asynchronous=asynchronous,
                lease_until=queued_until() if asynchronous else sync_deadline(version))
    except IntegrityError:
        raise ApiError("ResourceConflict", "That invocation id is already used.", status=409,
                       field="invocation_id") from None
    return version, invocation


def sync_deadline(version: FunctionVersion):
    """Returns the latest a synchronous invocation of `version` recorded now can still be running
    (its caller waits no longer): past it, the process running it went away."""
    return timezone.now() + timedelta(seconds=version.timeout + WORKER_GRACE_SECONDS + lease_seconds())


def run_invocation(function: Function, version: FunctionVersion, invocation: Invocation) -> Invocation:
    """Runs a pending synchronous invocation in this process's runner, within the function's
    concurrency (editor.services.concurrency), streaming its lines; records and returns it."""
    result, failure = run_attempt(function, version, invocation)
    record_result(invocation, result, failure)
    announce_end(invocation)
    return invocation


def run_attempt(function: Function, version: FunctionVersion, invocation: Invocation,
                handed_back: threading.Event | None = None):
    """Runs the invocation once in this process's runner, within the function's concurrency,
    streaming its lines; returns (the runner's result, None), or (None, an error object) when the
    service refused or failed the call (not the function). Raises HandedBack when `handed_back`
    is set before the function answered (its process stops)."""
    group = invocation_group(function.pk, invocation.id)
    spec = function_spec(function, version)
    arn = _invoked_arn(function, version, invocation.alias)   # read here: the runner's thread has no database
    pool = concurrency.pool_of(function)
    _send(group, messages.start(invocation))
    try:
        with concurrency.slot(pool):
            return _stream(group, invocation, spec, arn, handed_back), None
    except HandedBack:
        raise
    except Exception as exc:  # the service refused or failed (not the function): record it, say so
        from runtime.functions import service_error

        error_type, message = service_error(exc)
        return None, {"errorType": error_type, "errorMessage": message}


def announce_end(invocation: Invocation) -> None:
    """Sends the invocation's `end` (its summary) to its group: the page, a waiting request."""
    _send(invocation_group(invocation.function_id, invocation.id), messages.end(invocation))


class HandedBack(Exception):
    """The process stopped and handed the attempt back before the function answered."""


def _stream(group: str, invocation: Invocation, spec, arn: str, handed_back: threading.Event | None = None):
    """Runs the invocation on the runner's pool and sends its log lines to `group` in batches
    while it runs; returns the runner's result (or raises what the runner raised, or HandedBack)."""
    lines: list[str] = []   # appended by the runner's thread; the lines up to `sent` are sent
    done = threading.Event()

    def run():
        try:
            return get_runner().invoke(spec, invocation.request, on_log=lines.append, arn=arn,
                                       client_context=invocation.client_context)
        finally:
            done.set()

    future = get_pool().submit(run)
    sent = 0
    finished = False
    while not finished:
        # Every line is appended before `done` is set, so the batches after it end the log.
        finished = done.wait(BATCH_SECONDS)
        if not finished and handed_back is not None and handed_back.is_set():
            raise HandedBack()
        count = len(lines)
        seq = sent
        for batch in _batches(lines[sent:count], BATCH_CHARS):
            _send(group, messages.log(invocation.id, seq + 1, batch))
            seq += len(batch)
        sent = count
    return future.result()


def _batches(lines: list[str], limit: int) -> Iterator[list[str]]:
    """Yields `lines` in order, in lists of at most `limit` characters (a newline counted for
    each); a line longer than `limit` is cut into pieces of that size."""
    # A million-line log passes through here: the work per line is done by builtins.
    if lines and max(map(len, lines)) > limit:
        lines = [line[i:i + limit] for line in lines for i in range(0, len(line), limit) or (0,)]
    # ends[k]: the characters of lines[:k + 1], with a newline each.
    ends = list(itertools.accumulate(map(operator.add, map(len, lines), itertools.repeat(1))))
    first, before = 0, 0
    while first < len(lines):
        last = max(bisect.bisect_right(ends, before + limit, lo=first), first + 1)
        yield lines[first:last]
        first, before = last, ends[last - 1]


def _run_on_worker(function: Function, invocation: Invocation) -> Invocation:
    """With Celery workers the web process runs no function: a worker runs the invocation (its
    lines reach the page through the Redis layer) and this waits for its `end` message."""
    from celery import current_app

    group = invocation_group(function.pk, invocation.id)
    limit = invocation.version.timeout + WORKER_GRACE_SECONDS

    async def dispatch_and_wait():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            await asyncio.to_thread(current_app.send_task, "flowbench.invoke_function",
                                    args=[str(invocation.id)])
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


def result_fields(result, failure: dict | None) -> dict:
    """Returns the Invocation fields of how a run ended: the runner's result, or `failure` (an
    error object) when the service refused or failed the call."""
    if result is None:
        return {"status": Invocation.Status.FAILED, "error": failure, "finished_at": timezone.now()}
    return {
        "finished_at": timezone.now(),
        "request_id": str(result.request_id or ""),
        "duration_ms": result.duration_ms,
        "billed_ms": result.billed_ms,
        "max_memory_mb": result.max_memory_mb,
        "init_ms": result.init_ms,
        "logs": _logs_text(result.logs),
        # A worker's JSON may hold lone surrogates (json.dumps escapes them): not storable text.
        "error": without_lone_surrogates(result.error),
        "response": None if result.error else without_lone_surrogates(result.payload),
        "status": Invocation.Status.FAILED if result.error else Invocation.Status.SUCCEEDED,
    }


def record_result(invocation: Invocation, result, failure: dict | None, recorder=None) -> None:
    """Stores how a synchronous invocation ended: the runner's result, or `failure` (an error
    object) when the service refused or failed the call. With `recorder` (the EventRecorder of the
    execution whose Task made the call) it is written with the run's next events (a kept write:
    it stands even if the run loses the execution meanwhile)."""
    fields = result_fields(result, failure)
    for name, value in fields.items():
        setattr(invocation, name, value)
    write = RowUpdate(Invocation, invocation.pk, fields)
    if recorder is not None:
        recorder.also(write, kept=True)
        return
    with transaction.atomic():
        write()


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
