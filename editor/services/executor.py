"""Runs executions: a thread pool in the web process (FLOWBENCH_EXECUTOR=threads, the default) or
Celery workers (FLOWBENCH_EXECUTOR=celery), each execution through runtime.asl.

A run first takes the execution's lease (editor.services.leases): one process runs it at a time.
The engine's events go to an EventRecorder, and a per-process Checkpointer thread writes every
run's new events in one transaction per run a few milliseconds later (group commit), with the
run's fencing token, then broadcasts them to the Channels group `execution.<id>` in one message.
A process that dies loses at most those last milliseconds, never a broadcast event: whoever
resumes the execution continues from the stored history (runtime.asl's resume_from), so ids stay
contiguous and every transition happens once. A run whose token was taken (another process
resumed the execution), or whose pool was abandoned, stops at once without writing more.

Long top-level Waits do not hold a thread: the run parks (runtime.asl.Parked), gives the lease
back until the Wait is due and the Keeper dispatches it again then.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from editor import messages
from editor.models import Execution, ExecutionEvent, Invocation, StateMachineVersion
from editor.services import leases

log = logging.getLogger(__name__)

TERMINAL_EVENTS = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED",
                   "ExecutionTimedOut": "TIMED_OUT", "ExecutionAborted": "ABORTED"}
EVENT_FIELDS = ("id", "previousEventId", "timestamp", "type")
# How long new events wait to be written with others (the group commit): the most a dying
# process can lose, and what it adds to the live view's latency.
CHECKPOINT_DELAY = 0.02


def retry_locked(write, attempts: int = 200):
    """Returns write()'s result, retrying while SQLite reports its lock. It was written for a
    shared-cache memory test database, where writers refuse each other at once; the databases are
    files now, whose 20 s busy timeout makes this a rarely used safety net (removal is pending)."""
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
    """Sends `message` to `group` from any thread, in call order, without waiting; a layer that is
    down (Redis restarting) loses the message, never the run: watchers catch up from the database.

    The in-memory layer's queues belong to the loop its consumers run on, so the send is handed to
    that loop; with no consumer yet in this process nobody can be listening. Other layers (Redis)
    are sent to by this process's broadcaster thread, one message after the other."""
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
    _broadcaster().put((layer, group, message))


class Broadcaster:
    """A daemon thread with its own event loop that sends group messages in order (one layer
    connection for the whole process, instead of a loop and a connection per call)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.pending: asyncio.Queue = asyncio.Queue()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._send_all(),),
                                       name="flowbench-broadcaster", daemon=True)
        self.thread.start()

    def put(self, item) -> None:
        self.loop.call_soon_threadsafe(self.pending.put_nowait, item)

    async def _send_all(self) -> None:
        while True:
            layer, group, message = await self.pending.get()
            try:
                await layer.group_send(group, message)
            except Exception as exc:   # the layer is down: the database has every event
                log.warning("could not broadcast to %s: %s", group, exc)


_broadcaster_instance: Broadcaster | None = None


def _broadcaster() -> Broadcaster:
    global _broadcaster_instance
    with _loop_lock:
        if _broadcaster_instance is None:
            _broadcaster_instance = Broadcaster()
        return _broadcaster_instance


# -- checkpoints ------------------------------------------------------------------------------


class Abandoned(BaseException):
    """This run no longer owns the execution: stop without writing (a BaseException, so that no
    `except Exception` on the way out of the engine swallows it)."""


class EventRecorder:
    """The engine's sink for one run: keeps each event until the Checkpointer writes it (with the
    run's fencing token) and broadcasts it."""

    def __init__(self, execution_id, token: int, fence: "Executor | None" = None):
        self.execution_id = execution_id
        self.token = token
        self.group = execution_group(execution_id)
        self.fence = fence
        self.state = threading.local()   # the Task state running on this thread, for Invocation rows
        self.pending: list[dict] = []
        self.lost = False
        self._lock = threading.Lock()          # guards `pending`
        self._flush_lock = threading.Lock()    # one write of this run's events at a time, in order

    @property
    def alive(self) -> bool:
        """Whether this run still owns the execution (its lease held, its pool not abandoned)."""
        return not self.lost and not (self.fence is not None and self.fence.abandoned)

    def check_alive(self) -> None:
        if not self.alive:
            raise Abandoned()

    def checkpoint(self) -> None:
        """Writes the events so far now (before a function runs: a worker that dies while it runs
        leaves a history that says the Task started, which the resumed run then retries)."""
        self.check_alive()
        self.flush()

    def lose(self) -> None:
        """The lease went to another process: write nothing more, stop at the next event."""
        self.lost = True

    def __call__(self, event: dict) -> None:
        self.check_alive()
        if event["type"].endswith("StateEntered"):
            self.state.name = event.get("stateEnteredEventDetails", {}).get("name", "")
        with self._lock:
            self.pending.append(event)
        checkpointer().mark(self)

    def flush(self) -> None:
        """Writes the events not yet written, then broadcasts them; raises Abandoned (and writes
        nothing) when the run no longer holds the execution's lease."""
        with self._flush_lock:
            with self._lock:
                batch, self.pending = self.pending, []
            if not batch:
                return
            if self.lost:
                raise Abandoned()
            try:
                retry_locked(lambda: self._write(batch))
            except (Abandoned, IntegrityError):
                self.lost = True
                raise Abandoned() from None
            except DatabaseError:
                self.lost = True
                connection.close()
                raise
        broadcast(self.group, messages.events_group_message(batch))

    def _write(self, batch: list[dict]) -> None:
        until = timezone.now() + timedelta(seconds=leases.lease_seconds())
        with transaction.atomic():
            if not Execution.objects.filter(pk=self.execution_id, lease_token=self.token).update(lease_until=until):
                raise Abandoned()
            store_events(self.execution_id, batch)


