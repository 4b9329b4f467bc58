"""Where objects' bytes live: one Django storage chosen by FLOWBENCH_OBJECT_STORAGE, holding blobs
under names of their own (never a key: a key names a row, a blob name is made here), so no key
can reach a path outside the store.

    name, size, md5 = save_blob(chunks, limit)   # the whole blob written, or nothing named
    for piece in read_blob(name, start, end): ...
    for piece in open_blob(name, start, end): ...   # opened now: a later overwrite cannot cut it off
    forget_blobs(names)                          # removed once the transaction that dropped them commits
    sweep_blobs(older_than)                      # what killed processes left: blobs no row names

A blob is written in full before any row names it; a process killed while writing leaves an
unnamed blob behind, never a half object in a listing.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import uuid
from collections.abc import Iterable, Iterator
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from editor.errors import ApiError

log = logging.getLogger(__name__)

PIECE = 1024 * 1024   # bytes read or kept at a time
__all__ = ["storage", "save_blob", "read_blob", "open_blob", "forget_blobs", "sweep_blobs", "DatabaseStorage",
           "TooLarge"]


class TooLarge(ApiError):
    def __init__(self, limit: int):
        super().__init__("EntityTooLarge", f"Your proposed upload exceeds the maximum allowed size ({limit} bytes).",
                         400)


@lru_cache(maxsize=1)
def storage() -> Storage:
    """Returns the object storage the settings choose."""
    choice = settings.FLOWBENCH_OBJECT_STORAGE
    if choice == "filesystem":
        return FileSystemStorage(location=settings.DATA_DIR / "objects", file_permissions_mode=0o600,
                                 directory_permissions_mode=0o700)
    if choice == "database":
        return DatabaseStorage()
    try:
        options = json.loads(settings.FLOWBENCH_OBJECT_STORAGE_OPTIONS)
        if not isinstance(options, dict):
            raise ValueError
        return import_string(choice)(**options)
    except (ImportError, ValueError, TypeError) as error:
        raise ImproperlyConfigured(f"FLOWBENCH_OBJECT_STORAGE must be 'filesystem', 'database' or the dotted path "
                                   f"of a Storage class taking FLOWBENCH_OBJECT_STORAGE_OPTIONS (a JSON object), "
                                   f"not {choice!r}: {error}") from None


class _Measured(File):
    """The pieces of a blob being saved, counted and hashed (MD5, S3's ETag) as the storage reads
    them; refused once they pass `limit` bytes."""

    def __init__(self, pieces: Iterable[bytes], limit: int):
        super().__init__(None, name="blob")
        self._pieces = iter(pieces)
        self._pending = b""
        self.limit = limit
        self.size_so_far = 0
        self.md5 = hashlib.md5()

    def _next(self) -> bytes:
        for piece in self._pieces:
            if piece:
                self.size_so_far += len(piece)
                if self.size_so_far > self.limit:
                    raise TooLarge(self.limit)
                self.md5.update(piece)
                return piece
        return b""

    def chunks(self, chunk_size=None) -> Iterator[bytes]:
        while True:
            piece = self._pending or self._next()
            self._pending = b""
            if not piece:
                return
            yield piece

    def read(self, size=-1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            piece = self._pending or self._next()
            self._pending = b""
            if not piece:
                break
            room = len(piece) if size < 0 else size - len(out)
            out += piece[:room]
            self._pending = piece[room:]
        return bytes(out)

    @property
    def size(self):
        return None

    def open(self, mode=None):
        return self

    def close(self):
        pass

    def __bool__(self):
        return True


def save_blob(pieces: Iterable[bytes], limit: int) -> tuple[str, int, str]:
    """Returns (blob name, size, MD5 hex) of the bytes `pieces` yields, written in full to the
    storage; raises TooLarge (and keeps nothing) past `limit` bytes."""
    name = f"blobs/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}"
    content = _Measured(pieces, limit)
    try:
        saved = storage().save(name, content)
    except BaseException:   # too large, or the client went away: no half blob is kept
        _delete_quietly(name)
        raise
    return saved, content.size_so_far, content.md5.hexdigest()


def read_blob(name: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Yields the bytes of the blob from `start` up to `end` (exclusive; None: its end)."""
    yield from open_blob(name, start, end)


def open_blob(name: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Returns the bytes of the blob from `start` up to `end` as read_blob does, from a handle
    opened now, with the first piece read already: a write that replaces the object and deletes
    this blob while the bytes are sent does not cut them off (an open file outlives its name; a
    blob in the database that fits one piece is read whole). Raises FileNotFoundError when the
    blob is gone already."""
    handle = storage().open(name, "rb")
    try:
        if start:
            handle.seek(start)
        left = None if end is None else end - start
        first = handle.read(PIECE if left is None else min(PIECE, left))
    except BaseException:
        handle.close()
        raise
    return _pieces(handle, first, None if left is None else left - len(first))


def _pieces(handle, first: bytes, left: int | None) -> Iterator[bytes]:
    with handle:
        piece = first
        while piece:
            yield piece
            if left is not None and left <= 0:
                return
            piece = handle.read(PIECE if left is None else min(PIECE, left))
            if left is not None:
                left -= len(piece)


def blob_pieces(names: Iterable[str]) -> Iterator[bytes]:
    """Yields the bytes of the blobs one after the other (a multipart upload's parts)."""
    for name in names:
        yield from read_blob(name)


def _delete_quietly(name: str) -> None:
    try:
        storage().delete(name)
    except Exception:   # a blob nobody names is only space: log it, never fail the request for it
        log.exception("could not delete the blob %s", name)


def forget_blobs(names: Iterable[str]) -> None:
    """Deletes the blobs once the current transaction commits (at once outside one), so a rolled
    back change still finds its bytes."""
    names = [n for n in names if n]
    if names:
        transaction.on_commit(lambda: [_delete_quietly(n) for n in names])


def _blob_names(folder: str = "blobs") -> Iterator[str]:
    folders, files = storage().listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for inner in folders:
        yield from _blob_names(f"{folder}/{inner}")


def sweep_blobs(older_than: timedelta) -> list[str]:
    """Deletes the blobs no object or part names that were written more than `older_than` ago
    (a process killed between writing a blob and naming it leaves one; a younger one may be
    about to be named); returns their names."""
    from editor.models import StoredObject, UploadedPart

    store = storage()
    try:
        found = list(_blob_names())
    except FileNotFoundError:
        return []
    named = set(StoredObject.objects.values_list("blob", flat=True)) | set(
        UploadedPart.objects.values_list("blob", flat=True))
    before = timezone.now() - older_than
    swept = [name for name in found if name not in named and store.get_modified_time(name) < before]
    for name in swept:
        _delete_quietly(name)
    return swept


class _ChunkReader(io.RawIOBase):
    """Reads a blob kept in the database, a chunk row at a time, seekable."""

    def __init__(self, name: str, size: int, chunk: int):
        self.name, self._size, self._chunk, self._position = name, size, chunk, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self):
        return self._position

    def readinto(self, buffer) -> int:
        from editor.models import BlobChunk

        if self._position >= self._size:
            return 0
        index, within = divmod(self._position, self._chunk)
        row = BlobChunk.objects.filter(name=self.name, index=index).values_list("data", flat=True).first()
        data = bytes(row or b"")[within:within + len(buffer)]
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)


class DatabaseStorage(Storage):
    """A Django storage keeping each file as numbered chunk rows (BlobChunk) in the database."""

    chunk = PIECE

    def _save(self, name, content):
        from editor.models import BlobChunk

        with transaction.atomic():
            index = 0
            buffer = b""
            for piece in content.chunks():
                buffer += piece
                while len(buffer) >= self.chunk:
                    BlobChunk.objects.create(name=name, index=index, data=buffer[:self.chunk])
                    buffer, index = buffer[self.chunk:], index + 1
            if buffer or index == 0:
                BlobChunk.objects.create(name=name, index=index, data=buffer)
        return name

    def _open(self, name, mode="rb"):
        if not self.exists(name):
            raise FileNotFoundError(name)
        return File(io.BufferedReader(_ChunkReader(name, self.size(name), self.chunk), PIECE), name=name)

    def exists(self, name):
        from editor.models import BlobChunk

        return BlobChunk.objects.filter(name=name).exists()

    def delete(self, name):
        from editor.models import BlobChunk

        BlobChunk.objects.filter(name=name).delete()

    def size(self, name):
        from django.db.models import Count, Max

        from editor.models import BlobChunk

        found = BlobChunk.objects.filter(name=name).aggregate(count=Count("id"), last=Max("index"))
        if not found["count"]:
            raise FileNotFoundError(name)
        last = BlobChunk.objects.get(name=name, index=found["last"])
        return found["last"] * self.chunk + len(bytes(last.data))

    def listdir(self, path):
        from editor.models import BlobChunk

        prefix = path.rstrip("/") + "/"
        folders, files = set(), set()
        for name in BlobChunk.objects.filter(name__startswith=prefix).values_list("name", flat=True).distinct():
            head, slash, _rest = name[len(prefix):].partition("/")
            (folders if slash else files).add(head)
        return sorted(folders), sorted(files)

    def get_modified_time(self, name):
        from editor.models import BlobChunk

        found = BlobChunk.objects.filter(name=name, index=0).values_list("created_at", flat=True).first()
        if found is None:
            raise FileNotFoundError(name)
        return found

    def url(self, name):
        raise NotImplementedError("objects are read through the AWS API or the studio, not by URL")
