"""`manage.py sweep_blobs [--hours N]`: deletes the object bytes no object or upload part names."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from editor.services.object_store import sweep_blobs


class Command(BaseCommand):
    help = ("Deletes the blobs of the object store that no object or multipart part names and that were "
            "written more than --hours ago (1): what a process killed while uploading leaves behind.")

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=1.0)

    def handle(self, *args, **options):
        swept = sweep_blobs(timedelta(hours=options["hours"]))
        self.stdout.write(f"{len(swept)} unnamed blob{'' if len(swept) == 1 else 's'} deleted")
