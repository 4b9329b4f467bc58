"""What a long-lived thread does with its database connection between two pieces of work."""

from __future__ import annotations

from django.db import connection

__all__ = ["release_connection"]


def release_connection() -> None:
    """Ends a thread's use of the database for now: a SQLite connection stays with the thread
    (opening one costs about 1.4 ms, more than most requests' or function calls' queries; an idle
    one holds no lock) unless it is broken; any other (pooled PostgreSQL) goes back to the
    process's pool. Inside a caller's transaction the connection stays, whatever it is."""
    if connection.connection is None or connection.in_atomic_block:
        return
    if (connection.vendor != "sqlite" or not connection.get_autocommit()
            or (connection.errors_occurred and not connection.is_usable())):
        connection.close()
