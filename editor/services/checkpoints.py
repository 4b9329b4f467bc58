"""Checkpoints: a run's history events written in small batches under its lease, then broadcast.

The engine hands each event to the run's EventRecorder. A per-process Checkpointer thread writes
every run's new events CHECKPOINT_DELAY after the first of them (group commit), with the run's
fencing token, then broadcasts them to the execution's group in one message. Before a Task calls
its function the run writes at once (`checkpoint`), so the history says the call started before it
happens. A process that dies loses at most those last milliseconds, never a broadcast event:
whoever resumes the execution continues from the stored history, so ids stay contiguous and every
transition happens once. A run whose token was taken (another process resumed the execution), or
whose executor was abandoned, writes nothing more.

Other rows of a run go into the same transactions (`also`): its Task's Invocation, inserted with
the checkpoint before the call, and how the call ended, with the next events. And the runs of a
process that write at the same moment share one transaction on SQLite (GroupCommit): the first
writes its own events and everything queued while it did, each run's part under its own fencing
token. SQLite has one writer at a time, so thirty runs checkpointing before their Tasks cost a
few commits, not thirty turns at the write lock.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from editor import messages
from editor.models import Execution, ExecutionEvent
from editor.services import leases
from editor.services.broadcast import broadcast, execution_group
from flowbench.connections import release_connection

__all__ = ["Abandoned", "EventRecorder", "RowUpdate", "CHECKPOINT_DELAY", "store_events", "stored_history",
           "update_where"]

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

    def __init__(self, execution_id, token: int, fence=None, entered: int = 0):
        self.execution_id = execution_id
        self.token = token
        # States entered in the execution's history: `entered` stored before this run, and each
        # one this run records (the execution's transitions, stored with its end).
        self.entered = entered
        self.group = execution_group(execution_id)
        self.fence = fence
        self.pending: list[dict] = []
        # Writes of other rows to make in the transaction of the next events ((write, kept): a
        # kept one is made on its own if the run loses the execution before then).
        self.writes: list[tuple] = []
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
        self.check_alive()   # (another thread's write of this run may have found the lease taken)

    def also(self, write, *, kept: bool = False) -> None:
        """Makes `write()` (database writes), or inserts `write` if it is a new model instance
        (those of one group commit in one statement), in the transaction of the run's next events,
        under its lease, within CHECKPOINT_DELAY. `kept`: it stands whoever runs the execution (how
        a function call ended), so if the run lost the execution it is made on its own instead."""
        with self._lock:
            self.writes.append((write, kept))
        checkpointer().mark(self)

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
            if event["type"].endswith("StateEntered"):
                self.entered += 1
        checkpointer().mark(self)

    def flush(self) -> None:
        """Writes the events not yet written, then broadcasts them; raises Abandoned (and writes
        nothing) when the run no longer holds the execution's lease."""
        if not self._flush_lock.acquire(blocking=False):
            # Another thread of the run writes. Its write may need a connection of the process's
            # pool (PostgreSQL): waiting for it while holding one could leave none to write with.
            release_connection()
            self._flush_lock.acquire()
        try:
            self._flush_locked()
        finally:
            self._flush_lock.release()

    def _flush_locked(self) -> None:
        """flush(), its caller holding the run's flush lock."""
        with self._lock:
            batch, self.pending = self.pending, []
            writes, self.writes = self.writes, []
        if not batch and not writes:
            return
        try:
            if self.lost:
                raise Abandoned()
            self._write(batch, writes)
        except (Abandoned, IntegrityError):
            self.lost = True
            _write_kept(writes)
            raise Abandoned() from None
        except DatabaseError:
            self.lost = True
            connection.close()
            raise
        if batch:
            broadcast(self.group, messages.events_group_message(batch))

    def _write(self, batch: list[dict], writes: list[tuple]) -> None:
        group_commit.write(_Flush(self, batch, writes))


class _Flush:
    """One run's part of a group commit, and how its write went (`error`: None if written)."""

    __slots__ = ("recorder", "batch", "writes", "error", "done")

    def __init__(self, recorder: EventRecorder, batch: list[dict], writes: list[tuple]):
        self.recorder, self.batch, self.writes = recorder, batch, writes
        self.error: BaseException | None = None
        self.done = False


