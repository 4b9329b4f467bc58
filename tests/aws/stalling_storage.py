"""A file storage that stops half way through writing a blob whose bytes start with STALL: it
writes the first piece, leaves a `stalled` mark beside the blobs and waits on a FIFO no one ever
writes to, until the process is killed. The kill tests use it to kill a server mid-upload at a
known point, with nothing timed."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.files.storage import FileSystemStorage


class StallingStorage(FileSystemStorage):
    def _save(self, name, content):
        pieces = content.chunks()
        first = next(pieces, b"")
        if not first.startswith(b"STALL"):
            from django.core.files.base import ContentFile

            rest = b"".join(pieces)
            return super()._save(name, ContentFile(first + rest))
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(first)
            handle.flush()
        location = Path(self.location)
        never = location / "never-written"
        if not never.exists():
            os.mkfifo(never)
        (location / "stalled").write_text(name)
        with open(never, "rb") as fifo:   # blocks: no writer ever opens it
            fifo.read()
        raise RuntimeError("unreachable: the FIFO is never written")
