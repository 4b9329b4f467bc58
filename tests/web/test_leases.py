"""Leases: one process runs an execution at a time, a stale run cannot write, and the Keeper renews,
stops, wakes and sweeps (editor.services.leases)."""

import json
import threading
import uuid
from datetime import timedelta

from django.utils import timezone

from editor.models import Execution
from editor.services import checkpoints, leases, machines, roles
from tests.integration.cluster import wait_until
from tests.web.base import LiveWebTestCase


class OneExecution(LiveWebTestCase):
    """A queued execution of a one-state machine, as start_execution leaves it."""

    def setUp(self):
        super().setUp()
        roles.create_role(self.alice, {"name": "runner"})
        machine = machines.create_machine(self.alice, {"name": "pass", "type": "STANDARD", "role": "runner",
                                                       "definition": json.dumps({"StartAt": "Only", "States": {
                                                           "Only": {"Type": "Pass", "End": True}}})})
        version = machines.publish_version(machine)
        self.execution = Execution.objects.create(machine=machine, version=version, name="e", input="{}",
                                                  lease_until=leases.queued_until())

    def row(self):
        return Execution.objects.get(pk=self.execution.pk)

    def expire(self):
        Execution.objects.filter(pk=self.execution.pk).update(lease_until=timezone.now() - timedelta(seconds=1))


class LeaseTests(OneExecution):
    def test_a_queued_execution_is_taken_once(self):
        token = leases.acquire(self.execution.pk)
        self.assertEqual(token, 1)
        self.assertIsNone(leases.acquire(self.execution.pk))
        self.assertEqual(self.row().lease_owner, leases.process_id())

    def test_a_lease_that_ran_out_can_be_taken_with_a_new_token(self):
        first = leases.acquire(self.execution.pk)
        self.expire()
        self.assertEqual(leases.acquire(self.execution.pk), first + 1)

    def test_steal_takes_a_live_lease(self):
        first = leases.acquire(self.execution.pk)
        self.assertEqual(leases.acquire(self.execution.pk, steal=True), first + 1)

    def test_an_ended_execution_is_never_taken(self):
        Execution.objects.filter(pk=self.execution.pk).update(status="SUCCEEDED")
        self.assertIsNone(leases.acquire(self.execution.pk, steal=True))

    def test_a_run_whose_token_was_taken_writes_nothing(self):
        stale = leases.acquire(self.execution.pk)
        leases.acquire(self.execution.pk, steal=True)
        recorder = checkpoints.EventRecorder(self.execution.pk, stale)
        recorder.pending.append({"id": 1, "previousEventId": 0, "timestamp": "2024-01-01T00:00:00.000Z",
                                 "type": "ExecutionStarted", "executionStartedEventDetails": {}})
        with self.assertRaises(checkpoints.Abandoned):
            recorder.flush()
        self.assertEqual(checkpoints.stored_history(self.execution.pk), [])
        self.assertFalse(recorder.alive)

    def test_release_gives_the_execution_back_until_a_moment_unless_a_stop_was_asked(self):
        token = leases.acquire(self.execution.pk)
        due = timezone.now() + timedelta(minutes=5)
        self.assertTrue(leases.release(self.execution.pk, token, due))
        self.assertEqual((self.row().lease_owner, self.row().lease_until), ("", due))
        token = leases.acquire(self.execution.pk, steal=True)
        Execution.objects.filter(pk=self.execution.pk).update(stop_requested=True)
        self.assertFalse(leases.release(self.execution.pk, token, due))

    def test_hand_back_makes_the_execution_due_at_once_and_fences_the_old_run(self):
        token = leases.acquire(self.execution.pk)
        self.assertTrue(leases.hand_back(self.execution.pk, token))
        row = self.row()
        self.assertEqual(row.lease_owner, "")
        self.assertLessEqual(row.lease_until, timezone.now())
        self.assertEqual(row.lease_token, token + 1)
        self.assertFalse(leases.hand_back(self.execution.pk, token))   # the old token is no more
        self.assertEqual(leases.acquire(self.execution.pk), token + 2)  # anyone takes it, no wait

    def test_only_one_caller_claims_a_due_execution(self):
        self.expire()
        self.assertTrue(leases.claim_due(self.execution.pk))
        self.assertFalse(leases.claim_due(self.execution.pk))


