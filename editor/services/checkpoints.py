"""Checkpoints: a run's history events written in small batches under its lease, then broadcast.

The engine hands each event to the run's EventRecorder. A per-process Checkpointer thread writes
every run's new events in one transaction per run CHECKPOINT_DELAY after the first of them (group
commit), with the run's fencing token, then broadcasts them to the execution's group in one
message. Before a Task calls its function the run writes at once (`checkpoint`), so the history
says the call started before it happens. A process that dies loses at most those last
milliseconds, never a broadcast event: whoever resumes the execution continues from the stored
history, so ids stay contiguous and every transition happens once. A run whose token was taken
(another process resumed the execution), or whose executor was abandoned, writes nothing more.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from editor import messages
from editor.models import Execution, ExecutionEvent
from editor.services import leases
from editor.services.broadcast import broadcast, execution_group

__all__ = ["Abandoned", "EventRecorder", "CHECKPOINT_DELAY", "store_events", "stored_history"]

log = logging.getLogger(__name__)

EVENT_FIELDS = ("id", "previousEventId", "timestamp", "type")
# How long new events wait to be written with others (the group commit): the most a dying
# process can lose, and what it adds to the live view's latency.
CHECKPOINT_DELAY = 0.02


class Abandoned(BaseException):
    """This run no longer owns the execution: stop without writing (a BaseException, so that no
    `except Exception` on the way out of the engine swallows it)."""


class EventRecorder:
    """The engine's sink for one run: keeps each event until the Checkpointer writes it (with the
    run's fencing token) and broadcasts it.

    `fence` is the run's executor: once it is abandoned (its process acts as if it died), the run
    writes nothing more."""

    def __init__(self, execution_id, token: int, fence=None):
        self.execution_id = execution_id
        self.token = token
        self.group = execution_group(execution_id)
        self.fence = fence
        self.pending: list[dict] = []
        self.lost = False
        self._lock = threading.Lock()          # guards `pending`
        self._flush_lock = threading.Lock()    # one write of this run's events at a time, in order

    @property
    def alive(self) -> bool:
        """Whether this run still owns the execution (its lease held, its executor not abandoned)."""
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

    def seal(self) -> None:
        """Writes what is pending, then nothing more (the process hands the execution back while
        this run still goes on, such as inside a long function call)."""
        try:
            self.flush()
        except Abandoned:
            pass
        finally:
            self.lost = True

    def __call__(self, event: dict) -> None:
        self.check_alive()
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
                self._write(batch)
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
    """Inserts history events, their details encoded once by the engine's encoder (orjson): on
    PostgreSQL through COPY, elsewhere (SQLite) in one executemany. This write is most of what a
    worker does and stands between the engine and the live view: the ORM's bulk insert spent
    15 ms of a worker's CPU on a W4 execution's 405 events (COPY under 1 ms), and 11-14 ms of the
    embedded process's on SQLite (executemany 3 ms)."""
    from runtime.asl.execution import to_json

    # The execution's key as the backend stores it (SQLite: a UUID's 32 hex digits).
    key = ExecutionEvent._meta.get_field("execution").get_db_prep_value(execution_id, connection)
    rows = [(key, event["id"], event["type"], event["timestamp"], event["previousEventId"],
             to_json({k: v for k, v in event.items() if k not in EVENT_FIELDS})) for event in batch]
    names = ("execution", "event_id", "type", "timestamp", "previous_event_id", "details")
    columns = ", ".join(ExecutionEvent._meta.get_field(name).column for name in names)
    table = ExecutionEvent._meta.db_table
    with connection.wrap_database_errors, connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))})", rows)


def stored_history(execution_id) -> list[dict]:
    """Returns an execution's stored events, in id order."""
    return [e.as_event() for e in ExecutionEvent.objects.filter(execution_id=execution_id).order_by("event_id")]


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
_checkpointer_lock = threading.Lock()


def checkpointer() -> Checkpointer:
    global _checkpointer
    if _checkpointer is None:
        with _checkpointer_lock:
            if _checkpointer is None:
                _checkpointer = Checkpointer()
    return _checkpointer
