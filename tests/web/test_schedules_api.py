"""The studio's JSON API for schedules (/api/schedules): create with field errors named as the
Scheduler's members, list with next runs and fires, replace, enable/disable, delete, and Bob never
reaching Alice's schedules; the embedded process's lease keeper runs the firing every second."""

from __future__ import annotations

import threading
from editor.models import Schedule
from editor.services import roles
from editor.services.accounts import function_arn, role_arn
from editor.services.leases import Keeper
from tests.web.base import WebTestCase


class SchedulesApiTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.make_function(name="tick", deploy=True)
        roles.create_role(self.alice, {"name": "sched", "trusted": ["scheduler"]})

    def body(self, **more):
        return {"Name": "hourly", "ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {"Arn": function_arn(self.alice, "tick"), "RoleArn": role_arn(self.alice, "sched")}, **more}

    def test_a_schedule_is_created_listed_replaced_switched_and_deleted(self):
        created = self.call("POST", "/api/schedules", self.body(Description="every hour"))
        self.assertEqual(created.status_code, 201, created.content)
        self.assertEqual(created.data["State"], "ENABLED")
        self.assertEqual(len(created.data["next_runs"]), 3)
        self.assertEqual(created.data["target_link"], "/functions/tick/")
        self.assertEqual(created.data["fires"], [])
        listed = self.call("GET", "/api/schedules").data
        self.assertEqual([s["name"] for s in listed["schedules"]], ["hourly"])
        self.assertEqual([f["name"] for f in listed["choices"]["functions"]], ["tick"])
        self.assertIn("sched", [r["name"] for r in listed["choices"]["roles"]])

        replaced = self.call("PUT", "/api/schedules/default/hourly", self.body(ScheduleExpression="rate(2 hours)"))
        self.assertEqual((replaced.status_code, replaced.data["ScheduleExpression"], replaced.data["Description"]),
                         (200, "rate(2 hours)", ""))
        off = self.call("POST", "/api/schedules/default/hourly/state", {"State": "DISABLED"})
        self.assertEqual((off.data["State"], off.data["next_runs"]), ("DISABLED", []))
        self.assertIsNone(Schedule.objects.get(name="hourly").next_fire_at)
        on = self.call("POST", "/api/schedules/default/hourly/state", {"State": "ENABLED"})
        self.assertEqual(len(on.data["next_runs"]), 3)
        self.assertEqual(self.call("DELETE", "/api/schedules/default/hourly").status_code, 204)
        self.assertApiError(self.call("GET", "/api/schedules/default/hourly"), 404, "ResourceNotFound")

    def test_refusals_name_the_member(self):
        cases = [
            (self.body(ScheduleExpression="cron(0 9 ? * MON-FRI)"), "ScheduleExpression", "6 fields"),
            (self.body(ScheduleExpression="cron(0 9 ? JUNE * *)"), "ScheduleExpression", "character 12"),
            (self.body(ScheduleExpressionTimezone="Europe/Nowhere"), "ScheduleExpressionTimezone", "IANA"),
            (self.body(Target={"Arn": function_arn(self.alice, "missing"), "RoleArn": role_arn(self.alice, "sched")}),
             "Target.Arn", "missing"),
            (self.body(Target={"Arn": function_arn(self.alice, "tick"), "RoleArn": role_arn(self.alice, "sched"),
                               "Input": "[1,"}), "Target.Input", "line 1"),
            (self.body(StartDate="tomorrow"), "StartDate", "date"),
            (self.body(Name="no spaces"), "Name", "letters"),
            (self.body(Bogus=1), "Bogus", "Unknown"),
            (self.body(ScheduleExpression="rate(" + "1" * 300 + " minutes)"), "ScheduleExpression", "256"),
            (self.body(Target={"Arn": "a" * 2000, "RoleArn": role_arn(self.alice, "sched")}), "Target.Arn", "1600"),
            (self.body(Target={"Arn": function_arn(self.alice, "tick"), "RoleArn": 7}), "Target.RoleArn", "ARN"),
            *[(self.body(Target={"Arn": function_arn(self.alice, "tick"), "RoleArn": role_arn(self.alice, "sched"),
                                 "RetryPolicy": policy}), f"Target.RetryPolicy.{member}", words)
              for policy, member, words in (
                  ({"MaximumRetryAttempts": 186}, "MaximumRetryAttempts", "from 0 to 185"),
                  ({"MaximumRetryAttempts": -1}, "MaximumRetryAttempts", "from 0 to 185"),
                  ({"MaximumRetryAttempts": "3"}, "MaximumRetryAttempts", "whole number"),
                  ({"MaximumEventAgeInSeconds": 59}, "MaximumEventAgeInSeconds", "from 60 to 86400"),
                  ({"MaximumEventAgeInSeconds": 86401}, "MaximumEventAgeInSeconds", "from 60 to 86400"),
                  ({"MaximumEventAgeInSeconds": 600.5}, "MaximumEventAgeInSeconds", "whole number"),
                  ({"Attempts": 3}, "Attempts", "not a member"))],
        ]
        for body, field, words in cases:
            with self.subTest(field=field):
                refused = self.call("POST", "/api/schedules", body)
                self.assertApiError(refused, 400, field=field)
                self.assertIn(words, refused.data["error"]["message"])
        self.assertFalse(Schedule.objects.exists())
        self.call("POST", "/api/schedules", self.body())
        self.assertApiError(self.call("POST", "/api/schedules", self.body()), 409, "Conflict", "Name")

    def test_bob_never_reaches_alices_schedules(self):
        self.call("POST", "/api/schedules", self.body())
        self.assertEqual(self.call("GET", "/api/schedules", client=self.bob_client).data["schedules"], [])
        for method, path, body in [("GET", "/api/schedules/default/hourly", None),
                                   ("PUT", "/api/schedules/default/hourly", self.body()),
                                   ("POST", "/api/schedules/default/hourly/state", {"State": "DISABLED"}),
                                   ("DELETE", "/api/schedules/default/hourly", None)]:
            with self.subTest(method=method, path=path):
                self.assertApiError(self.call(method, path, body, client=self.bob_client), 404)
        # Nor can Bob point a schedule of his at Alice's function with her role.
        refused = self.call("POST", "/api/schedules", self.body(), client=self.bob_client)
        self.assertApiError(refused, 400, field="Target.Arn")
        self.assertEqual(Schedule.objects.get(name="hourly").state, "ENABLED")


class KeeperPeriodicTests(WebTestCase):
    def test_the_keeper_calls_its_periodic_work_on_its_own_thread(self):
        keeper = Keeper(dispatch=lambda execution_id: None, sweep=False)
        called = threading.Event()
        threads = []

        def work():
            threads.append(threading.current_thread().name)
            called.set()

        keeper.every(1, work)
        try:
            self.assertTrue(called.wait(10))
        finally:
            keeper.close()
        self.assertEqual(threads[0], "flowbench-lease-keeper")

    def test_a_failing_periodic_work_does_not_stop_the_keeper(self):
        keeper = Keeper(dispatch=lambda execution_id: None, sweep=False)
        calls = []
        twice = threading.Event()

        def work():
            calls.append(1)
            if len(calls) >= 2:
                twice.set()
            raise RuntimeError("boom")

        keeper.periodic.append([0, work, 0.0])
        keeper.start()
        try:
            self.assertTrue(twice.wait(10))
        finally:
            keeper.close()
