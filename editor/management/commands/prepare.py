"""`manage.py prepare`: migrate, create the administrator and samples on first run, print a sign-in link."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from editor import services
from editor.services.runner import install_function_sdks, sandbox_summary
from editor.services.samples import finish_app_installs, load_sample_apps, welcome


class Command(BaseCommand):
    help = "Migrates the database, creates the administrator and samples on first run, prints a sign-in link."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        admin, created = services.ensure_administrator()
        if created:
            names = welcome(admin)
            if settings.FLOWBENCH_SAMPLE_APPS:
                names += load_sample_apps(admin)
            self.stdout.write(f"Created the administrator {admin.username!r} and samples: {', '.join(names) or 'none'}.")
            if settings.FLOWBENCH_SAMPLE_APPS:
                finish_app_installs(admin, self.stdout)
        token = services.create_signin_link(admin)
        hours = settings.FLOWBENCH_SIGNIN_LINK_SECONDS // 3600
        database = settings.DATABASES["default"]
        where = database["NAME"] if database["ENGINE"] == "flowbench.sqlite" else \
            f"{database['NAME']} on {database['HOST'] or 'localhost'}"
        self.stdout.write(f"The database ({where}) is ready: its migrations are applied.")
        self.stdout.write("")
        self.stdout.write("Once the web server runs, sign in with this link (it works once, for %d h):" % hours)
        self.stdout.write(f"    {settings.FLOWBENCH_BASE_URL}/login/{token}")
        self.stdout.write("Set a password for username/password sign-in: manage.py changepassword "
                          f"{admin.username}")
        self.stdout.write(sandbox_summary())
        self.stdout.write(install_function_sdks())
        self.stdout.write("")
        next_steps = "Next, start the web server (`make run` starts it after this)"
        if settings.FLOWBENCH_EXECUTOR == "celery":
            next_steps += " and the Celery workers that run executions and functions"
        self.stdout.write(next_steps + ": README, \"Running on several machines\".")
