"""Runs executions: a thread pool in the web process (FLOWBENCH_EXECUTOR=threads, the default) or
Celery workers (FLOWBENCH_EXECUTOR=celery), each execution through runtime.asl.

Every history event is appended to ExecutionEvent as the engine emits it (the checkpoint: a
process that dies loses nothing already emitted) and then sent to the Channels group
`execution.<id>`. `resume_running_executions()` continues, from their stored events, the
executions a previous process left RUNNING.

Fencing: the unique (execution, event_id) constraint makes sure only one run writes an
execution's history; a run that finds its next id taken (another process resumed it), or whose
executor was abandoned, stops at once without writing anything more.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from editor import messages
from editor.models import Execution, ExecutionEvent, StateMachineVersion

log = logging.getLogger(__name__)

TERMINAL_EVENTS = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED",
                   "ExecutionTimedOut": "TIMED_OUT", "ExecutionAborted": "ABORTED"}
EVENT_FIELDS = ("id", "previousEventId", "timestamp", "type")


def retry_locked(write, attempts: int = 200):
    """Returns write()'s result, retrying while SQLite reports its lock (in shared-cache memory, as the
    test database is, two writers refuse each other at once instead of waiting)."""
    from django.db import OperationalError

    delay = 0.0005
    for attempt in range(attempts):
        try:
            return write()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


def execution_group(execution_id) -> str:
    return f"execution.{execution_id}"


# -- sending to Channels groups from any thread -----------------------------------------------

_loop_lock = threading.Lock()
_server_loop: asyncio.AbstractEventLoop | None = None


def register_event_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Remembers the loop the consumers run on (the in-memory layer's queues belong to it)."""
    global _server_loop
    with _loop_lock:
        _server_loop = loop


def broadcast(group: str, message: dict) -> None:
    """Sends `message` to `group` from any thread.

    The in-memory layer's queues belong to the loop its consumers run on, so the send is handed to
    that loop (in call order, which keeps events in order); with no consumer yet in this process
    nobody can be listening. Other layers (Redis) take async_to_sync from any thread."""
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        loop = _server_loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(layer.group_send(group, message))
        else:
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        return
    async_to_sync(layer.group_send)(group, message)


# -- one run ----------------------------------------------------------------------------------


class Abandoned(BaseException):
    """This run no longer owns the execution: stop without writing (a BaseException, so that no
    `except Exception` on the way out of the engine swallows it)."""


class EventRecorder:
    """The engine's sink: stores each event, then broadcasts it."""

    def __init__(self, execution: Execution, fence: "Executor | None"):
        self.execution_id = execution.id
        self.group = execution_group(execution.id)
        self.fence = fence
        self.state = threading.local()   # the Task state running on this thread, for Invocation rows
        self.owner = threading.current_thread()

    def check_alive(self) -> None:
        if self.fence is not None and self.fence.abandoned:
            raise Abandoned()

    def __call__(self, event: dict) -> None:
        self.check_alive()
        if event["type"].endswith("StateEntered"):
            self.state.name = event.get("stateEnteredEventDetails", {}).get("name", "")
        details = {k: v for k, v in event.items() if k not in EVENT_FIELDS}
        def write():
            with transaction.atomic():
                ExecutionEvent.objects.create(
                    execution_id=self.execution_id, event_id=event["id"], type=event["type"],
                    timestamp=event["timestamp"], previous_event_id=event["previousEventId"], details=details)
        try:
            retry_locked(write)
        except IntegrityError:
            raise Abandoned() from None
        finally:
            if threading.current_thread() is not self.owner:
                # Parallel branches and Map iterations emit from short-lived threads.
                connection.close()
        broadcast(self.group, messages.event_group_message(event))


_machines: dict[int, object] = {}
_machines_lock = threading.Lock()


def compiled(version: StateMachineVersion):
    """Returns the compiled runtime.asl machine of a version (immutable, so compiled once)."""
    from runtime.asl import StateMachine

    with _machines_lock:
        machine = _machines.get(version.pk)
    if machine is None:
        machine = StateMachine(version.definition, version.type)
        with _machines_lock:
            if len(_machines) > 256:
                _machines.clear()
            _machines[version.pk] = machine
    return machine


