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
from editor.services.function_permissions import add_permission
from editor.services.notifications import set_machine_notifications, set_notifications
from tests.web.base import TwoUsersMixin
from tests.web.object_stores import TemporaryObjectStore


def allow_s3(function, bucket: str, account: str, sid: str = "s3") -> None:
    """Lets S3 invoke the function for the bucket, as `aws lambda add-permission` does."""
    add_permission(function, statement_id=sid, action="lambda:InvokeFunction", principal="s3.amazonaws.com",
                   source_arn=f"arn:aws:s3:::{bucket}", source_account=account)


class Deliveries(TemporaryObjectStore, TwoUsersMixin, TestCase):
    def setUp(self):
        self.use_temporary_store()
        self.make_users()
        self.function = self.make_function(name="on-upload", deploy=True)
        self.bucket = buckets.create_bucket(self.alice, "alice-in", "us-east-1")
        arn = accounts.function_arn(self.alice, "on-upload")
        allow_s3(self.function, "alice-in", accounts.account_id(self.alice))
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
            self.assertApiError(response, 400, "InvalidArgument", "/state_machines/0/StateMachineArn")
        self.assertEqual(self.call("GET", "/api/buckets/alice-pipeline/notifications").data["state_machines"], [])
        refused = self.call("PUT", "/api/buckets/alice-pipeline/notifications", {"state_machines": []},
                            client=self.bob_client)
        self.assertEqual(refused.status_code, 403)
        saved = self.call("PUT", "/api/buckets/alice-pipeline/notifications", {"state_machines": [
            {"StateMachineArn": "pipeline", "Events": ["s3:ObjectRemoved:*"]}]})
        self.assertEqual([c["Events"] for c in saved.data["state_machines"]], [["s3:ObjectRemoved:*"]])


