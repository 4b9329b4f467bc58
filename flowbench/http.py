"""How the studio answers HTTP: Django's ASGI handler, with every request's middleware chain and
view run as one synchronous call on a thread that outlives the request.

Every view and middleware of the studio is synchronous. Django's own handler would hop between the
event loop and a thread at each middleware (a dozen hops a request), and give each request a new
thread, which opens a new database connection: on SQLite that costs about 1.4 ms, more than most
requests' queries. Here a request makes one trip to a thread of `RequestThreads` and back, and the
thread keeps its SQLite connection for the next request (a PostgreSQL one goes back to the
process's pool at the end of each request, as Django does).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Executor, Future

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.db import connection

from flowbench.connections import release_connection

__all__ = ["StudioHandler", "RequestThreads"]

# Threads that wait for the next request, each with its database connection; more than this many
# idle ones end (a burst of requests starts as many threads as it needs, none waits for another).
IDLE_THREADS = 16


class RequestThreads(Executor):
    """An executor whose threads outlive their work: a job goes to an idle thread, or to a new one
    when none is idle (so a long request never holds up another); at most `idle` threads wait."""

    def __init__(self, idle: int = IDLE_THREADS, name: str = "flowbench-request"):
        self._keep = idle
        self._name = name
        self._idle: list[queue.SimpleQueue] = []
        self._lock = threading.Condition()
        self._count = 0
        self._live = 0   # threads started and not ended

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        job = (future, fn, args, kwargs)
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
            if inbox is None:
                self._count += 1
                self._live += 1
                name = f"{self._name}-{self._count}"
        if inbox is not None:
            inbox.put(job)
        else:
            threading.Thread(target=self._serve, args=(job,), name=name, daemon=True).start()
        return future

    def _serve(self, job) -> None:
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        try:
            while job is not None:
                future, fn, args, kwargs = job
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args, **kwargs))
                    except BaseException as exc:
                        future.set_exception(exc)
                    finally:
                        release_connection()
                job = None
                if connection.in_atomic_block:
                    break   # a transaction left open (a bug): the thread ends, its connection closed
                with self._lock:
                    waiting = len(self._idle) < self._keep
                    if waiting:
                        self._idle.append(inbox)
                        self._lock.notify_all()
                if waiting:
                    job = inbox.get()
        finally:
            connection.close()
            with self._lock:
                self._live -= 1
                self._lock.notify_all()

    def settle(self, timeout: float) -> bool:
        """Waits until no thread is at work (each waits for a job or has ended); returns whether
        that happened within `timeout` seconds."""
        with self._lock:
            return self._lock.wait_for(lambda: self._live == len(self._idle), timeout)

    @property
    def idle(self) -> int:
        """Threads waiting for a job now."""
        with self._lock:
            return len(self._idle)


class StudioHandler(ASGIHandler):
    """Django's ASGI handler with its middleware chain built synchronous and each request's chain
    and view run in one call on a RequestThreads thread (see the module's docstring)."""

    def __init__(self):
        super().__init__()
        self.threads = RequestThreads()

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=False, executor=self.threads)(request)