def store_events(execution_id, batch: list[dict]) -> None:
    """Inserts history events. On PostgreSQL through COPY, with the details encoded once by the
    engine's encoder: the ORM's bulk insert spent 15 ms of a worker's CPU on a W4 execution's 405
    events, COPY under 1 ms, and this write is most of what a worker does."""
    rows = [(execution_id, event["id"], event["type"], event["timestamp"], event["previousEventId"],
             {k: v for k, v in event.items() if k not in EVENT_FIELDS}) for event in batch]
    if connection.vendor != "postgresql":
        ExecutionEvent.objects.bulk_create([
            ExecutionEvent(execution_id=row[0], event_id=row[1], type=row[2], timestamp=row[3],
                           previous_event_id=row[4], details=row[5]) for row in rows])
        return
    from runtime.asl.execution import to_json

    columns = ", ".join(ExecutionEvent._meta.get_field(name).column for name in
                        ("execution", "event_id", "type", "timestamp", "previous_event_id", "details"))
    with connection.wrap_database_errors, connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {ExecutionEvent._meta.db_table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row[:5], to_json(row[5])))


class Checkpointer:
    """The thread that writes every run's new events of this process, CHECKPOINT_DELAY after
    the first of them (the runs go on meanwhile)."""

    def __init__(self):
        self.dirty: dict[int, EventRecorder] = {}
        self.condition = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="flowbench-checkpointer", daemon=True)
        self.thread.start()

    def mark(self, recorder: EventRecorder) -> None:
        with self.condition:
            if id(recorder) not in self.dirty:
                self.dirty[id(recorder)] = recorder
                if len(self.dirty) == 1:
                    self.condition.notify()

    def _run(self) -> None:
        while True:
            with self.condition:
                while not self.dirty:
                    self.condition.wait()
            # Let the runs add more events to this write (the group commit).
            time.sleep(CHECKPOINT_DELAY)
            with self.condition:
                recorders, self.dirty = list(self.dirty.values()), {}
            for recorder in recorders:
                try:
                    recorder.flush()
                except Abandoned:
                    pass
                except Exception:
                    log.exception("execution %s: could not write its events; its run stops", recorder.execution_id)
                    connection.close()


_checkpointer: Checkpointer | None = None


def checkpointer() -> Checkpointer:
    global _checkpointer
    if _checkpointer is None:
        with _loop_lock:
            if _checkpointer is None:
                _checkpointer = Checkpointer()
    return _checkpointer


# -- one run ----------------------------------------------------------------------------------


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


def run_execution(execution_id, fence: "Executor | None" = None, steal: bool = False) -> None:
    """Runs (or continues, from its stored events) one RUNNING execution, if this process can
    take its lease: to its end, or until it parks in a long Wait."""
    token = retry_locked(lambda: leases.acquire(execution_id, steal=steal))
    if token is not None:   # else another process runs it, or it has ended
        _run_leased(execution_id, token, fence)


