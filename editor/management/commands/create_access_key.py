"""`manage.py create_access_key USER`: a new access key for USER, printed as two lines to export."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from editor.errors import ApiError
from editor.services.access_keys import create_access_key


class Command(BaseCommand):
    help = ("Creates an access key for USER and prints AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... "
            "(the secret is shown this once). A person has at most two keys.")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"There is no user called {options['username']!r}.")
        try:
            key, secret = create_access_key(user)
        except ApiError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"AWS_ACCESS_KEY_ID={key.access_key_id}")
        self.stdout.write(f"AWS_SECRET_ACCESS_KEY={secret}")
