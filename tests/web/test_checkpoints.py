"""Checkpoints: a run's events are stored as the engine emitted them, once (editor.services.checkpoints)."""

from editor.services import checkpoints, leases
from tests.web.test_leases import OneExecution


def emitted(first: int, count: int) -> list[dict]:
    """Events as the engine hands them over: details nested, text in any script, numbers of any size."""
    return [{"id": i, "previousEventId": i - 1, "timestamp": "2026-01-01T00:00:00.123Z", "type": "PassStateExited",
             "stateExitedEventDetails": {"name": f"Étape {i} 状態", "output": '{"n": 1}',
                                         "outputDetails": {"truncated": False}, "big": 2 ** 70 + i}}
            for i in range(first, first + count)]


class CheckpointTests(OneExecution):
    def test_stored_events_read_back_as_the_engine_emitted_them(self):
        token = leases.acquire(self.execution.pk)
        recorder = checkpoints.EventRecorder(self.execution.pk, token)
        events = emitted(1, 300)
        for batch in (events[:1], events[1:]):
            recorder.pending.extend(batch)
            recorder.flush()
        self.assertEqual(checkpoints.stored_history(self.execution.pk), events)

    def test_an_event_id_stored_already_ends_the_run_that_writes_it_again(self):
        token = leases.acquire(self.execution.pk)
        first = checkpoints.EventRecorder(self.execution.pk, token)
        first.pending.extend(emitted(1, 3))
        first.flush()
        again = checkpoints.EventRecorder(self.execution.pk, token)
        again.pending.extend(emitted(3, 2))
        with self.assertRaises(checkpoints.Abandoned):
            again.flush()
        self.assertEqual([e["id"] for e in checkpoints.stored_history(self.execution.pk)], [1, 2, 3])
        self.assertFalse(again.alive)
