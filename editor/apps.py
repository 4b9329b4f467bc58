from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_wal(sender, connection, **kwargs):
    """SQLite in write-ahead-log mode: pages and sockets read while executions write, without
    waiting for each other (a file setting, kept by the database once set)."""
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        connection.connection.execute("PRAGMA journal_mode = WAL")


def _give_account(sender, instance, created, raw=False, **kwargs):
    """Every new person is an AWS account of their own, however they were added (the admin,
    createsuperuser, `prepare`, a script): ARNs and access keys need its id from the start."""
    if created and not raw:
        from editor.services.accounts import ensure_account

        ensure_account(instance)


class EditorConfig(AppConfig):
    name = "editor"
    verbose_name = "Flowbench studio"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        connection_created.connect(_sqlite_wal, dispatch_uid="flowbench-sqlite-wal")
        from django.conf import settings
        from django.db.models.signals import post_save

        post_save.connect(_give_account, sender=settings.AUTH_USER_MODEL, dispatch_uid="flowbench-account")
        from editor.services import nested_executions, runs, task_invoker

        # Nested executions: a Task starts them; an execution's end closes its task tokens and
        # answers a waiting parent.
        task_invoker.start_child = nested_executions.start_child
        runs.execution_ended.connect(nested_executions.execution_ended, dispatch_uid="flowbench-nested-executions")
