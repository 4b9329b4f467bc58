from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_wal(sender, connection, **kwargs):
    """SQLite in write-ahead-log mode: pages and sockets read while executions write, without
    waiting for each other (a file setting, kept by the database once set)."""
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        connection.connection.execute("PRAGMA journal_mode = WAL")


class EditorConfig(AppConfig):
    name = "editor"
    verbose_name = "Flowbench studio"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        connection_created.connect(_sqlite_wal, dispatch_uid="flowbench-sqlite-wal")
