"""Bucket notifications on the test database: a delivery and its invocation are written with the
change that calls for them, so a rolled-back change delivers nothing, a committed one once, and the
invocation is only started after the commit."""

from __future__ import annotations

import json

from django.db import transaction
from django.test import TestCase

from editor.errors import ApiError
from editor.models import Execution, Invocation, NotificationDelivery
from editor.services import accounts, buckets, machines, objects, roles
from editor.services.notifications import set_machine_notifications, set_notifications
from tests.web.base import TwoUsersMixin
from tests.web.object_stores import TemporaryObjectStore


class Deliveries(TemporaryObjectStore, TwoUsersMixin, TestCase):
    def setUp(self):
        self.use_temporary_store()
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


class MachineDeliveries(TemporaryObjectStore, TwoUsersMixin, TestCase):
    """A change starts the bucket owner's state machine with EventBridge's event, in the change's
    transaction; another person's state machine cannot be named."""

    def setUp(self):
        self.use_temporary_store()
        self.make_users()
        for user, name in ((self.alice, "pipeline"), (self.bob, "bobs-pipeline")):
            roles.create_role(user, {"name": f"{name}-role"})
            machine = machines.create_machine(user, {"name": name, "type": "STANDARD", "role": f"{name}-role",
                                                     "definition": json.dumps({"StartAt": "P", "States": {
                                                         "P": {"Type": "Pass", "End": True}}})})
            machines.publish_version(machine)
        self.bucket = buckets.create_bucket(self.alice, "alice-pipeline", "us-east-1")

    def test_an_upload_under_the_prefix_starts_the_machine_with_eventbridges_event(self):
        kept = set_machine_notifications(self.bucket, [{"StateMachineArn": "pipeline", "Events": ["s3:ObjectCreated:*"],
                                                        "Filter": {"Key": {"FilterRules": [
                                                            {"Name": "prefix", "Value": "uploads/"}]}}}])
        self.assertEqual(kept[0]["StateMachineArn"], accounts.state_machine_arn(self.alice, "pipeline"))
        with self.captureOnCommitCallbacks(execute=False):
            objects.put_object(self.bucket, "elsewhere/x.jpg", [b"x"])
            objects.put_object(self.bucket, "uploads/cat.jpg", [b"meow"])
        execution = Execution.objects.get()
        event = json.loads(execution.input)
        self.assertEqual((event["source"], event["detail-type"], event["resources"]),
                         ("aws.s3", "Object Created", ["arn:aws:s3:::alice-pipeline"]))
        self.assertEqual(event["detail"]["object"]["key"], "uploads/cat.jpg")
        self.assertEqual((event["detail"]["object"]["size"], event["detail"]["reason"]), (4, "PutObject"))
        self.assertEqual(NotificationDelivery.objects.get().execution, execution)

    def test_a_rolled_back_upload_starts_nothing(self):
        set_machine_notifications(self.bucket, [{"StateMachineArn": "pipeline", "Events": ["s3:ObjectCreated:*"]}])
        try:
            with transaction.atomic():
                objects.put_object(self.bucket, "k", [b"x"])
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        self.assertEqual((Execution.objects.count(), NotificationDelivery.objects.count()), (0, 0))

    def test_another_persons_machine_is_refused_through_the_studio_api(self):
        bobs = accounts.state_machine_arn(self.bob, "bobs-pipeline")
        for named in (bobs, "bobs-pipeline", "no-such-machine"):
            response = self.call("PUT", "/api/buckets/alice-pipeline/notifications",
                                 {"state_machines": [{"StateMachineArn": named, "Events": ["s3:ObjectCreated:*"]}]})
            self.assertApiError(response, 400, "InvalidArgument", "/0/StateMachineArn")
        self.assertEqual(self.call("GET", "/api/buckets/alice-pipeline/notifications").data["state_machines"], [])
        refused = self.call("PUT", "/api/buckets/alice-pipeline/notifications", {"state_machines": []},
                            client=self.bob_client)
        self.assertEqual(refused.status_code, 403)
        saved = self.call("PUT", "/api/buckets/alice-pipeline/notifications", {"state_machines": [
            {"StateMachineArn": "pipeline", "Events": ["s3:ObjectRemoved:*"]}]})
        self.assertEqual([c["Events"] for c in saved.data["state_machines"]], [["s3:ObjectRemoved:*"]])