def stored_history(execution_id) -> list[dict]:
    return [e.as_event() for e in ExecutionEvent.objects.filter(execution_id=execution_id).order_by("event_id")]


def run_execution(execution_id, executor: "Executor | None" = None, cancel: threading.Event | None = None) -> None:
    """Runs (or continues, from its stored events) one RUNNING execution to its end."""
    from editor.services.policy import account_id, region, role_arn
    from editor.services.task_invoker import TaskInvoker
    from runtime.asl import Clock

    execution = (Execution.objects.select_related("version", "version__role", "machine")
                 .filter(pk=execution_id).first())
    if execution is None or execution.status != Execution.Status.RUNNING:
        return
    history = stored_history(execution.id)
    if history and history[-1]["type"] in TERMINAL_EVENTS:
        _finish_from_event(execution, history[-1], 0)
        return
    if execution.stop_requested and history:
        # Stopped while no thread ran it: close its history here.
        _abort_now(execution, history)
        return
    version = execution.version
    machine = compiled(version)
    recorder = EventRecorder(execution, executor)
    invoker = TaskInvoker(execution, version.role, current_state=recorder.state,
                          check_alive=recorder.check_alive)
    context = {"stateMachineName": execution.machine.name, "executionName": execution.name,
               "roleArn": role_arn(version.role_name), "region": region(), "accountId": account_id(),
               "redriveCount": execution.redrive_count}
    import json

    try:
        result = machine.run(json.loads(execution.input), invoker=invoker, clock=Clock(), context=context,
                             sink=recorder, cancel=cancel, resume_from=history or None)
    except Abandoned:
        return
    finish_execution(execution, result.status, result.output_json, result.error, result.cause,
                     result.transitions)


def finish_execution(execution: Execution, status, output, error, cause, transitions: int) -> None:
    """Stores how the execution ended and tells its watchers."""
    execution.refresh_from_db(fields=["error", "cause", "transitions"])
    # A state transition is a state entered (as the engine counts them): counted from the stored
    # history, the figure stays right across resumes and redrives.
    entered = ExecutionEvent.objects.filter(execution_id=execution.pk, type__endswith="StateEntered").count()

    def write():
        with transaction.atomic():
            return Execution.objects.filter(pk=execution.pk, status=Execution.Status.RUNNING).update(
                status=status, output=output,
                error=execution.error if status == "ABORTED" and execution.error else error,
                cause=execution.cause if status == "ABORTED" and execution.cause else cause,
                stopped_at=timezone.now(), transitions=entered)
    updated = retry_locked(write)
    if updated:
        execution.refresh_from_db()
        broadcast(execution_group(execution.id), messages.status_group_message(execution))


def _finish_from_event(execution: Execution, event: dict, transitions: int) -> None:
    import json

    status = TERMINAL_EVENTS[event["type"]]
    details = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
    output = details.get("output") if status == "SUCCEEDED" else None
    if output is not None:
        json.loads(output)
    finish_execution(execution, status, output, details.get("error"), details.get("cause"), transitions)


def _abort_now(execution: Execution, history: list[dict]) -> None:
    from runtime.asl import Clock

    last = history[-1]["id"]
    event = {"id": last + 1, "previousEventId": last, "timestamp": Clock().timestamp(), "type": "ExecutionAborted",
             "executionAbortedEventDetails": {}}
    try:
        EventRecorder(execution, None)(event)
    except Abandoned:
        return
    finish_execution(execution, "ABORTED", None, None, None, 0)


# -- the pool ---------------------------------------------------------------------------------


