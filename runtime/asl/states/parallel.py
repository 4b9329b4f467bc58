"""Parallel: runs every branch on the same input; its result is the list of branch outputs."""

from __future__ import annotations

import threading

from ..executor import Program, State, run_states
from ..errors import StatesError

__all__ = ["ParallelState", "run_all"]


def run_all(jobs, concurrent: bool, workers: int, thread_done=None) -> list:
    """Runs `jobs` (callables) and returns their results in order.

    Once a job fails, jobs not yet started are not started; the first failure (by position) is
    raised after the jobs already running end, one that is not a StatesError (an abort, a
    timeout) before any StatesError. Runs the jobs on up to `workers` threads only when
    `concurrent` (they may block); otherwise one after the other, which in one Python process is
    the faster way to run CPU-only work. Each thread calls `thread_done()` as it ends (the
    invoker's chance to release what it held on that thread, such as a database connection)."""
    if not concurrent or len(jobs) <= 1:
        return [job() for job in jobs]
    results = [None] * len(jobs)
    errors: dict[int, BaseException] = {}
    failed = threading.Event()
    positions = iter(range(len(jobs)))
    take = threading.Lock()

    def work():
        try:
            while not failed.is_set():
                with take:
                    index = next(positions, None)
                if index is None:
                    return
                try:
                    results[index] = jobs[index]()
                except BaseException as exc:
                    errors[index] = exc
                    failed.set()
        finally:
            if thread_done is not None:
                thread_done()

    threads = [threading.Thread(target=work, name="asl-branch", daemon=True)
               for _ in range(max(1, min(workers, len(jobs))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        ordered = sorted(errors.items())
        raise next((exc for _, exc in ordered if not isinstance(exc, StatesError)), ordered[0][1])
    return results



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
        results = run_all([job_for(b) for b in self.branches], self.blocking, len(self.branches),
                          frame.run.thread_done)
        return results