def _run_leased(execution_id, token: int, fence: "Executor | None" = None) -> None:
    from editor.services.policy import account_id, region, role_arn
    from editor.services.task_invoker import TaskInvoker
    from runtime.asl import Clock, Parked

    execution = Execution.objects.select_related("version", "version__role", "machine").get(pk=execution_id)
    history = stored_history(execution.id)
    if history and history[-1]["type"] in TERMINAL_EVENTS:
        _finish_from_event(execution, history[-1], token)
        return
    if history:
        _close_orphaned_invocations(execution)
    cancel = threading.Event()
    if execution.stop_requested:
        if history:
            # Stopped while no process ran it: close its history here.
            _abort_now(execution, history, token)
            return
        cancel.set()   # stopped before it started: the engine writes Started, then Aborted
    version = execution.version
    machine = compiled(version)
    recorder = EventRecorder(execution.id, token, fence)
    invoker = TaskInvoker(execution, version.role, current_state=recorder.state, before_call=recorder.checkpoint)
    context = {"stateMachineName": execution.machine.name, "executionName": execution.name,
               "roleArn": role_arn(version.role_name), "region": region(), "accountId": account_id(),
               "redriveCount": execution.redrive_count}
    keeper = leases.keeper()
    keeper.track(execution.id, token, cancel, recorder)
    # The run holds no database connection while it goes on: its Map and Parallel threads, the
    # checkpointer and other runs share the process's few (a pool, on PostgreSQL).
    connection.close()
    try:
        result = machine.run(json.loads(execution.input), invoker=invoker, clock=Clock(), context=context,
                             sink=recorder, cancel=cancel, resume_from=history or None,
                             park_after=leases.lease_seconds())
        recorder.flush()
    except Parked as parked:
        recorder.flush()
        until = parked.until
        if retry_locked(lambda: leases.release(execution.id, token, until)):
            keeper.wake_at(execution.id, until)
        elif Execution.objects.filter(pk=execution.id, lease_token=token).exists():
            _abort_now(execution, stored_history(execution.id), token)   # a stop came meanwhile
        return
    except Abandoned:
        return
    finally:
        keeper.untrack(execution.id, recorder)
    finish_execution(execution, result.status, result.output_json, result.error, result.cause, token)


def _close_orphaned_invocations(execution: Execution) -> None:
    """Marks failed the function invocations a dead run left running (its worker died while the
    function ran): the resumed run holds the lease, so no live run of this execution waits for
    them. (A stalled run that lost its lease and still finishes its call records its outcome.)"""
    retry_locked(lambda: Invocation.objects.filter(execution_id=execution.pk, status=Invocation.Status.RUNNING)
                 .update(status=Invocation.Status.FAILED, finished_at=timezone.now(),
                         error={"errorType": "ServiceException",
                                "errorMessage": "The worker running this invocation stopped before it finished."}))


def finish_execution(execution: Execution, status, output, error, cause, token: int | None) -> None:
    """Stores how the execution ended (if `token` still holds its lease; None: whoever holds it)
    and tells its watchers."""
    execution.refresh_from_db(fields=["error", "cause"])
    # A state transition is a state entered (as the engine counts them): counted from the stored
    # history, the figure stays right across resumes and redrives.
    entered = ExecutionEvent.objects.filter(execution_id=execution.pk, type__endswith="StateEntered").count()
    aborted = status == "ABORTED"

    def write():
        with transaction.atomic():
            rows = Execution.objects.filter(pk=execution.pk, status=Execution.Status.RUNNING)
            if token is not None:
                rows = rows.filter(lease_token=token)
            return rows.update(
                status=status, output=output,
                error=execution.error if aborted and execution.error else error,
                cause=execution.cause if aborted and execution.cause else cause,
                stopped_at=timezone.now(), transitions=entered, lease_owner="", lease_until=None)
    if retry_locked(write):
        execution.refresh_from_db()
        broadcast(execution_group(execution.id), messages.status_group_message(execution))


def _finish_from_event(execution: Execution, event: dict, token: int) -> None:
    status = TERMINAL_EVENTS[event["type"]]
    details = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
    output = details.get("output") if status == "SUCCEEDED" else None
    finish_execution(execution, status, output, details.get("error"), details.get("cause"), token)


