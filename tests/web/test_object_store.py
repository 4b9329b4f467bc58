"""The object store and the object services on the test database: bytes saved whole or not at all,
the row naming them written only after, old bytes dropped only once the change commits, and the
database storage reading back any range of its chunks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from unittest import mock

from botocore.exceptions import ClientError
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from editor.errors import ApiError
from editor.models import BlobChunk, StoredObject
from editor.services import buckets, object_store, objects
from tests.web.object_stores import TemporaryObjectStore


class StoreCase(TemporaryObjectStore, TestCase):
    storage_choice = "filesystem"

    def setUp(self):
        self.data = self.use_temporary_store(FLOWBENCH_OBJECT_STORAGE=self.storage_choice,
                                             FLOWBENCH_OBJECT_MAX_BYTES=1000, FLOWBENCH_OBJECT_MAX_REQUEST_BYTES=1000)
        self.user = get_user_model().objects.create_user("ann")
        self.bucket = buckets.create_bucket(self.user, "ann-bucket", "us-east-1")

    def blobs(self) -> list[str]:
        return sorted(p.name for p in (self.data / "objects").rglob("*") if p.is_file())

    def put(self, key, pieces):
        with self.captureOnCommitCallbacks(execute=True):
            return objects.put_object(self.bucket, key, pieces)


class SweepMixin:
    """What a killed upload leaves (a blob no row names) is swept once old; named and young blobs stay."""

    def test_the_sweep_deletes_only_old_unnamed_blobs(self):
        self.put("kept", [b"named"])
        orphan, _size, _md5 = object_store.save_blob([b"left by a killed upload"], 1000)
        young, _size, _md5 = object_store.save_blob([b"about to be named"], 1000)
        self.assertEqual(object_store.sweep_blobs(timedelta(hours=1)), [])
        later = timezone.now() + timedelta(hours=2)
        store = object_store.storage()
        with mock.patch.object(type(store), "get_modified_time",
                               lambda _self, name: later - timedelta(hours=4) if name == orphan else later):
            self.assertEqual(object_store.sweep_blobs(timedelta(hours=1)), [orphan])
        self.assertFalse(store.exists(orphan))
        self.assertTrue(store.exists(young))
        kept = StoredObject.objects.get(key="kept")
        self.assertEqual(b"".join(object_store.read_blob(kept.blob)), b"named")


class OverwriteMixin:
    """Bytes opened before a write replaces their object are read whole; once deleted, they are gone."""

    def test_bytes_opened_before_an_overwrite_are_read_whole(self):
        first = self.put("room.json", [b'{"old": 1}'])
        body = object_store.open_blob(first.blob)
        middle = object_store.open_blob(first.blob, 2, 5)
        self.put("room.json", [b'{"new": 2}'])
        self.assertFalse(object_store.storage().exists(first.blob))
        self.assertEqual(b"".join(body), b'{"old": 1}')
        self.assertEqual(b"".join(middle), b'old')
        with self.assertRaises(FileNotFoundError):
            object_store.open_blob(first.blob)

    def test_get_object_looks_again_when_the_object_is_replaced_before_its_bytes_open(self):
        from editor.aws.providers.s3 import objects as provider
        from editor.services.access_keys import create_access_key
        from tests.aws.inprocess import aws_client

        key, secret = create_access_key(self.user)
        s3 = aws_client("s3", key.access_key_id, secret)
        self.put("room.json", [b'{"old": 1}'])
        real_open, opened = object_store.open_blob, []

        def replaced_first(name, start=0, end=None):
            if not opened:   # a write lands between the lookup and the opening of the bytes
                self.put("room.json", [b'{"new": 2}'])
            opened.append(name)
            return real_open(name, start, end)

        with mock.patch.object(provider, "open_blob", replaced_first):
            found = s3.get_object(Bucket="ann-bucket", Key="room.json")
        self.assertEqual(found["Body"].read(), b'{"new": 2}')
        self.assertEqual(found["ETag"], StoredObject.objects.get(key="room.json").etag)
        self.assertEqual(len(opened), 2)

        with mock.patch.object(provider, "open_blob", side_effect=FileNotFoundError("gone")):
            with self.assertRaises(ClientError) as refused:
                s3.get_object(Bucket="ann-bucket", Key="room.json")
        self.assertEqual(refused.exception.response["Error"]["Code"], "SlowDown")
        self.assertEqual(refused.exception.response["ResponseMetadata"]["HTTPStatusCode"], 503)


class FilesystemStore(OverwriteMixin, SweepMixin, StoreCase):
    def test_an_upload_cut_off_midway_leaves_the_old_object_and_no_blob(self):
        self.put("k", [b"old bytes"])
        before = self.blobs()

        def cut_off():
            yield b"new bytes, half of them"
            raise ConnectionResetError("the client went away")

        with self.assertRaises(ConnectionResetError):
            self.put("k", cut_off())
        self.assertEqual(self.blobs(), before)
        found = StoredObject.objects.get(bucket=self.bucket, key="k")
        self.assertEqual(b"".join(object_store.read_blob(found.blob)), b"old bytes")

    def test_an_object_over_the_limit_is_refused_and_nothing_is_kept(self):
        with self.assertRaises(ApiError) as refused:
            self.put("big", [b"x" * 600, b"y" * 600])
        self.assertEqual(refused.exception.code, "EntityTooLarge")
        self.assertEqual(self.blobs(), [])
        self.assertFalse(StoredObject.objects.filter(key="big").exists())

    def test_replaced_bytes_are_dropped_only_when_the_change_commits(self):
        self.put("k", [b"first"])
        first = StoredObject.objects.get(key="k").blob
        try:
            with transaction.atomic():
                objects.put_object(self.bucket, "k", [b"second"])
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        self.assertEqual(StoredObject.objects.get(key="k").blob, first)
        self.assertEqual(b"".join(object_store.read_blob(first)), b"first")
        self.put("k", [b"third"])
        self.assertEqual(len(self.blobs()), 2)   # the rolled-back "second" is unnamed; "first" is gone
        self.assertNotIn(Path(first).name, self.blobs())

    def test_a_refused_conditional_write_keeps_no_blob(self):
        self.put("k", [b"first"])
        before = self.blobs()
        with self.assertRaises(ApiError) as refused:
            with self.captureOnCommitCallbacks(execute=True):
                objects.put_object(self.bucket, "k", [b"second"], if_none_match="*")
        self.assertEqual(refused.exception.code, "PreconditionFailed")
        self.assertEqual(self.blobs(), before)

    def test_deleting_a_bucket_with_an_object_is_refused(self):
        self.put("k", [b"x"])
        with self.assertRaises(ApiError) as refused:
            buckets.delete_bucket(self.user, "ann-bucket")
        self.assertEqual(refused.exception.code, "BucketNotEmpty")


class DatabaseStore(OverwriteMixin, SweepMixin, StoreCase):
    storage_choice = "database"

    def test_the_database_storage_reads_any_range_across_its_chunks(self):
        store = object_store.DatabaseStorage()
        store.chunk = 7
        data = bytes(range(100))
        name = store.save("blobs/x", ContentFile(data))
        self.assertEqual(BlobChunk.objects.filter(name=name).count(), 15)
        self.assertEqual(store.size(name), 100)
        with store.open(name) as handle:
            handle.seek(5)
            self.assertEqual(handle.read(20), data[5:25])
            self.assertEqual(handle.read(), data[25:])
        store.delete(name)
        self.assertFalse(store.exists(name))
        empty = store.save("blobs/empty", ContentFile(b""))
        self.assertEqual((store.size(empty), store.open(empty).read()), (0, b""))

    def test_objects_go_to_chunk_rows_and_not_to_the_data_folder(self):
        self.put("k", [b"kept in the database"])
        found = StoredObject.objects.get(key="k")
        self.assertEqual(b"".join(object_store.read_blob(found.blob, 5, 8)), b"in ")
        self.assertFalse((self.data / "objects").exists())
        with self.captureOnCommitCallbacks(execute=True):
            objects.delete_object(self.bucket, "k")
        self.assertEqual(BlobChunk.objects.count(), 0)