class GroupCommit:
    """Writes the flushes of the process's runs that arrive together in one transaction."""

    def __init__(self):
        self.condition = threading.Condition()
        self.queue: list[_Flush] = []
        self.writing = False

    def write(self, flush: _Flush) -> None:
        """Writes `flush` (with whatever others queue meanwhile); raises Abandoned when its run
        no longer holds the execution's lease, or what the database raised."""
        if connection.in_atomic_block or connection.vendor != "sqlite":
            # Inside a caller's transaction: written there (another connection would not see it).
            # On PostgreSQL (many writers at once) each run writes its own: a run waiting for
            # another's write would hold a connection of the process's pool, which has fewer
            # connections than the process has threads.
            _write_together([flush])
        else:
            with self.condition:
                self.queue.append(flush)
                while not flush.done:
                    if self.writing:   # another run's thread writes: this flush goes in the next group
                        self.condition.wait()
                        continue
                    group, self.queue, self.writing = self.queue, [], True
                    self.condition.release()
                    try:
                        _write_group(group)
                    finally:
                        self.condition.acquire()
                        self.writing = False
                        for done in group:
                            done.done = True
                        self.condition.notify_all()
        if flush.error is not None:
            raise flush.error


def _write_group(group: list[_Flush]) -> None:
    """Writes the flushes in one transaction; if that fails, each in its own, so that one run's
    trouble (the duplicate events of a run that lost its lease) stays that run's."""
    if len(group) > 1:
        try:
            _write_together(group)
            return
        except DatabaseError:
            pass
        except BaseException as exc:   # nothing was written: every run of the group hears why
            for flush in group:
                flush.error = exc
            return
    for flush in group:
        try:
            _write_together([flush])
        except Exception as exc:
            flush.error = exc


def _write_together(group: list[_Flush]) -> None:
    """Writes the flushes' events and other writes in one transaction, for the runs whose lease
    (fencing token) still holds; each of the others gets Abandoned as its error."""
    with transaction.atomic():
        held = _renew_leases(group)
        rows, inserts, updates = [], {}, []
        for flush in group:
            if _key(flush.recorder.execution_id) not in held:
                flush.error = Abandoned()
                continue
            flush.error = None
            rows += _event_rows(flush.recorder.execution_id, flush.batch)
            for write, _kept in flush.writes:
                if isinstance(write, Model):
                    inserts.setdefault(type(write), []).append(write)
                elif isinstance(write, RowUpdate):
                    updates.append(write)
        store_rows(rows)
        for model, objects in inserts.items():
            _insert_rows(model, objects)
        _update_rows(updates)
        for flush in group:
            if flush.error is None:
                for write, _kept in flush.writes:
                    if not isinstance(write, (Model, RowUpdate)):
                        write()


group_commit = GroupCommit()


class RowUpdate:
    """New values of some fields of one row, for a run's next write (`EventRecorder.also`): the
    updates of one group commit that set the same fields of the same model go in one statement."""

    __slots__ = ("model", "pk", "fields")

    def __init__(self, model, pk, fields: dict):
        self.model, self.pk, self.fields = model, pk, fields

    def __call__(self) -> None:
        """Makes the update on its own."""
        update_where(self.model, self.fields, {self.model._meta.pk.name: self.pk})


_inserts: dict[tuple, tuple] = {}   # (model, backend) -> (INSERT statement, its fields)


def _insert_rows(model, objects: list) -> None:
    """Inserts new instances of `model` in one executemany, each field as the ORM's insert stores
    it (pre_save, then get_db_prep_save); those without a primary key yet (a database-made one)
    through bulk_create. (bulk_create builds its statement anew each time: that took longer than
    the write of a Task's Invocation.)"""
    if any(obj.pk is None for obj in objects):
        model.objects.bulk_create(objects)
        return
    found = _inserts.get((model, connection.vendor))
    if found is None:
        fields = list(model._meta.concrete_fields)
        quote = connection.ops.quote_name
        found = _inserts[(model, connection.vendor)] = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})", fields)
    sql, fields = found
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
                                 for obj in objects])
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias


def _update_rows(updates: list[RowUpdate]) -> None:
    """Makes row updates, one executemany per model and set of fields, with each value as the
    ORM's update() would store it (Field.get_db_prep_save)."""
    alike: dict[tuple, list[RowUpdate]] = {}
    for update in updates:
        alike.setdefault((update.model, tuple(update.fields)), []).append(update)
    for (model, names), batch in alike.items():
        sql, fields, (pk,) = _update_statement(model, names, (model._meta.pk.name,))
        with connection.cursor() as cursor:
            cursor.executemany(sql, [[f.get_db_prep_save(u.fields[f.name], connection) for f in fields]
                                     + [pk.get_db_prep_value(u.pk, connection)] for u in batch])


