"""Running Parallel branches and Map iterations on a bounded number of threads.

A definition asks for concurrency (a Parallel's branches, a Map's MaxConcurrency, Maps nested in
Maps), but the threads a run may hold are the host's to bound: a `ThreadBudget` counts the helper
threads one run may start, and may draw on a parent budget (the host's per user or per process).
When the budget is spent, the thread that reached the Map or Parallel runs the remaining jobs
itself, one after the other: work waits for threads and never fails for lack of them, nested
Maps cannot deadlock, and threads freed elsewhere are taken up as the jobs go on.
"""

from __future__ import annotations

import threading

from .errors import StatesError

__all__ = ["ThreadBudget", "run_all", "DEFAULT_RUN_THREADS"]

# Helper threads one run may hold at once when its host gives no budget (AWS runs at most 40
# iterations of an inline Map at once).
DEFAULT_RUN_THREADS = 40


class ThreadBudget:
    """A count of helper threads that may run at once, optionally within a `parent` budget.

    `try_take()` never waits: it returns False when this budget or a parent is spent."""

    def __init__(self, limit: int, parent: "ThreadBudget | None" = None):
        if limit < 0:
            raise ValueError("a thread budget's limit is 0 or more")
        self.limit = limit
        self.parent = parent
        self.in_use = 0
        self._lock = threading.Lock()

    def try_take(self) -> bool:
        with self._lock:
            if self.in_use >= self.limit:
                return False
            self.in_use += 1
        if self.parent is not None and not self.parent.try_take():
            with self._lock:
                self.in_use -= 1
            return False
        return True

    def give_back(self) -> None:
        with self._lock:
            self.in_use -= 1
        if self.parent is not None:
            self.parent.give_back()


def run_all(jobs: list, concurrent: bool, workers: int, budget: ThreadBudget,
            thread_done=None) -> list:
    """Runs `jobs` (callables) and returns their results in order.

    Once a job fails, jobs not yet started are not started; the first failure (by position) is
    raised after the jobs already running end, one that is not a StatesError (an abort, a
    timeout) before any StatesError. Only when `concurrent` (the jobs may block) do they run on up
    to `workers` threads at once: the calling thread and helpers from `budget`, started as jobs are
    taken while the budget allows; otherwise one after the other, which in one Python process is
    the faster way to run CPU-only work. Each helper calls `thread_done()` as it ends (the
    invoker's chance to release what it held on that thread, such as a database connection)."""
    if not concurrent or len(jobs) <= 1:
        return [job() for job in jobs]
    results = [None] * len(jobs)
    errors: dict[int, BaseException] = {}
    failed = threading.Event()
    lock = threading.Lock()
    taken = 0
    helpers: list[threading.Thread] = []
    wanted = max(1, min(workers, len(jobs)))   # threads working at once, the caller included

    def take() -> int | None:
        nonlocal taken
        with lock:
            if failed.is_set() or taken == len(jobs):
                return None
            taken += 1
            if taken < len(jobs) and len(helpers) + 1 < wanted and budget.try_take():
                # Started under the lock, so the caller never joins a helper not yet started.
                helper = threading.Thread(target=help_out, name="asl-branch", daemon=True)
                try:
                    helper.start()
                    helpers.append(helper)
                except RuntimeError:   # the host has no thread to give: this one works on
                    budget.give_back()
            return taken - 1

    def work() -> None:
        while (index := take()) is not None:
            try:
                results[index] = jobs[index]()
            except BaseException as exc:
                errors[index] = exc
                failed.set()

    def help_out() -> None:
        try:
            work()
        finally:
            budget.give_back()
            if thread_done is not None:
                thread_done()

    work()
    # Helpers are only added while jobs remain to be taken, and the caller took the last one:
    # the list no longer grows.
    for helper in helpers:
        helper.join()
    if errors:
        ordered = sorted(errors.items())
        raise next((exc for _, exc in ordered if not isinstance(exc, StatesError)), ordered[0][1])
    return results
