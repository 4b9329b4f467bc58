"""`manage.py load_samples [--user NAME] [--apps]`: the seed's sample functions (deployed), the sample
role and the youth football training state machine, for one user; with --apps also the seed's apps
(editor.samples.apps), waiting for their functions' packages to install."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from editor.services.samples import finish_app_installs, load_sample_apps, load_sample_machine, load_samples


class Command(BaseCommand):
    help = ("Creates the sample functions (team picker, football trainings), the sample role and the seed's "
            "state machine a user does not have yet.")

    def add_arguments(self, parser):
        parser.add_argument("--user", help="username (default: the first administrator)")
        parser.add_argument("--apps", action="store_true",
                            help="also the seed's apps (photo proxies, crawler, ...): what the Samples page loads")

    def handle(self, *args, **options):
        User = get_user_model()
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user called {options['user']!r}.")
        else:
            user = User.objects.filter(is_superuser=True).order_by("pk").first()
            if user is None:
                raise CommandError("No administrator yet: run `manage.py prepare` first.")
        created = load_samples(user) + load_sample_machine(user)
        if options["apps"]:
            created += load_sample_apps(user)
        self.stdout.write(f"Loaded for {user.username}: {', '.join(created) or 'nothing new'}.")
        if options["apps"]:
            finish_app_installs(user, self.stdout)
