"""What a Flowbench process does when it starts serving and when it is told to stop.

A web process (daphne, or any ASGI server that sends the lifespan protocol) and a Celery worker
each call `started()` once they run and `stopping()` when they are asked to stop (SIGTERM, Ctrl+C):

- started: the process takes up its work. In the embedded mode that is every execution a previous
  process left RUNNING (stopped or killed), resumed at once rather than on the first request, and
  firing the schedules that are due (every second, from the lease keeper's thread); it removes the
  function code a killed process left in the temporary folder, and Deploys whose install the
  previous process left unfinished install again (editor.services.deploys). A web process also
  forgets the WebSocket API connections that stopped web processes of its machine held.
- stopping: the process takes no new work and hands every running execution back, still RUNNING,
  with its events written (editor.services.executor.Executor.stop): the next start, or another
  worker, continues each one where it stood.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time

from django.db import connection
from django.utils import timezone

log = logging.getLogger("flowbench")

_lock = threading.Lock()
_started = False
_stopped = False


def started(loop: asyncio.AbstractEventLoop | None = None, name: str = "web", threads: int | None = None) -> None:
    """Takes up this process's work (once); `loop` is the event loop the server's consumers run
    on; `name` and `threads` say what the process is (a worker's node name and thread count)."""
    global _started
    with _lock:
        if _started:
            return
        _started = True
    from django.conf import settings

    from editor.services.broadcast import register_event_loop
    from editor.services.executor import get_executor
    from editor.services.leases import process_id

    from runtime.functions import remove_abandoned_work_dirs

    if loop is not None:
        register_event_loop(loop)
    # Copies of function code a killed process left in the temporary folder (never those of a
    # Flowbench process still running: each holds a lock on its own).
    remove_abandoned_work_dirs()
    executor = get_executor()
    # A web process of the distributed mode runs no execution: the workers keep the leases.
    runs_executions = name != "web" or not executor.distributed
    if runs_executions:   # the processes that run functions
        from editor.services.runner import prestart_standby_workers

        threading.Thread(target=prestart_standby_workers, name="flowbench-standby", daemon=True).start()
        executor.keeper.start()
        # Asynchronous invocations whose lease ran out (a dead process's attempt, a retry that is
        # due, a lost job) are sent again; synchronous ones past their deadline end as abandoned.
        from editor.services import event_queue

        event_queue.start_sweeping(executor.keeper)
        if executor.distributed:
            # A worker also sends again the Deploys whose installer died (its lease ran out).
            from editor.services.deploys import sweep_updates
            from editor.services.leases import SWEEP_SECONDS

            executor.keeper.every(SWEEP_SECONDS, sweep_updates)
    log.info("%s started as %s: %s; lease %d s, at most %d helper threads an execution and %d a user, "
             "stop grace %d s", name, process_id(),
             f"runs executions on {threads or executor.workers} threads" if runs_executions else "runs no executions",
             settings.FLOWBENCH_LEASE_SECONDS, settings.FLOWBENCH_THREADS_PER_EXECUTION,
             settings.FLOWBENCH_THREADS_PER_USER, settings.FLOWBENCH_STOP_GRACE_SECONDS)
    if not executor.distributed:
        threading.Thread(target=_resume, args=(timezone.now(),), name="flowbench-resume", daemon=True).start()
        # Embedded, this process fires the schedules (Celery beat's job does it when distributed).
        from editor.services.schedule_firing import fire_due

        executor.keeper.every(settings.FLOWBENCH_SCHEDULE_TICK_SECONDS, fire_due)
    if name == "web":
        threading.Thread(target=_drop_dead_connections, name="flowbench-sockets", daemon=True).start()


def _drop_dead_connections() -> None:
    from editor.services.websocket_apis import drop_dead_connections

    try:
        dropped = drop_dead_connections()
        if dropped:
            log.warning("dropped %d WebSocket API connection(s) a stopped web process held", dropped)
    except Exception:
        log.exception("could not drop the WebSocket API connections of stopped web processes")
    finally:
        connection.close()


def _resume(started_at) -> None:
    from editor.services import event_queue
    from editor.services.deploys import resume_updates
    from editor.services.executor import resume_running_executions

    try:
        resumed = resume_running_executions()
        if resumed:
            log.warning("resumed %d execution(s) left running by the previous process", len(resumed))
        installs = resume_updates()
        if installs:
            log.warning("resumed %d Deploy install(s) left unfinished by the previous process", installs)
        events = event_queue.resume(started_at)
        if events:
            log.warning("sent again %d Event invocation(s) left queued or running by the previous process", events)
    except Exception:
        log.exception("could not resume the running executions, installs and Event invocations")
    finally:
        connection.close()


def stopping() -> None:
    """Hands this process's running executions back (once); returns when that is done."""
    global _stopped
    with _lock:
        if _stopped:
            return
        _stopped = True
    from django.conf import settings

    from editor.services import event_queue
    from editor.services.executor import get_executor

    deadline = time.monotonic() + settings.FLOWBENCH_STOP_GRACE_SECONDS
    try:
        get_executor().stop()   # from its first moment no Event invocation is claimed here either
    except Exception:
        log.exception("could not hand the running executions back; they resume when their leases run out")
    try:
        # The executions' grace and the Event invocations' run together: one grace in all.
        event_queue.stop(deadline)
    except Exception:
        log.exception("could not hand the running Event invocations back; they run again when their leases "
                      "run out")
    finally:
        connection.close()


def attach(application):
    """Returns the ASGI application with the process's start and stop hooks attached: through
    Twisted's reactor under daphne (which sends no lifespan events), and through the ASGI
    lifespan protocol under other servers. Importing the application without serving it (tests)
    starts nothing: the reactor never runs there and no lifespan event comes."""
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is not None:
        reactor.callWhenRunning(lambda: started(asyncio.get_event_loop()))
        reactor.addSystemEventTrigger("before", "shutdown", _stop_under_twisted)
    return Lifespan(application)


def _stop_under_twisted():
    from twisted.internet import threads

    # A Deferred: the reactor waits for it before it stops.
    return threads.deferToThread(stopping)


class Lifespan:
    """ASGI middleware answering the lifespan protocol with `started` and `stopping`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                started(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(stopping)
                await send({"type": "lifespan.shutdown.complete"})
                return