def update_where(model, values: dict, where: dict) -> int:
    """Sets `values` (field name -> value, each stored as the ORM's update() stores it) on the
    rows of `model` whose fields equal those of `where`; returns how many rows changed. One
    prepared statement per model and set of names (the ORM's update built its query anew each
    time, and ending an execution is one of every run's writes)."""
    sql, fields, keys = _update_statement(model, tuple(values), tuple(where))
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    params += [f.get_db_prep_value(where[f.name], connection) for f in keys]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


_updates: dict[tuple, tuple] = {}   # (model, names set, names compared, backend) -> (statement, fields, keys)


def _update_statement(model, names: tuple, where: tuple) -> tuple:
    """Returns (UPDATE statement, the fields it sets, the fields its WHERE compares, in order)."""
    found = _updates.get((model, names, where, connection.vendor))
    if found is None:
        quote = connection.ops.quote_name
        fields = [model._meta.get_field(name) for name in names]
        keys = [model._meta.get_field(name) for name in where]
        found = _updates[(model, names, where, connection.vendor)] = (
            f"UPDATE {quote(model._meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} "
            f"WHERE {' AND '.join(f'{quote(f.column)} = %s' for f in keys)}", fields, keys)
    return found


def _key(execution_id):
    """An execution's primary key as the database stores it (SQLite: a UUID's 32 hex digits)."""
    return Execution._meta.pk.get_db_prep_value(execution_id, connection)


def _renew_leases(group: list[_Flush]) -> set:
    """Renews the lease of each flush's execution whose fencing token still holds (inside the
    group's transaction); returns the keys (see `_key`) of those. In SQL of its own: the ORM took
    longer to build these two statements than the database to run them, and every Task writes."""
    table, until = Execution._meta.db_table, timezone.now() + timedelta(seconds=leases.lease_seconds())
    keys = [(_key(flush.recorder.execution_id), flush.recorder.token) for flush in group]
    leased = " OR ".join(["(id = %s AND lease_token = %s)"] * len(keys))
    params = [value for pair in keys for value in pair]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET lease_until = %s WHERE {leased}",
                       [connection.ops.adapt_datetimefield_value(until), *params])
        if len(keys) == 1:
            return {keys[0][0]} if cursor.rowcount else set()
        # (the rows renewed stay locked, their tokens as they are, until the commit)
        cursor.execute(f"SELECT id FROM {table} WHERE {leased}", params)
        return {row[0] for row in cursor.fetchall()}


def _write_kept(writes: list[tuple]) -> None:
    """Makes the kept writes of a run that lost its execution, each on its own."""
    for write, kept in writes:
        if kept:
            try:
                with transaction.atomic():
                    write.save(force_insert=True) if isinstance(write, Model) else write()
            except DatabaseError:
                log.exception("a write of a run that lost its execution failed")


def _event_rows(execution_id, batch: list[dict]) -> list[tuple]:
    """Returns the rows of history events as store_rows takes them: the execution's key as the
    backend stores it (SQLite: a UUID's 32 hex digits), the event's id, type, timestamp and
    previous id, and its details encoded once by the engine's encoder (orjson)."""
    from runtime.asl.execution import to_json

    key = _key(execution_id)
    return [(key, event["id"], event["type"], event["timestamp"], event["previousEventId"],
             to_json({k: v for k, v in event.items() if k not in EVENT_FIELDS})) for event in batch]


def store_events(execution_id, batch: list[dict]) -> None:
    """Inserts history events of one execution."""
    store_rows(_event_rows(execution_id, batch))


def store_rows(rows: list[tuple]) -> None:
    """Inserts history events, as _event_rows makes them: on PostgreSQL through COPY, elsewhere
    (SQLite) in one executemany. This write is most of what a worker does and stands between the
    engine and the live view: the ORM's bulk insert spent 15 ms of a worker's CPU on a W4
    execution's 405 events (COPY under 1 ms), and 11-14 ms of the embedded process's on SQLite
    (executemany 3 ms)."""
    if not rows:
        return
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