class Executor:
    """A thread pool that runs executions, with a cancel switch per running execution."""

    def __init__(self, workers: int | None = None):
        workers = workers or settings.FLOWBENCH_EXECUTION_THREADS
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flowbench-execution")
        self.abandoned = False
        self._cancels: dict = {}
        self._lock = threading.Lock()
        self._futures: dict = {}

    def submit(self, execution_id):
        key = str(execution_id)
        cancel = threading.Event()
        with self._lock:
            self._cancels[key] = cancel

        def work():
            close_old_connections()
            try:
                run_execution(execution_id, self, cancel)
            except Abandoned:
                pass
            except Exception:
                log.exception("execution %s stopped on an internal error", execution_id)
                _fail_internal(execution_id)
            finally:
                with self._lock:
                    self._cancels.pop(key, None)
                connection.close()

        future = self.pool.submit(work)
        with self._lock:
            self._futures[key] = future
        return future

    def wait(self, execution_id, timeout: float | None = 60) -> None:
        """Waits for this pool's latest run of the execution to end (tests and benchmarks)."""
        with self._lock:
            future = self._futures.get(str(execution_id))
        if future is not None:
            future.result(timeout)

    def cancel(self, execution_id) -> bool:
        """Sets the cancel switch of an execution this pool runs; False when it does not run it."""
        with self._lock:
            cancel = self._cancels.get(str(execution_id))
        if cancel is None:
            return False
        cancel.set()
        return True

    def runs(self, execution_id) -> bool:
        with self._lock:
            return str(execution_id) in self._cancels

    def abandon(self) -> None:
        """Acts as if this process died: its runs stop writing at their next event."""
        self.abandoned = True

    def shutdown(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait)


def _fail_internal(execution_id) -> None:
    execution = Execution.objects.filter(pk=execution_id).first()
    if execution is not None and execution.status == Execution.Status.RUNNING:
        finish_execution(execution, "FAILED", None, "States.Runtime",
                         "Flowbench could not run this execution (an internal error; see the server log).", 0)


_executor: Executor | None = None
_executor_lock = threading.Lock()


def get_executor() -> Executor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = Executor()
        return _executor


def replace_executor(workers: int | None = None) -> Executor:
    """Abandons the current pool (as a restart would) and returns a fresh one."""
    global _executor
    with _executor_lock:
        old, _executor = _executor, Executor(workers)
    if old is not None:
        old.abandon()
    return _executor


def dispatch(execution_id) -> None:
    """Runs the execution: on this process's pool, or as a Celery job with FLOWBENCH_EXECUTOR=celery."""
    if getattr(settings, "FLOWBENCH_EXECUTOR", "threads") == "celery":
        from editor.jobs import run_execution_job

        run_execution_job.delay(str(execution_id))
    else:
        get_executor().submit(execution_id)


def cancel_local(execution_id) -> bool:
    if getattr(settings, "FLOWBENCH_EXECUTOR", "threads") == "celery":
        return False
    executor = _executor
    return executor is not None and executor.cancel(execution_id)


def resume_running_executions() -> list[str]:
    """Continues every execution left RUNNING (by a process that stopped); returns their ids."""
    ids = list(Execution.objects.filter(status=Execution.Status.RUNNING).order_by("started_at")
               .values_list("id", flat=True))
    for execution_id in ids:
        if getattr(settings, "FLOWBENCH_EXECUTOR", "threads") != "celery" and get_executor().runs(execution_id):
            continue
        dispatch(execution_id)
    return [str(i) for i in ids]


class ResumeOnStart:
    """Wraps the ASGI application: the first connection from a real server (daphne, uvicorn: their
    scope names the server) resumes the executions a previous process left RUNNING, once.
    Test clients' scopes name no server, so tests resume only when they call the service."""

    def __init__(self, app):
        self.app = app
        self._started = False
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send):
        if not self._started and (scope.get("server") or scope.get("type") == "lifespan"):
            with self._lock:
                start, self._started = not self._started, True
            if start:
                register_event_loop(asyncio.get_running_loop())
                threading.Thread(target=_resume_in_background, name="flowbench-resume", daemon=True).start()
        return await self.app(scope, receive, send)


def _resume_in_background() -> None:
    try:
        resume_running_executions()
    except Exception:
        log.exception("could not resume the running executions")
    finally:
        connection.close()
