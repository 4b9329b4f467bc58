"""`manage.py prepare`: migrate, create the administrator and samples on first run, print a sign-in link."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from editor import services
from editor.services.runner import sandbox_summary
from editor.services.samples import load_sample_machine, load_samples


class Command(BaseCommand):
    help = "Migrates the database, creates the administrator and samples on first run, prints a sign-in link."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        admin, created = services.ensure_administrator()
        if created:
            names = load_samples(admin) + load_sample_machine(admin)
            self.stdout.write(f"Created the administrator {admin.username!r} and samples: {', '.join(names) or 'none'}.")
        token = services.create_signin_link(admin)
        hours = settings.FLOWBENCH_SIGNIN_LINK_SECONDS // 3600
        self.stdout.write("")
        self.stdout.write("Flowbench is starting. Sign in (link works once, for %d h):" % hours)
        self.stdout.write(f"    {settings.FLOWBENCH_BASE_URL}/login/{token}")
        self.stdout.write("Set a password for username/password sign-in: manage.py changepassword "
                          f"{admin.username}")
        self.stdout.write(sandbox_summary())
        self.stdout.write("")