class DestinationPermission(TemporaryObjectStore, TwoUsersMixin, TestCase):
    """S3 takes a function as a destination only when its resource-based policy lets
    s3.amazonaws.com invoke it for this bucket (SourceArn, SourceAccount as Lambda evaluates them);
    a delivery asks the policy again; the studio's form adds the statement itself."""

    def setUp(self):
        self.use_temporary_store()
        self.make_users()
        self.function = self.make_function(name="on-upload", deploy=True)
        self.bucket = buckets.create_bucket(self.alice, "alice-perm", "us-east-1")
        self.arn = accounts.function_arn(self.alice, "on-upload")
        self.account = accounts.account_id(self.alice)

    def configure(self):
        return set_notifications(self.bucket, [{"Id": "in", "LambdaFunctionArn": self.arn,
                                                "Events": ["s3:ObjectCreated:*"]}])

    def test_conditions_decide_as_lambda_evaluates_them(self):
        refusing = [
            dict(principal="s3.amazonaws.com", source_arn="arn:aws:s3:::another-bucket"),
            dict(principal="s3.amazonaws.com", source_account="000000000000"),
            dict(principal="sns.amazonaws.com"),
            dict(principal="s3.amazonaws.com", action="lambda:InvokeFunctionUrl"),
        ]
        for index, statement in enumerate(refusing):
            add_permission(self.function, statement_id=f"no{index}", action=statement.pop("action", "lambda:InvokeFunction"),
                           **statement)
            with self.assertRaises(ApiError) as refused:
                self.configure()
            self.assertEqual((refused.exception.code, refused.exception.field, refused.exception.refused),
                             ("InvalidArgument", "/LambdaFunctionConfigurations/0/LambdaFunctionArn",
                              [(self.arn, f"Not authorized to invoke function [{self.arn}]")]), statement)
        self.assertEqual(buckets.owned_bucket(self.alice, "alice-perm").notifications, [])
        add_permission(self.function, statement_id="wild", action="lambda:*", principal="s3.amazonaws.com",
                       source_arn="arn:aws:s3:::alice-*", source_account=self.account)
        self.assertEqual([c["Id"] for c in self.configure()], ["in"])

    def test_a_delivery_after_the_statement_is_removed_starts_nothing_and_says_why(self):
        allow_s3(self.function, "alice-perm", self.account)
        self.configure()
        from editor.services.function_permissions import remove_permission

        remove_permission(self.function, "s3")
        objects.put_object(self.bucket, "k", [b"x"])
        delivery = NotificationDelivery.objects.get()
        self.assertIsNone(delivery.invocation)
        self.assertIn("resource-based policy", delivery.error)
        self.assertEqual(Invocation.objects.count(), 0)

    def test_the_studio_form_adds_the_statement_and_names_refusals_by_pointer(self):
        saved = self.call("PUT", "/api/buckets/alice-perm/notifications", {"functions": [
            {"LambdaFunctionArn": "on-upload", "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}}}]})
        self.assertEqual(saved.status_code, 200, saved.content)
        self.assertEqual([c["LambdaFunctionArn"] for c in saved.data["configurations"]], [self.arn])
        statements = [p.statement for p in self.function.permissions.all()]
        self.assertEqual(len(statements), 1)
        self.assertEqual((statements[0]["Principal"], statements[0]["Condition"]),
                         ({"Service": "s3.amazonaws.com"}, {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::alice-perm"},
                                                            "StringEquals": {"AWS:SourceAccount": self.account}}))
        again = self.call("PUT", "/api/buckets/alice-perm/notifications", {"functions": saved.data["configurations"]})
        self.assertEqual(again.status_code, 200)
        self.assertEqual(self.function.permissions.count(), 1)   # allowed already: nothing added
        bobs = self.make_function(self.bob, name="bobs")
        for body, field in (
                ({"functions": [{"LambdaFunctionArn": "missing", "Events": ["s3:ObjectCreated:*"]}]},
                 "/functions/0/LambdaFunctionArn"),
                ({"functions": [{"LambdaFunctionArn": accounts.function_arn(self.bob, bobs.name),
                                 "Events": ["s3:ObjectCreated:*"]}]}, "/functions/0/LambdaFunctionArn"),
                ({"functions": [{"LambdaFunctionArn": "on-upload", "Events": ["s3:ObjectEaten"]}]},
                 "/functions/0/Events"),
                ({"functions": [{"LambdaFunctionArn": "on-upload:nope", "Events": ["s3:ObjectCreated:*"]}]},
                 "/functions/0/LambdaFunctionArn"),
                ({"functions": [{"LambdaFunctionArn": "on-upload", "Events": "s3:ObjectCreated:*"}]},
                 "/functions/0/Events"),
                ({"functions": [{"LambdaFunctionArn": "on-upload", "Events": ["s3:ObjectCreated:*"], "Id": ["x"]}]},
                 "/functions/0/Id"),
                ({"functions": [{"LambdaFunctionArn": "on-upload", "Events": ["s3:ObjectCreated:*"], "Filter": "in/"}]},
                 "/functions/0/Filter"),
                ({"functions": [{"LambdaFunctionArn": "on-upload", "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": {"Name": "prefix"}}}}]},
                 "/functions/0/Filter/Key/FilterRules"),
                ({"functions": [{"LambdaFunctionArn": "on-upload", "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": 3}]}}}]},
                 "/functions/0/Filter/Key/FilterRules/0"),
                ({"functions": [{"LambdaFunctionArn": ["on-upload"], "Events": ["s3:ObjectCreated:*"]}]},
                 "/functions/0/LambdaFunctionArn"),
                ({"functions": "on-upload"}, "functions"),
                ({"functions": [1]}, "functions"),
                ({}, "state_machines"),
                ({"functions": [], "state_machines": [{"StateMachineArn": "nope", "Events": ["s3:ObjectCreated:*"]}]},
                 "/state_machines/0/StateMachineArn")):
            self.assertApiError(self.call("PUT", "/api/buckets/alice-perm/notifications", body), 400, None, field)
        # Nothing half-written: the refused calls left the configuration and the policy as they were.
        kept = self.call("GET", "/api/buckets/alice-perm/notifications").data["configurations"]
        self.assertEqual([c["LambdaFunctionArn"] for c in kept], [self.arn])
        self.assertEqual(self.function.permissions.count(), 1)
        self.assertEqual(bobs.permissions.count(), 0)


