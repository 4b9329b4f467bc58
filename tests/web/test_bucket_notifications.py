"""Bucket notifications on the test database: a delivery and its invocation are written with the
change that calls for them, so a rolled-back change delivers nothing, a committed one once, and the
invocation is only started after the commit."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.db import transaction
from django.test import TestCase, override_settings

from editor.errors import ApiError
from editor.models import Invocation, NotificationDelivery
from editor.services import accounts, buckets, object_store, objects
from editor.services.notifications import set_notifications
from tests.web.base import TwoUsersMixin


class Deliveries(TwoUsersMixin, TestCase):
    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        settings = override_settings(DATA_DIR=Path(folder.name))
        settings.enable()
        self.addCleanup(settings.disable)
        object_store.storage.cache_clear()
        self.addCleanup(object_store.storage.cache_clear)
        self.make_users()
        self.function = self.make_function(name="on-upload", deploy=True)
        self.bucket = buckets.create_bucket(self.alice, "alice-in", "us-east-1")
        arn = accounts.function_arn(self.alice, "on-upload")
        set_notifications(self.bucket, [{"Id": "in", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}])

    def test_a_rolled_back_change_delivers_nothing(self):
        with self.captureOnCommitCallbacks(execute=False) as started:
            try:
                with transaction.atomic():
                    objects.put_object(self.bucket, "k", [b"x"])
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass
        self.assertEqual(NotificationDelivery.objects.count(), 0)
        self.assertEqual(Invocation.objects.count(), 0)
        self.assertEqual(started, [])

    def test_a_committed_change_is_delivered_once_and_started_after_the_commit(self):
        with self.captureOnCommitCallbacks(execute=False) as started:
            objects.put_object(self.bucket, "k", [b"x"])
        delivery = NotificationDelivery.objects.get()
        self.assertEqual((delivery.event_name, delivery.key, delivery.configuration_id), ("ObjectCreated:Put", "k", "in"))
        self.assertEqual(delivery.invocation.source, Invocation.Source.BUCKET)
        self.assertEqual(delivery.invocation.request["Records"][0]["s3"]["object"]["key"], "k")
        self.assertEqual(Invocation.objects.count(), 1)
        self.assertTrue(started)   # the invocation's dispatch waits for the commit

    def test_bobs_function_cannot_be_named_by_alices_bucket(self):
        arn = accounts.function_arn(self.bob, self.make_function(self.bob, name="bobs").name)
        with self.assertRaises(ApiError) as refused:
            set_notifications(self.bucket, [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}])
        self.assertEqual((refused.exception.code, refused.exception.field),
                         ("InvalidArgument", "/LambdaFunctionConfigurations/0/LambdaFunctionArn"))
        self.assertEqual([c["Id"] for c in buckets.owned_bucket(self.alice, "alice-in").notifications], ["in"])
