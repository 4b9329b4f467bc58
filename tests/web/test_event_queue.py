"""The queue of asynchronous invocations (editor.services.event_queue) against the real database
and the real runner: claimed once under a lease, a stale attempt cannot record, retried with
backoff on the clock's due times up to MaximumRetryAttempts, dropped past the maximum event age,
throttles wait without counting, swept and resumed after their process went away, handed back
when it stops; synchronous ones left running end as abandoned."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

from django.test import override_settings
from django.utils import timezone

from editor.models import EventInvokeConfig, Invocation
from editor.services import event_queue
from editor.services.executor import get_executor, replace_executor
from editor.services.leases import process_id
from tests.web.base import WebTestCase

ECHO = "def lambda_handler(event, context):\n    return {'echo': event}\n"
FAILING = "def lambda_handler(event, context):\n    raise ValueError('try again')\n"
DEAD = "elsewhere:1:dead"


@contextmanager
def clock_ahead(seconds: float):
    """The services' clock (django.utils.timezone.now), `seconds` ahead of the real one."""
    real = timezone.now
    with mock.patch("django.utils.timezone.now", lambda: real() + timedelta(seconds=seconds)):
        yield


@override_settings(FLOWBENCH_EVENT_RETRY_SECONDS=60)
class EventQueueTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.function = self.make_function(name="worker")

    def deploy(self, code: str):
        self.call("PUT", "/api/functions/worker/code", {"files": {"lambda_function.py": code}})
        self.call("POST", "/api/functions/worker/deploy")
        self.function.refresh_from_db()

    def queued(self, event=None) -> Invocation:
        """An Event invocation as start_invocation commits it (its dispatch left to the test)."""
        with self.captureOnCommitCallbacks(execute=False) as dispatches:
            invocation = event_queue.start_invocation(self.function, event or {"n": 1}, source=Invocation.Source.API)
        self.assertEqual(len(dispatches), 1)
        return invocation

    def row(self, invocation) -> Invocation:
        return Invocation.objects.get(pk=invocation.pk)

    def test_an_event_is_queued_then_run_once_by_whoever_claims_it(self):
        self.deploy(ECHO)
        invocation = self.queued({"k": 7})
        row = self.row(invocation)
        self.assertEqual((row.status, row.asynchronous, row.runner, row.attempts), ("running", True, "", 0))
        self.assertEqual(self.call("GET", f"/api/functions/worker/invocations/{invocation.pk}").data["delivery"],
                         {"state": "queued", "attempts": 0, "function_errors": 0, "retry_at": None})
        self.assertTrue(event_queue.run_queued(invocation.pk))
        row = self.row(invocation)
        self.assertEqual((row.status, row.response, row.attempts, row.runner, row.lease_until),
                         ("succeeded", {"echo": {"k": 7}}, 1, "", None))
        # A second delivery of its job (the broker's, a sweep's) runs nothing again.
        self.assertFalse(event_queue.run_queued(invocation.pk))
        self.assertEqual(self.row(invocation).attempts, 1)

    def test_one_claim_at_a_time_and_a_stale_attempt_cannot_record(self):
        self.deploy(ECHO)
        invocation = self.queued()
        self.assertEqual(event_queue.claim(invocation.pk), 1)
        self.assertIsNone(event_queue.claim(invocation.pk))   # its lease is live
        # The lease runs out (its process stalled): another claim takes it, with a new token.
        Invocation.objects.filter(pk=invocation.pk).update(runner=DEAD,
                                                           lease_until=timezone.now() - timedelta(seconds=1))
        self.assertEqual(event_queue.claim(invocation.pk), 2)
        stale = self.row(invocation)
        self.assertFalse(event_queue.settle(stale, 1, None, {"errorType": "X", "errorMessage": "late"}))
        self.assertEqual(self.row(invocation).status, "running")
        self.assertTrue(event_queue.settle(stale, 2, None, {"errorType": "X", "errorMessage": "now"}, final=True))
        self.assertEqual((self.row(invocation).status, self.row(invocation).error["errorMessage"]), ("failed", "now"))

    def test_a_function_error_is_retried_twice_with_backoff_then_fails_after_three_attempts(self):
        self.deploy(FAILING)
        invocation = self.queued()
        before = timezone.now()
        self.assertTrue(event_queue.run_queued(invocation.pk))
        row = self.row(invocation)
        self.assertEqual((row.status, row.runner, row.attempts, row.function_errors), ("running", "", 1, 1))
        self.assertEqual(row.error["errorType"], "ValueError")
        self.assertGreaterEqual(row.next_attempt_at, before + timedelta(seconds=60))
        self.assertEqual(row.lease_until, row.next_attempt_at)   # the sweep finds it when it is due
        delivery = self.call("GET", f"/api/functions/worker/invocations/{invocation.pk}").data["delivery"]
        self.assertEqual((delivery["state"], delivery["retry_at"]), ("retrying", row.next_attempt_at.isoformat()))
        # Not before it is due.
        self.assertFalse(event_queue.run_queued(invocation.pk))
        with clock_ahead(61):
            self.assertTrue(event_queue.run_queued(invocation.pk))
            second = self.row(invocation)
            self.assertEqual((second.status, second.attempts, second.function_errors), ("running", 2, 2))
            # The second delay is twice the first.
            self.assertGreaterEqual(second.next_attempt_at - row.next_attempt_at, timedelta(seconds=120))
        with clock_ahead(61 + 121):
            self.assertTrue(event_queue.run_queued(invocation.pk))
        last = self.row(invocation)
        self.assertEqual((last.status, last.attempts, last.function_errors, last.runner), ("failed", 3, 3, ""))
        self.assertEqual(last.error["errorMessage"], "try again")
        shown = self.call("GET", f"/api/functions/worker/invocations/{invocation.pk}").data["delivery"]
        self.assertEqual(shown["state"], "failed")

    def test_the_config_of_the_qualifier_invoked_sets_the_retries(self):
        self.deploy(FAILING)
        EventInvokeConfig.objects.create(function=self.function, qualifier="$LATEST", maximum_retry_attempts=0)
        invocation = self.queued()
        event_queue.run_queued(invocation.pk)
        self.assertEqual((self.row(invocation).status, self.row(invocation).attempts), ("failed", 1))

    def test_an_event_older_than_the_maximum_age_is_dropped_saying_so(self):
        self.deploy(ECHO)
        EventInvokeConfig.objects.create(function=self.function, qualifier="$LATEST", maximum_event_age=60)
        invocation = self.queued()
        with clock_ahead(61):
            self.assertTrue(event_queue.run_queued(invocation.pk))
        row = self.row(invocation)
        self.assertEqual((row.status, row.error["errorType"], row.request_id, row.attempts, row.function_errors),
                         ("failed", "EventAgeExceeded", "", 0, 0))   # the function never ran
        self.assertIn("maximum event age (60 s)", row.error["errorMessage"])

    def test_a_retry_that_would_come_after_the_maximum_age_is_not_waited_for(self):
        self.deploy(FAILING)
        EventInvokeConfig.objects.create(function=self.function, qualifier="$LATEST", maximum_event_age=60)
        invocation = self.queued()
        event_queue.run_queued(invocation.pk)   # the retry would be due in 60 s: past the age
        self.assertEqual((self.row(invocation).status, self.row(invocation).attempts), ("failed", 1))

    @override_settings(FLOWBENCH_EVENT_THROTTLE_SECONDS=5)
    def test_a_throttled_event_waits_and_is_tried_again_without_counting_an_attempt(self):
        self.deploy(ECHO)
        self.call("PUT", "/api/functions/worker/configuration", {"reserved_concurrency": 0})
        invocation = self.queued()
        self.assertTrue(event_queue.run_queued(invocation.pk))
        row = self.row(invocation)
        self.assertEqual((row.status, row.attempts, row.function_errors, row.error["errorType"]),
                         ("running", 0, 0, "TooManyRequestsException"))
        self.assertIsNotNone(row.next_attempt_at)
        self.call("PUT", "/api/functions/worker/configuration", {"reserved_concurrency": None})
        with clock_ahead(6):
            self.assertTrue(event_queue.run_queued(invocation.pk))
        row = self.row(invocation)
        self.assertEqual((row.status, row.attempts, row.response), ("succeeded", 1, {"echo": {"n": 1}}))

    @override_settings(FLOWBENCH_EVENT_THROTTLE_SECONDS=5)
    def test_a_throttled_event_waits_longer_the_longer_it_has_waited(self):
        self.assertEqual([event_queue.throttle_delay(age) for age in (0, 8, 60, 3600)], [5, 5, 30, 300])

    def test_the_sweep_sends_again_what_a_dead_process_held_and_abandons_stale_synchronous_ones(self):
        self.deploy(ECHO)
        held = self.queued()
        Invocation.objects.filter(pk=held.pk).update(runner=DEAD, attempts=1,
                                                     lease_until=timezone.now() - timedelta(seconds=1))
        live = self.queued()
        Invocation.objects.filter(pk=live.pk).update(runner=DEAD, attempts=1,
                                                     lease_until=timezone.now() + timedelta(seconds=30))
        waiting = self.queued()   # a retry due later
        later = timezone.now() + timedelta(seconds=60)
        Invocation.objects.filter(pk=waiting.pk).update(attempts=1, function_errors=1, next_attempt_at=later,
                                                        lease_until=later)
        caller_gone = Invocation.objects.create(function=self.function, version=self.function.deployed,
                                                source="api", memory_mb=128, request={},
                                                lease_until=timezone.now() - timedelta(seconds=1))
        with mock.patch.object(event_queue, "dispatch") as dispatch:
            self.assertEqual(event_queue.sweep(), 1)
        dispatch.assert_called_once_with(held.pk)
        self.assertEqual(self.row(held).runner, "")
        self.assertEqual(self.row(live).runner, DEAD)
        self.assertEqual(self.row(waiting).status, "running")
        gone = self.row(caller_gone)
        self.assertEqual(gone.status, "failed")
        self.assertIn("Abandoned", gone.error["errorMessage"])
        # Sent again, it runs (a second attempt: at-least-once).
        self.assertTrue(event_queue.run_queued(held.pk))
        self.assertEqual((self.row(held).status, self.row(held).attempts), ("succeeded", 2))

    def test_an_event_cut_off_too_many_times_fails_saying_so(self):
        self.deploy(ECHO)
        invocation = self.queued()
        Invocation.objects.filter(pk=invocation.pk).update(attempts=event_queue.MAX_TAKEOVERS)
        event_queue.run_queued(invocation.pk)
        row = self.row(invocation)
        self.assertEqual(row.status, "failed")
        self.assertIn("went away 3 times", row.error["errorMessage"])

    def test_resume_at_start_takes_up_what_the_previous_process_left(self):
        self.deploy(ECHO)
        running = self.queued()
        Invocation.objects.filter(pk=running.pk).update(runner=DEAD, attempts=1,
                                                        lease_until=timezone.now() + timedelta(seconds=30))
        queued = self.queued()
        waiting = self.queued()
        later = timezone.now() + timedelta(seconds=60)
        Invocation.objects.filter(pk=waiting.pk).update(attempts=1, function_errors=1, next_attempt_at=later,
                                                        lease_until=later)
        cut = Invocation.objects.create(function=self.function, version=self.function.deployed, source="test",
                                        memory_mb=128, request={}, lease_until=timezone.now() + timedelta(seconds=60))
        started = timezone.now()
        newer = Invocation.objects.create(function=self.function, version=self.function.deployed, source="test",
                                          memory_mb=128, request={}, lease_until=timezone.now() + timedelta(seconds=60))
        with mock.patch.object(event_queue, "dispatch") as dispatch:
            self.assertEqual(event_queue.resume(started), 2)
        self.assertEqual({c.args[0] for c in dispatch.call_args_list}, {running.pk, queued.pk})
        self.assertEqual((self.row(running).runner, self.row(waiting).next_attempt_at), ("", later))
        self.assertEqual(self.row(cut).status, "failed")
        self.assertEqual(self.row(newer).status, "running")   # this process's own

    def test_a_stopping_process_hands_back_what_still_runs_and_claims_nothing(self):
        self.deploy(ECHO)
        invocation = self.queued()
        token = event_queue.claim(invocation.pk)
        held = event_queue._track(invocation.pk, token)
        self.addCleanup(event_queue._untrack, invocation.pk, held)
        self.addCleanup(replace_executor)   # the next test's process starts afresh
        get_executor().stop(grace=0)
        self.assertEqual(event_queue.stop(time.monotonic()), 1)
        self.assertTrue(held.handed_back.is_set())
        row = self.row(invocation)
        self.assertEqual(row.runner, "")
        self.assertLessEqual(row.lease_until, timezone.now())
        other = self.queued()
        self.assertFalse(event_queue.run_queued(other.pk))
        self.assertEqual(self.row(other).attempts, 0)

    def test_the_lease_keeper_renews_the_attempts_this_process_runs(self):
        self.deploy(ECHO)
        invocation = self.queued()
        token = event_queue.claim(invocation.pk)
        held = event_queue._track(invocation.pk, token)
        self.addCleanup(event_queue._untrack, invocation.pk, held)
        soon = timezone.now() + timedelta(seconds=1)
        Invocation.objects.filter(pk=invocation.pk).update(lease_until=soon)
        event_queue.renew()
        row = self.row(invocation)
        self.assertGreater(row.lease_until, soon)
        self.assertEqual(row.runner, process_id())


