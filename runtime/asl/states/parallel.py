"""Parallel: runs every branch on the same input; its result is the list of branch outputs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from ..executor import Program, State, run_states
from ..errors import StatesError

__all__ = ["ParallelState", "run_all"]


def run_all(jobs, concurrent: bool, workers: int) -> list:
    """Runs `jobs` (callables) and returns their results in order.

    Once a job fails, jobs not yet started are not started; the first failure (by position) is
    raised after the jobs already running end. Runs the jobs on threads only when `concurrent`
    (they may block); otherwise one after the other, which in one Python process is the faster
    way to run CPU-only work."""
    if not concurrent or len(jobs) <= 1:
        return [job() for job in jobs]
    failed = threading.Event()

    def guarded(job):
        if failed.is_set():
            return _SKIPPED
        try:
            return job()
        except StatesError:
            failed.set()
            raise

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures = [pool.submit(guarded, job) for job in jobs]
        results, failure = [], None
        for future in futures:
            try:
                results.append(future.result())
            except StatesError as exc:
                failure = failure or exc
                results.append(None)
        if failure is not None:
            raise failure
        return results


_SKIPPED = object()


class ParallelState(State):
    type_name = "Parallel"
    has_result = True
    failed_type = "ParallelStateFailed"

    def __init__(self, name, spec, query_language, path):
        super().__init__(name, spec, query_language, path)
        self.branches = [Program(branch, self.query_language, f"{path}/Branches/{i}")
                         for i, branch in enumerate(spec["Branches"])]
        self.blocking = any(branch.blocking for branch in self.branches)

    def execute(self, frame, value, raw_input, ctx, entered_id):
        frame.emit("ParallelStateStarted")
        stop = frame.run.cancel

        def job_for(branch):
            def job():
                if stop.is_set():
                    return None
                return run_states(branch, value, frame.child())
            return job
        results = run_all([job_for(b) for b in self.branches], self.blocking, len(self.branches))
        return results