def _abort_now(execution: Execution, history: list[dict], token: int) -> None:
    """Ends an execution no run is running: ExecutionAborted after its last event."""
    from runtime.asl import Clock

    last = history[-1]["id"]
    recorder = EventRecorder(execution.id, token)
    recorder({"id": last + 1, "previousEventId": last, "timestamp": Clock().timestamp(),
              "type": "ExecutionAborted", "executionAbortedEventDetails": {}})
    try:
        recorder.flush()
    except Abandoned:
        return
    finish_execution(execution, "ABORTED", None, None, None, token)


def request_stop(execution_id) -> bool:
    """Aborts the execution where it stands: through its run's cancel switch when this process
    runs it, else by taking its lease (queued, parked, or left by a dead process) and ending it
    here. False when another live process runs it: that process's Keeper passes the stop to the
    run within a second (the row says stop_requested)."""
    if leases.keeper().cancel(execution_id):
        return True
    token = retry_locked(lambda: leases.acquire(execution_id, steal=not _distributed()))
    if token is None:
        return False
    _run_leased(execution_id, token)
    return True


def run_guarded(execution_id, fence: "Executor | None" = None, steal: bool = False) -> None:
    """run_execution for a pool thread or a Celery job. A database that failed leaves the
    execution RUNNING (its lease runs out and a process that can reach the database resumes it);
    any other error is Flowbench's own and fails the execution, saying so."""
    close_old_connections()
    try:
        run_execution(execution_id, fence, steal)
    except Abandoned:
        pass
    except DatabaseError:
        log.exception("execution %s: the database failed; it resumes when its lease runs out", execution_id)
    except Exception:
        log.exception("execution %s stopped on an internal error", execution_id)
        fail_internal(execution_id)
    finally:
        connection.close()


# -- the pool ---------------------------------------------------------------------------------


class Executor:
    """The embedded mode's thread pool of runs."""

    def __init__(self, workers: int | None = None):
        workers = workers or settings.FLOWBENCH_EXECUTION_THREADS
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flowbench-execution")
        self.abandoned = False
        self._lock = threading.Lock()
        self._futures: dict = {}

    def submit(self, execution_id, steal: bool = False):
        key = str(execution_id)
        future = self.pool.submit(run_guarded, execution_id, self, steal)
        with self._lock:
            self._futures[key] = future
        future.add_done_callback(lambda done: self._forget(key, done))
        return future

    def _forget(self, key: str, done) -> None:
        """Drops a finished run's future (a long-lived process runs executions without end)."""
        with self._lock:
            if self._futures.get(key) is done:
                del self._futures[key]

    def wait(self, execution_id, timeout: float | None = 60) -> None:
        """Waits for this pool's latest run of the execution to end (tests and benchmarks)."""
        with self._lock:
            future = self._futures.get(str(execution_id))
        if future is not None:
            future.result(timeout)

    def abandon(self) -> None:
        """Acts as if this process died: its runs stop writing at their next event."""
        self.abandoned = True

    def shutdown(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait)


def fail_internal(execution_id) -> None:
    execution = Execution.objects.filter(pk=execution_id).first()
    if execution is not None and execution.status == Execution.Status.RUNNING:
        finish_execution(execution, "FAILED", None, "States.Runtime",
                         "Flowbench could not run this execution (an internal error; see the server log).", None)


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


def _distributed() -> bool:
    return settings.FLOWBENCH_EXECUTOR == "celery"


def dispatch(execution_id, steal: bool = False) -> None:
    """Runs the execution: on this process's pool, or as a Celery job with FLOWBENCH_EXECUTOR=celery.
    A job the broker cannot take now (Redis restarting) is not lost: the execution's lease runs
    out and a worker's Keeper dispatches it again."""
    if _distributed():
        from editor.jobs import run_execution_job

        try:
            run_execution_job.delay(str(execution_id))
        except Exception as exc:
            log.warning("execution %s: the broker refused its job (%s); a worker's sweep will dispatch it",
                        execution_id, exc)
    else:
        get_executor().submit(execution_id, steal)


def resume_running_executions() -> list[str]:
    """Continues every execution left RUNNING by a process that stopped; returns their ids. The
    embedded mode is one process, so it takes them whoever held them; with Celery workers, the
    workers' Keepers take those whose lease ran out, and this does nothing."""
    if _distributed():
        return []
    ids = list(Execution.objects.filter(status=Execution.Status.RUNNING).order_by("started_at")
               .values_list("id", flat=True))
    keeper = leases.keeper()
    for execution_id in ids:
        if not keeper.runs_here(execution_id):
            dispatch(execution_id, steal=True)
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