class DeletedTargets(TemporaryObjectStore, TwoUsersMixin, TestCase):
    """A notification whose function or state machine is deleted stays, disabled with the reason
    and the time; its deliveries start nothing and say why; re-creating the target enables it."""

    def setUp(self):
        self.use_temporary_store()
        self.make_users()
        self.bucket = buckets.create_bucket(self.alice, "alice-gone", "us-east-1")
        roles.create_role(self.alice, {"name": "flow-role"})
        machines.create_machine(self.alice, {"name": "flow", "type": "STANDARD", "role": "flow-role", "definition":
                                             json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})})
        self.call("PUT", "/api/buckets/alice-gone/notifications", {
            "functions": [{"Id": "f", "LambdaFunctionArn": self.make_function(name="thumb", deploy=True).name,
                           "Events": ["s3:ObjectCreated:*"]}],
            "state_machines": [{"Id": "m", "StateMachineArn": "flow", "Events": ["s3:ObjectCreated:*"]}]})

    def state(self):
        return self.call("GET", "/api/buckets/alice-gone/notifications").data

    def test_deleting_the_targets_disables_their_notifications_and_recreating_enables_them(self):
        from editor.services.functions import delete_function, get_function

        delete_function(get_function(self.alice, "thumb"))
        machines.delete_machine(machines.get_machine(self.alice, "flow"))
        data = self.state()
        for configuration, what in ((data["configurations"][0], "function"), (data["state_machines"][0], "state machine")):
            self.assertIn(f"its target, the {what} ", configuration["Disabled"]["Reason"])
            self.assertIn("was deleted", configuration["Disabled"]["Reason"])
            self.assertTrue(configuration["Disabled"]["At"].endswith("Z"))
        objects.put_object(self.bucket, "after.jpg", [b"x"])
        deliveries = NotificationDelivery.objects.order_by("configuration_id")
        self.assertEqual([(d.configuration_id, d.invocation_id, d.execution_id) for d in deliveries],
                         [("f", None, None), ("m", None, None)])
        self.assertTrue(all("was deleted" in d.error for d in deliveries))
        self.assertEqual((Invocation.objects.count(), Execution.objects.count()), (0, 0))
        # The studio saves the list again (another row removed, say): the disabled one stays disabled.
        kept = self.call("PUT", "/api/buckets/alice-gone/notifications",
                         {"functions": data["configurations"], "state_machines": data["state_machines"]})
        self.assertEqual(kept.status_code, 200, kept.content)
        self.assertTrue(kept.data["configurations"][0]["Disabled"] and kept.data["state_machines"][0]["Disabled"])
        # S3's API does not show Flowbench's Disabled, and refuses the deleted function as a destination.
        from editor.services.notifications import public

        self.assertNotIn("Disabled", public(buckets.owned_bucket(self.alice, "alice-gone").notifications)[0])
        self.make_function(name="thumb", deploy=True)
        machines.create_machine(self.alice, {"name": "flow", "type": "STANDARD", "role": "flow-role"})
        data = self.state()
        self.assertNotIn("Disabled", data["configurations"][0])
        self.assertNotIn("Disabled", data["state_machines"][0])

    def test_another_persons_deletion_disables_nothing_of_alices(self):
        from editor.services.functions import delete_function

        delete_function(self.make_function(self.bob, name="thumb"))
        self.assertNotIn("Disabled", self.state()["configurations"][0])
