from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _shared_memory_sqlite(sender, connection, **kwargs):
    """The test database is SQLite in shared-cache memory, where a reader and a writer on two threads
    refuse each other at once (SQLITE_LOCKED, no busy wait). Executions write from the executor's
    threads while requests and sockets read: let readers read without table locks there. A file
    database (every real install) waits on its busy timeout instead."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        connection.connection.execute("PRAGMA read_uncommitted = 1")


class EditorConfig(AppConfig):
    name = "editor"
    verbose_name = "Flowbench studio"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        connection_created.connect(_shared_memory_sqlite, dispatch_uid="flowbench-shared-memory-sqlite")