class ProcessIdTests(LiveWebTestCase):
    def test_threads_naming_the_process_at_once_get_one_name(self):
        from unittest import mock

        entered, second = [], threading.Event()
        hostname = leases.socket.gethostname

        def slow_hostname():
            entered.append(threading.current_thread())
            if len(entered) == 1:
                second.wait(0.5)   # the other thread comes in here too, unless a lock keeps it out
            else:
                second.set()
            return hostname()

        names = []
        with mock.patch.object(leases, "_process", (None, "")), \
                mock.patch.object(leases.socket, "gethostname", slow_hostname):
            threads = [threading.Thread(target=lambda: names.append(leases.process_id())) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
        self.assertEqual(len(names), 2)
        self.assertEqual(names[0], names[1])
        self.assertEqual(len(entered), 1)


class KeeperTests(OneExecution):
    def setUp(self):
        super().setUp()
        self.dispatched = []
        self.keeper = leases.Keeper(self.dispatched.append, sweep=True)
        self.addCleanup(self.keeper.close)

    def track(self, token):
        recorder = checkpoints.EventRecorder(self.execution.pk, token)
        cancel, suspend = threading.Event(), threading.Event()
        self.keeper.track(self.execution.pk, token, cancel, suspend, recorder)
        return recorder, cancel

    def test_it_renews_the_leases_its_runs_hold(self):
        token = leases.acquire(self.execution.pk)
        Execution.objects.filter(pk=self.execution.pk).update(lease_until=timezone.now() + timedelta(seconds=1))
        self.track(token)
        self.keeper._tick()
        self.assertGreater(Execution.objects.get(pk=self.execution.pk).lease_until,
                           timezone.now() + timedelta(seconds=leases.lease_seconds() - 5))

    def test_a_run_whose_lease_another_process_took_is_told_it_lost(self):
        token = leases.acquire(self.execution.pk)
        recorder, _ = self.track(token)
        leases.acquire(self.execution.pk, steal=True)
        self.keeper._tick()
        self.assertFalse(recorder.alive)

    def test_it_passes_a_stop_to_the_run(self):
        token = leases.acquire(self.execution.pk)
        _, cancel = self.track(token)
        Execution.objects.filter(pk=self.execution.pk).update(stop_requested=True)
        self.keeper._tick()
        self.assertTrue(cancel.is_set())

    def test_it_dispatches_a_parked_execution_when_it_is_due(self):
        token = leases.acquire(self.execution.pk)
        due = timezone.now()
        leases.release(self.execution.pk, token, due)
        self.keeper.wake_at(self.execution.pk, due)
        wait_until(lambda: self.dispatched, 10, "the keeper to dispatch the due execution")
        self.assertEqual(self.dispatched, [str(self.execution.pk)])

    def test_its_sweep_dispatches_an_execution_whose_lease_ran_out_once(self):
        leases.acquire(self.execution.pk)
        self.expire()
        self.keeper._sweep()
        self.keeper._sweep()
        self.assertEqual(self.dispatched, [self.execution.pk])
        self.assertEqual(self.row().lease_owner, "")

    def test_wait_untracked_returns_the_runs_still_going(self):
        token = leases.acquire(self.execution.pk)
        recorder, _ = self.track(token)
        going = self.keeper.tracked()
        self.assertEqual(self.keeper.wait_untracked(going, 0), going)
        threading.Thread(target=self.keeper.untrack, args=(self.execution.pk, recorder)).start()
        self.assertEqual(self.keeper.wait_untracked(going, 30), [])
        self.assertFalse(self.keeper.runs_here(uuid.uuid4()))
