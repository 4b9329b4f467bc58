"""Django's SQLite backend with the writers of one process taking turns at a lock of their own.

SQLite lets one connection write at a time. A second writer waits in SQLite's busy handler, which
sleeps in growing steps (1, 2, 5, 10 ... 100 ms) between tries, so writers that arrive together
(twenty executions started at once, the executor's checkpoints beside them) queue up behind
sleeps far longer than the writes themselves: the process then manages some twenty writes a
second. Here every write transaction of the process (BEGIN IMMEDIATE) and every write outside one
first takes the database's write gate, a lock the next writer gets the moment the last one
commits; SQLite's own wait still serves between processes (`manage.py` commands beside the server).

A writer waits at most GATE_SECONDS (or the database's `timeout`, if shorter) for the gate; past
it, it goes on to SQLite's own wait (and its "database is locked" error), as without the gate: a
transaction that waits on another thread's write never deadlocks on the gate, and waits barely
longer than SQLite alone would make it.

Also: the write-ahead log (readers and the writer do not block each other) with synchronous=NORMAL,
which commits without an fsync of its own: a commit survives the process being killed (it is in
the log, handed to the operating system), and only a crash of the machine itself can lose the last
commits before a checkpoint (never corrupting the database).
"""

from __future__ import annotations

import threading

from django.db.backends.sqlite3 import base

_gates: dict[str, threading.Lock] = {}
_gates_lock = threading.Lock()
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")
GATE_SECONDS = 2.0


def _gate(name: str) -> threading.Lock:
    with _gates_lock:
        return _gates.setdefault(str(name), threading.Lock())


class GatedCursor(base.SQLiteCursorWrapper):
    """A cursor whose writes outside a transaction take the database's write gate."""

    db: "DatabaseWrapper"

    def execute(self, query, params=None):
        if self.db.holds_gate or self.db.in_atomic_block or query.lstrip()[:6].upper() not in WRITES:
            return super().execute(query, params)
        gate = self.db.gate
        taken = gate.acquire(timeout=self.db.gate_timeout)
        try:
            return super().execute(query, params)
        finally:
            if taken:
                gate.release()

    def executemany(self, query, param_list):
        if self.db.holds_gate or self.db.in_atomic_block:
            return super().executemany(query, param_list)
        gate = self.db.gate
        taken = gate.acquire(timeout=self.db.gate_timeout)
        try:
            return super().executemany(query, param_list)
        finally:
            if taken:
                gate.release()


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.holds_gate = False
        self._held: threading.Lock | None = None   # the gate this connection's transaction holds
        self.gate_timeout = min(GATE_SECONDS, float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5)))

    @property
    def gate(self) -> threading.Lock:
        return _gate(self.settings_dict["NAME"])

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=GatedCursor)
        cursor.db = self
        return cursor

    def _start_transaction_under_autocommit(self):
        gate = self.gate
        self.holds_gate = gate.acquire(timeout=self.gate_timeout)
        self._held = gate if self.holds_gate else None
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._open_gate()
            raise

    def _commit(self):
        try:
            super()._commit()
        finally:
            self._open_gate()

    def _rollback(self):
        try:
            super()._rollback()
        finally:
            self._open_gate()

    def _close(self):
        try:
            super()._close()
        finally:
            self._open_gate()

    def _open_gate(self):
        if self.holds_gate:
            self.holds_gate = False
            held, self._held = self._held, None
            held.release()
