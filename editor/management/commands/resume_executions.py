"""`manage.py resume_executions`: continues the executions a stopped process left RUNNING.

The web process does this itself when a server first runs it. With FLOWBENCH_EXECUTOR=celery the
workers need no command: their lease keepers resume every execution whose lease ran out."""

from django.core.management.base import BaseCommand

from editor.services.executor import get_executor, resume_running_executions


class Command(BaseCommand):
    help = "Continues every RUNNING execution from its stored events."

    def add_arguments(self, parser):
        parser.add_argument("--wait", action="store_true", help="with the thread executor, wait for them to end")

    def handle(self, *args, **options):
        ids = resume_running_executions()
        self.stdout.write(f"Resumed {len(ids)} execution(s).")
        if options["wait"]:
            for execution_id in ids:
                get_executor().wait(execution_id, timeout=None)