@override_settings(FLOWBENCH_EVENT_RETRY_SECONDS=60)
class DestinationTests(WebTestCase):
    """OnSuccess / OnFailure destinations: the other function gets Lambda's invocation record,
    asynchronously, once, committed with the event's end."""

    def setUp(self):
        super().setUp()
        for name, code in (("worker", FAILING), ("catcher", ECHO), ("pleased", ECHO)):
            self.make_function(name=name)
            self.call("PUT", f"/api/functions/{name}/code", {"files": {"lambda_function.py": code}})
            self.call("POST", f"/api/functions/{name}/deploy")
        from editor.models import Function
        from editor.services.accounts import function_arn

        self.worker = Function.objects.get(owner=self.alice, name="worker")
        EventInvokeConfig.objects.create(function=self.worker, qualifier="$LATEST", maximum_retry_attempts=0,
                                         destination_config={
                                             "OnFailure": {"Destination": function_arn(self.alice, "catcher")},
                                             "OnSuccess": {"Destination": function_arn(self.alice, "pleased")}})

    def test_a_failed_event_sends_its_record_to_the_on_failure_destination_once(self):
        with self.captureOnCommitCallbacks(execute=False):
            invocation = event_queue.start_invocation(self.worker, {"job": 3}, source=Invocation.Source.API)
        with self.captureOnCommitCallbacks(execute=False) as dispatches:
            event_queue.run_queued(invocation.pk)
        self.assertEqual(Invocation.objects.get(pk=invocation.pk).status, "failed")
        sent = Invocation.objects.get(function__name="catcher")
        self.assertEqual((sent.source, sent.asynchronous, sent.status, len(dispatches)),
                         ("destination", True, "running", 1))
        record = sent.request
        self.assertEqual(record["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(record["requestContext"]["approximateInvokeCount"], 1)
        self.assertTrue(record["requestContext"]["functionArn"].endswith(":function:worker:$LATEST"))
        self.assertEqual((record["requestPayload"], record["responseContext"]["functionError"]),
                         ({"job": 3}, "Unhandled"))
        self.assertEqual(record["responsePayload"]["errorMessage"], "try again")
        self.assertFalse(Invocation.objects.filter(function__name="pleased").exists())
        # Run, the destination's own invocation gets the record as its event.
        event_queue.run_queued(sent.pk)
        self.assertEqual(Invocation.objects.get(pk=sent.pk).response["echo"]["requestContext"]["condition"],
                         "RetriesExhausted")

    def test_a_stale_attempt_sends_nothing(self):
        with self.captureOnCommitCallbacks(execute=False):
            invocation = event_queue.start_invocation(self.worker, {}, source=Invocation.Source.API)
        token = event_queue.claim(invocation.pk)
        Invocation.objects.filter(pk=invocation.pk).update(runner=DEAD)   # another process took it over
        self.assertFalse(event_queue.settle(Invocation.objects.get(pk=invocation.pk), token, None,
                                            {"errorType": "X", "errorMessage": "late"}, final=True))
        self.assertFalse(Invocation.objects.filter(source="destination").exists())

    def test_a_success_goes_to_on_success_and_a_missing_destination_is_skipped(self):
        from editor.models import Function

        self.call("PUT", "/api/functions/worker/code", {"files": {"lambda_function.py": ECHO}})
        self.call("POST", "/api/functions/worker/deploy")
        self.worker.refresh_from_db()
        with self.captureOnCommitCallbacks(execute=False):
            first = event_queue.start_invocation(self.worker, {"n": 1}, source=Invocation.Source.API)
        event_queue.run_queued(first.pk)
        record = Invocation.objects.get(function__name="pleased").request
        self.assertEqual((record["requestContext"]["condition"], record["responsePayload"]),
                         ("Success", {"echo": {"n": 1}}))
        self.assertNotIn("functionError", record["responseContext"])
        Function.objects.filter(owner=self.alice, name="pleased").delete()
        with self.captureOnCommitCallbacks(execute=False):
            second = event_queue.start_invocation(self.worker, {"n": 2}, source=Invocation.Source.API)
        event_queue.run_queued(second.pk)
        self.assertEqual(Invocation.objects.get(pk=second.pk).status, "succeeded")
