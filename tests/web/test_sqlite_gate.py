"""The SQLite backend's write gate (flowbench/sqlite): writers of one process take turns at a lock
rather than in SQLite's sleeping busy handler; every way a transaction ends opens the gate again;
many threads writing at once all commit; reads never wait for it; the database is in WAL mode with
synchronous=NORMAL."""

from __future__ import annotations

import threading

from django.db import connection, connections, transaction

from editor.models import TestEvent
from tests.web.base import LiveWebTestCase


class WriteGateTests(LiveWebTestCase):
    def setUp(self):
        super().setUp()
        self.function = self.make_function(name="gated")

    def gate_is_open(self) -> bool:
        """Whether another thread could take the gate now (taken and given back at once)."""
        taken = connection.gate.acquire(timeout=0)
        if taken:
            connection.gate.release()
        return taken

    def in_thread(self, work):
        """Runs `work` on a thread of its own (its own connection); returns what it returned."""
        result = {}

        def run():
            try:
                result["value"] = work()
            except BaseException as exc:   # noqa: BLE001 -- handed to the test
                result["error"] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout=60)
        if "error" in result:
            raise result["error"]
        return result.get("value")

    def test_a_write_transaction_holds_the_gate_until_it_commits_or_rolls_back(self):
        with transaction.atomic():
            TestEvent.objects.create(function=self.function, name="one", body={})
            self.assertFalse(self.in_thread(self.gate_is_open))
        self.assertTrue(self.gate_is_open())
        with self.assertRaises(ZeroDivisionError):
            with transaction.atomic():
                TestEvent.objects.create(function=self.function, name="two", body={})
                1 / 0
        self.assertTrue(self.gate_is_open())
        self.assertEqual(list(TestEvent.objects.filter(function=self.function).values_list("name", flat=True)), ["one"])

    def test_closing_a_connection_mid_transaction_opens_the_gate(self):
        def abandon():   # a transaction its thread never ends, whose connection is closed
            transaction.atomic().__enter__()
            TestEvent.objects.create(function=self.function, name="abandoned", body={})
            held = not self.gate_is_open_elsewhere()
            connection.close()
            return held

        self.assertTrue(self.in_thread(abandon))
        self.assertTrue(self.gate_is_open())
        self.assertFalse(TestEvent.objects.filter(name="abandoned").exists())

    def gate_is_open_elsewhere(self) -> bool:
        found = {}
        thread = threading.Thread(target=lambda: found.setdefault("open", self.gate_is_open()))
        thread.start()
        thread.join()
        return found["open"]

    def test_reads_do_not_wait_for_a_writer(self):
        TestEvent.objects.create(function=self.function, name="seen", body={})
        with transaction.atomic():
            TestEvent.objects.create(function=self.function, name="unseen yet", body={})
            names = self.in_thread(lambda: sorted(TestEvent.objects.filter(function=self.function)
                                                 .values_list("name", flat=True)))
        self.assertEqual(names, ["seen"])

    def test_many_threads_writing_at_once_all_commit(self):
        barrier = threading.Barrier(24)
        errors = []

        def writer(index):
            try:
                barrier.wait()
                with transaction.atomic():
                    TestEvent.objects.create(function=self.function, name=f"t{index}", body={"i": index})
                TestEvent.objects.filter(function=self.function, name=f"t{index}").update(body={"i": -index})
            except BaseException as exc:   # noqa: BLE001 -- reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(errors, [])
        bodies = sorted(e.body["i"] for e in TestEvent.objects.filter(function=self.function))
        self.assertEqual(bodies, sorted(-i for i in range(24)))
        self.assertTrue(self.gate_is_open())

    def test_the_database_is_in_wal_mode_with_synchronous_normal(self):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = cursor.fetchone()[0]
        self.assertEqual((mode, synchronous), ("wal", 1))   # 1 is NORMAL
