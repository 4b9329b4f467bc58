"""Firing schedules with a clock the test holds (editor.services.schedule_firing): rate, cron and
at() ticks fire once each, disabled and out-of-dates schedules never, at() with DELETE goes away
after its fire, ticks missed while down are not replayed, a deleted target disables the schedule
with its reason, and two firers racing on the real database fire each tick once."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from unittest import mock

from django.db import OperationalError
from django.test import override_settings

from editor.errors import ApiError
from editor.models import Execution, Invocation, Schedule, ScheduleFire
from editor.services import functions, machines, roles
from editor.services.accounts import function_arn, role_arn, state_machine_arn
from editor.services.schedule_firing import fire_due
from editor.services.schedules import create_schedule, set_state, update_schedule
from tests.integration.cluster import wait_until
from tests.web.base import LiveWebTestCase, WebTestCase

T0 = datetime(2027, 3, 1, 12, 0, 30, tzinfo=timezone.utc)
MACHINE_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "states:StartExecution", "Resource": "*"}]}


class ScheduleSetup:
    def prepare(self):
        self.function = self.make_function(name="tick", deploy=True)
        self.invoker = roles.create_role(self.alice, {"name": "scheduler-invoke", "trusted": ["scheduler"]})
        self.starter = roles.create_role(self.alice, {"name": "scheduler-start", "policy": MACHINE_POLICY,
                                                      "trusted": ["scheduler", "states"]})
        self.machine = machines.create_machine(self.alice, {
            "name": "flow", "type": "STANDARD", "role": "scheduler-start",
            "definition": json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})})
        machines.publish_version(self.machine)

    def schedule(self, name="every5", expression="rate(5 minutes)", target="function", now=T0, **more):
        arn, role = ((function_arn(self.alice, "tick"), "scheduler-invoke") if target == "function"
                     else (state_machine_arn(self.alice, "flow"), "scheduler-start"))
        members = {"ScheduleExpression": expression, "FlexibleTimeWindow": {"Mode": "OFF"},
                   "Target": {"Arn": arn, "RoleArn": role_arn(self.alice, role), "Input": '{"n": 1}'}, **more}
        return create_schedule(self.alice, name, members, now=now)

    def fires(self, name="every5"):
        return list(ScheduleFire.objects.filter(schedule_name=name).order_by("tick_at"))


class FiringTests(ScheduleSetup, WebTestCase):
    def setUp(self):
        super().setUp()
        self.prepare()

    def test_a_rate_fires_at_once_then_each_period_once_and_never_early(self):
        schedule = self.schedule()
        self.assertEqual(schedule.next_fire_at, T0)   # no start date: at once
        self.assertEqual(fire_due(T0 - timedelta(seconds=1)), [])
        self.assertEqual(len(fire_due(T0)), 1)
        self.assertEqual(fire_due(T0 + timedelta(seconds=1)), [])   # the same tick: not again
        self.assertEqual(fire_due(T0 + timedelta(minutes=4, seconds=59)), [])
        fire_due(T0 + timedelta(minutes=5, seconds=2))
        fires = self.fires()
        self.assertEqual([f.tick_at for f in fires], [T0, T0 + timedelta(minutes=5)])
        invocations = Invocation.objects.filter(function=self.function, source=Invocation.Source.SCHEDULE)
        self.assertEqual(invocations.count(), 2)
        self.assertEqual(fires[0].invocation.request, {"n": 1})
        self.assertEqual(Schedule.objects.get(pk=schedule.pk).next_fire_at, T0 + timedelta(minutes=10))

    @override_settings(FLOWBENCH_SCHEDULE_LATE_SECONDS=300)
    def test_a_tick_late_by_less_than_the_margin_still_fires_and_so_does_the_next(self):
        self.schedule("every-minute", "rate(1 minute)")
        # The firer was held up 110 s (the margin is 300 here): both ticks since fire, once each.
        now = T0 + timedelta(minutes=1, seconds=50)
        self.assertEqual([f.tick_at for f in fire_due(now)], [T0])
        self.assertEqual([f.tick_at for f in fire_due(now)], [T0 + timedelta(minutes=1)])
        self.assertEqual(fire_due(now), [])

    def test_a_cron_fires_on_its_times_in_its_time_zone(self):
        # 09:00 in Paris on weekdays; 2027-03-01 is a Monday (CET, UTC+1).
        self.schedule("weekday", "cron(0 9 ? * MON-FRI *)", ScheduleExpressionTimezone="Europe/Paris")
        monday_nine = datetime(2027, 3, 2, 8, 0, tzinfo=timezone.utc)   # Tuesday 09:00 CET (after T0)
        self.assertEqual(Schedule.objects.get(name="weekday").next_fire_at, monday_nine)
        self.assertEqual(len(fire_due(monday_nine)), 1)
        saturday = datetime(2027, 3, 6, 8, 0, tzinfo=timezone.utc)
        self.assertEqual(fire_due(saturday), [])
        self.assertEqual(Schedule.objects.get(name="weekday").next_fire_at, datetime(2027, 3, 8, 8, 0, tzinfo=timezone.utc))

    def test_an_at_schedule_fires_once_and_deletes_itself_after_when_asked(self):
        self.schedule("once", "at(2027-03-01T13:00:00)", target="machine", ActionAfterCompletion="DELETE")
        when = datetime(2027, 3, 1, 13, 0, tzinfo=timezone.utc)
        fired = fire_due(when + timedelta(seconds=1))
        self.assertEqual(len(fired), 1)
        self.assertFalse(Schedule.objects.filter(name="once").exists())
        fire = ScheduleFire.objects.get(schedule_name="once")
        self.assertIsNone(fire.schedule)
        execution = Execution.objects.get(pk=fire.execution_id)
        self.assertEqual((execution.machine, json.loads(execution.input)), (self.machine, {"n": 1}))

    def test_an_at_schedule_with_none_after_completion_stays_with_nothing_left_to_fire(self):
        self.schedule("once", "at(2027-03-01T13:00:00)")
        fire_due(datetime(2027, 3, 1, 13, 0, 5, tzinfo=timezone.utc))
        schedule = Schedule.objects.get(name="once")
        self.assertIsNone(schedule.next_fire_at)
        self.assertEqual(len(self.fires("once")), 1)

    def test_a_disabled_schedule_never_fires_and_enabling_starts_from_the_next_tick(self):
        self.schedule(State="DISABLED")
        self.assertEqual(fire_due(T0 + timedelta(seconds=1)), [])
        set_state(self.alice, "every5", None, "ENABLED", now=T0 + timedelta(hours=1, seconds=10))
        self.assertEqual(Schedule.objects.get(name="every5").next_fire_at, T0 + timedelta(hours=1, minutes=5))

    def test_start_and_end_dates_bound_the_fires(self):
        start = T0 + timedelta(hours=2)
        self.schedule(StartDate=start, EndDate=start + timedelta(minutes=10))
        self.assertEqual(fire_due(T0 + timedelta(hours=1)), [])
        for minutes in (0, 5, 10, 15):
            fire_due(start + timedelta(minutes=minutes))
        self.assertEqual([f.tick_at for f in self.fires()],
                         [start, start + timedelta(minutes=5), start + timedelta(minutes=10)])
        self.assertIsNone(Schedule.objects.get(name="every5").next_fire_at)

    def test_ticks_missed_while_down_are_not_replayed(self):
        self.schedule()
        after_downtime = T0 + timedelta(hours=3, minutes=2)   # the 3 h tick is 120 s late: missed too
        self.assertEqual(fire_due(after_downtime), [])
        self.assertEqual(self.fires(), [])
        self.assertEqual(Schedule.objects.get(name="every5").next_fire_at, T0 + timedelta(hours=3, minutes=5))
        self.assertEqual(len(fire_due(T0 + timedelta(hours=3, minutes=5))), 1)

    def test_a_deleted_target_disables_the_schedule_with_the_reason(self):
        self.schedule()
        self.schedule("flow-hourly", "rate(1 hour)", target="machine")
        functions.delete_function(self.function)
        schedule = Schedule.objects.get(name="every5")
        self.assertEqual((schedule.state, schedule.next_fire_at), ("DISABLED", None))
        self.assertIn(f"the function {function_arn(self.alice, 'tick')}, was deleted", schedule.disabled_reason)
        self.assertEqual(Schedule.objects.get(name="flow-hourly").state, "ENABLED")
        machines.delete_machine(self.machine)
        self.assertIn("the state machine", Schedule.objects.get(name="flow-hourly").disabled_reason)
        self.assertEqual(fire_due(T0 + timedelta(hours=1)), [])

    def test_a_role_that_stopped_allowing_the_target_disables_the_schedule_at_its_fire(self):
        self.schedule()
        roles.put_role_policy(self.invoker, "flowbench-policy", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": "*"}]})
        fired = fire_due(T0)
        self.assertIn("not allowed to perform lambda:InvokeFunction", fired[0].error)
        self.assertIsNone(fired[0].invocation)
        schedule = Schedule.objects.get(name="every5")
        self.assertEqual(schedule.state, "DISABLED")
        self.assertIn("not allowed", schedule.disabled_reason)
        self.assertFalse(Invocation.objects.filter(source=Invocation.Source.SCHEDULE).exists())

    def test_a_firer_that_dies_before_its_commit_leaves_the_tick_to_the_next_one(self):
        self.schedule()
        tick = T0
        # The process fails between claiming the tick and committing (as a SIGKILL would cut it):
        # the claim, the fire row and the invocation go together.
        with mock.patch("editor.services.event_queue.start_invocation", side_effect=RuntimeError("killed")):
            self.assertEqual(fire_due(tick), [])
        self.assertEqual(Schedule.objects.get(name="every5").next_fire_at, tick)
        self.assertEqual((self.fires(), Invocation.objects.filter(source=Invocation.Source.SCHEDULE).count()), ([], 0))
        fired = fire_due(tick + timedelta(seconds=1))
        self.assertEqual([f.tick_at for f in fired], [tick])
        self.assertEqual(Invocation.objects.filter(source=Invocation.Source.SCHEDULE).count(), 1)

    def test_a_start_failing_inside_flowbench_is_tried_again_as_the_retry_policy_says(self):
        self.schedule(Target={"Arn": function_arn(self.alice, "tick"), "RoleArn": role_arn(self.alice, "scheduler-invoke"),
                              "Input": '{"attempt": "<aws.scheduler.attempt-number>"}',
                              "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600}})
        locked = mock.patch("editor.services.event_queue.start_invocation",
                            side_effect=OperationalError("database is locked"))
        with locked:
            first = fire_due(T0)[0]
        self.assertEqual((first.attempts, first.retry_at, first.invocation), (1, T0 + timedelta(seconds=1), None))
        self.assertIn("Attempt 1 could not start the target (OperationalError: database is locked); attempt 2 at",
                      first.error)
        self.assertEqual(fire_due(T0 + timedelta(milliseconds=500)), [])   # not due yet
        with locked:
            second = fire_due(T0 + timedelta(seconds=1))[0]
        self.assertEqual((second.pk, second.attempts, second.retry_at), (first.pk, 2, T0 + timedelta(seconds=3)))
        # The third attempt starts it; its input says which attempt it is.
        third = fire_due(T0 + timedelta(seconds=3))[0]
        self.assertEqual((third.pk, third.attempts, third.retry_at, third.error), (first.pk, 3, None, ""))
        self.assertEqual(third.invocation.request, {"attempt": "3"})
        self.assertEqual(len(self.fires()), 1)
        fires = self.call("GET", "/api/schedules/default/every5").data["fires"]
        self.assertEqual([(f["attempts"], f["retry_at"], f["invocation"]) for f in fires],
                         [(3, None, str(third.invocation_id))])

    def test_retries_stop_at_the_policys_attempts_and_age(self):
        def target(**policy):
            return {"Arn": function_arn(self.alice, "tick"), "RoleArn": role_arn(self.alice, "scheduler-invoke"),
                    **({"RetryPolicy": policy} if policy else {})}

        self.schedule()   # no RetryPolicy: Scheduler's defaults, 185 attempts within a day
        self.schedule(name="few", Target=target(MaximumRetryAttempts=1))
        self.schedule(name="young", Target=target(MaximumEventAgeInSeconds=60))
        failing = mock.patch("editor.services.event_queue.start_invocation", side_effect=OperationalError("disk I/O"))
        with failing:
            fire_due(T0)
            fire_due(T0 + timedelta(seconds=1))
        few = self.fires("few")[0]
        self.assertEqual((few.attempts, few.retry_at), (2, None))   # one retry, then no more
        self.assertIn("no more attempts (its RetryPolicy)", few.error)
        for name in ("every5", "young"):
            fire = self.fires(name)[0]
            self.assertEqual((fire.attempts, fire.retry_at), (2, T0 + timedelta(seconds=3)), name)
        # 70 seconds after the tick: "young"'s event is too old to try again; the default policy tries.
        retried = fire_due(T0 + timedelta(seconds=70))
        self.assertEqual([f.schedule_name for f in retried], ["every5"])
        self.assertEqual((retried[0].attempts, retried[0].error), (3, ""))
        self.assertIsNotNone(retried[0].invocation)
        young = self.fires("young")[0]
        self.assertEqual((young.attempts, young.retry_at, young.invocation), (2, None, None))
        self.assertIn("Not tried again: the event is older than MaximumEventAgeInSeconds (60).", young.error)

    def test_an_at_schedule_that_deletes_itself_waits_for_its_last_attempt(self):
        self.schedule("once", "at(2027-03-01T13:00:00)", ActionAfterCompletion="DELETE")
        due = datetime(2027, 3, 1, 13, 0, tzinfo=timezone.utc)
        with mock.patch("editor.services.event_queue.start_invocation", side_effect=OperationalError("locked")):
            fire_due(due)
        self.assertTrue(Schedule.objects.filter(name="once").exists())   # an attempt is still to come
        retried = fire_due(due + timedelta(seconds=1))
        self.assertEqual((retried[0].attempts, retried[0].error), (2, ""))
        self.assertFalse(Schedule.objects.filter(name="once").exists())
        self.assertEqual(ScheduleFire.objects.get(schedule_name="once").invocation, retried[0].invocation)

    def test_a_disabled_schedule_is_not_tried_again(self):
        self.schedule()
        with mock.patch("editor.services.event_queue.start_invocation", side_effect=OperationalError("locked")):
            fire_due(T0)
        set_state(self.alice, "every5", None, "DISABLED", now=T0)
        self.assertEqual(fire_due(T0 + timedelta(seconds=5)), [])
        fire = self.fires()[0]
        self.assertEqual((fire.attempts, fire.retry_at), (1, None))
        self.assertIn("Not tried again: the schedule was deleted or disabled.", fire.error)

    def test_the_input_gets_the_schedulers_context_attributes(self):
        self.schedule(Target={"Arn": function_arn(self.alice, "tick"), "RoleArn": role_arn(self.alice, "scheduler-invoke"),
                              "Input": '{"at": "<aws.scheduler.scheduled-time>"}'})
        fire = fire_due(T0)[0]
        self.assertEqual(fire.invocation.request, {"at": "2027-03-01T12:00:30Z"})

    def test_an_update_replaces_the_schedule_and_rearms_it(self):
        self.schedule()
        update_schedule(self.alice, "every5", {
            "ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": state_machine_arn(self.alice, "flow"), "RoleArn": role_arn(self.alice, "scheduler-start")}},
            now=T0)
        schedule = Schedule.objects.get(name="every5")
        self.assertEqual((schedule.expression, schedule.target_input, schedule.next_fire_at),
                         ("rate(1 hour)", None, T0))
        fire = fire_due(T0)[0]
        self.assertEqual(json.loads(fire.execution.input), {})

    def test_a_role_that_does_not_trust_the_scheduler_is_refused(self):
        roles.create_role(self.alice, {"name": "machines-only", "trusted": ["states"]})
        with self.assertRaises(ApiError) as refused:
            self.schedule(Target={"Arn": function_arn(self.alice, "tick"), "RoleArn": role_arn(self.alice, "machines-only")})
        self.assertEqual(refused.exception.field, "Target.RoleArn")
        self.assertIn("scheduler.amazonaws.com", refused.exception.message)

    def test_a_target_of_another_person_or_a_role_that_does_not_allow_it_is_refused(self):
        bobs = self.make_function(self.bob, name="bobs", deploy=True)
        with self.assertRaises(ApiError) as refused:
            create_schedule(self.alice, "steal", {"ScheduleExpression": "rate(1 minute)", "FlexibleTimeWindow": {"Mode": "OFF"},
                                                  "Target": {"Arn": function_arn(self.bob, bobs.name),
                                                             "RoleArn": role_arn(self.alice, "scheduler-invoke")}})
        self.assertEqual(refused.exception.field, "Target.Arn")
        with self.assertRaises(ApiError) as refused:
            self.schedule("wrong-role", target="machine", Target={
                "Arn": state_machine_arn(self.alice, "flow"), "RoleArn": role_arn(self.alice, "scheduler-invoke")})
        self.assertEqual(refused.exception.field, "Target.RoleArn")
        self.assertFalse(Schedule.objects.exists())


class RacingFirers(ScheduleSetup, LiveWebTestCase):
    def setUp(self):
        super().setUp()
        self.prepare()

    def test_two_firers_at_once_fire_each_tick_once(self):
        schedules_count, minutes = 3, 3
        for index in range(schedules_count):
            self.schedule(f"s{index}", "rate(1 minute)")
        barrier = threading.Barrier(2)
        made: list[int] = []

        def firer():
            from django.db import connection

            try:
                for minute in range(minutes):
                    barrier.wait(timeout=30)
                    now = T0 + timedelta(minutes=minute)
                    while found := fire_due(now):
                        made.append(len(found))
            finally:
                connection.close()

        threads = [threading.Thread(target=firer) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        total = schedules_count * minutes
        self.assertEqual(sum(made), total)
        self.assertEqual(ScheduleFire.objects.count(), total)
        scheduled = Invocation.objects.filter(source=Invocation.Source.SCHEDULE)
        self.assertEqual(scheduled.count(), total)
        for index in range(schedules_count):
            self.assertEqual([f.tick_at for f in self.fires(f"s{index}")],
                             [T0 + timedelta(minutes=m) for m in range(minutes)])
        # The invocations run on commit, in this process's background pool: each ends, once.
        wait_until(lambda: not scheduled.filter(status=Invocation.Status.RUNNING).exists(), 120,
                   "the scheduled invocations to end")
        self.assertEqual(scheduled.filter(status=Invocation.Status.SUCCEEDED).count(), total)
