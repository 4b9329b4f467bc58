"""Buckets and schedules among what starts a function or a state machine: the function's trigger
boxes (the studio API its overview draws) gain a box "S3" per bucket notification naming it and a
box "EventBridge Scheduler" per schedule targeting it, disabled ones saying why; a state machine's
page lists the notifications and schedules that start it. Bob's never show on Alice's."""

from __future__ import annotations

import json

from django.test import TestCase

from editor.services import buckets, machines, roles, schedules
from editor.services.accounts import function_arn, role_arn, state_machine_arn
from tests.web.base import TwoUsersMixin
from tests.web.object_stores import TemporaryObjectStore

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


class Triggers(TemporaryObjectStore, TwoUsersMixin, TestCase):
    def setUp(self):
        self.use_temporary_store()
        self.make_users()
        self.make_function(name="thumb", deploy=True)
        roles.create_role(self.alice, {"name": "sched", "trusted": ["scheduler", "states"],
                                       "policy": {"Version": "2012-10-17", "Statement": [
                                           {"Effect": "Allow", "Action": ["lambda:InvokeFunction",
                                                                          "states:StartExecution"], "Resource": "*"}]}})
        machines.create_machine(self.alice, {"name": "flow", "type": "STANDARD", "role": "sched", "definition": PASS})
        buckets.create_bucket(self.alice, "alice-photos", "us-east-1")
        saved = self.call("PUT", "/api/buckets/alice-photos/notifications", {
            "functions": [{"Id": "jpegs", "LambdaFunctionArn": "thumb", "Events": ["s3:ObjectCreated:*"],
                           "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"},
                                                              {"Name": "suffix", "Value": ".jpg"}]}}}],
            "state_machines": [{"Id": "gone", "StateMachineArn": "flow", "Events": ["s3:ObjectRemoved:*"]}]})
        self.assertEqual(saved.status_code, 200, saved.content)
        for name, target in (("nightly", function_arn(self.alice, "thumb")),
                             ("weekly", state_machine_arn(self.alice, "flow"))):
            schedules.create_schedule(self.alice, name, {
                "ScheduleExpression": "cron(0 3 * * ? *)", "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {"Arn": target, "RoleArn": role_arn(self.alice, "sched")}})

    def boxes(self, name="thumb", client=None):
        response = self.call("GET", f"/api/functions/{name}/triggers", client=client)
        self.assertEqual(response.status_code, 200, response.content)
        return {t["kind"]: t for t in response.data["triggers"]}

    def test_the_function_shows_an_s3_box_and_a_scheduler_box(self):
        found = self.boxes()
        self.assertEqual(set(found), {"s3", "schedule"})
        s3, schedule = found["s3"], found["schedule"]
        self.assertEqual((s3["title"], s3["label"], s3["lines"], s3["href"], s3["disabled"]),
                         ("S3", "alice-photos", ["s3:ObjectCreated:*", "prefix: in/ · suffix: .jpg"],
                          "/buckets/alice-photos/", ""))
        self.assertEqual((schedule["title"], schedule["label"], schedule["lines"][0], schedule["disabled"]),
                         ("EventBridge Scheduler", "nightly", "cron(0 3 * * ? *)", ""))
        self.assertRegex(schedule["lines"][1], r"^ENABLED · next run \d{4}-\d\d-\d\d 03:00 UTC$")
        self.assertTrue(schedule["href"].startswith("/scheduler/#default/nightly"))

    def test_disabled_ones_say_why(self):
        schedules.set_state(self.alice, "nightly", None, "DISABLED")
        from editor.services import notifications

        notifications.target_deleted(self.alice, function_arn(self.alice, "thumb"), "function")
        found = self.boxes()
        self.assertIn("was deleted", found["s3"]["disabled"])
        self.assertEqual((found["schedule"]["lines"], found["schedule"]["disabled"]),
                         (["cron(0 3 * * ? *)", "DISABLED"], "The schedule is disabled."))

    def test_the_machine_page_lists_what_starts_it(self):
        page = self.client.get("/state-machines/flow/")
        self.assertContains(page, 'id="machine-triggers"')
        self.assertContains(page, 'data-kind="s3"')
        self.assertContains(page, "alice-photos")
        self.assertContains(page, "s3:ObjectRemoved:*")
        self.assertContains(page, 'data-kind="schedule"')
        self.assertContains(page, "weekly")
        self.assertNotContains(page, "nightly")

    def test_bob_sees_none_of_alices(self):
        self.make_function(self.bob, name="thumb")
        self.assertEqual(self.boxes(client=self.bob_client), {})
        self.assertEqual(self.call("GET", "/api/functions/thumb/triggers", client=self.bob_client).data["triggers"], [])
