from django.apps import AppConfig


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
        from django.conf import settings
        from django.db.models.signals import post_save

        post_save.connect(_give_account, sender=settings.AUTH_USER_MODEL, dispatch_uid="flowbench-account")
        from editor.services import nested_executions, runs, task_invoker

        # Nested executions: a Task starts them; an execution's end closes its task tokens and
        # answers a waiting parent.
        task_invoker.start_child = nested_executions.start_child
        runs.execution_ended.connect(nested_executions.execution_ended, dispatch_uid="flowbench-nested-executions")
        from editor.services import map_runs

        # Distributed Maps: the Map starts its run; a child's end advances it; a parent's stops it.
        task_invoker.map_runs = map_runs
        runs.execution_ended.connect(map_runs.execution_ended, dispatch_uid="flowbench-map-runs")
