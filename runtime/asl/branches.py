"""Running Parallel branches and Map iterations on a bounded number of threads.

A definition asks for concurrency (a Parallel's branches, a Map's MaxConcurrency, Maps nested in
Maps), but the threads a run may hold are the host's to bound: a `ThreadBudget` counts the helper
threads one run may start, and may draw on a parent budget (the host's per user or per process).
When the budget is spent, the thread that reached the Map or Parallel runs the remaining jobs
itself, one after the other: work waits for threads and never fails for lack of them, nested
Maps cannot deadlock, and threads freed elsewhere are taken up as the jobs go on.

A job may park (raise `Parked`: a long Wait or a callback Task, when the host asked the run to
park): it ends at once, holding no thread, while its siblings go on; once every job has ended or
parked, the Map or Parallel parks in turn, until the earliest of its parked jobs is due, and a
resumed run continues each parked branch or iteration where its history left it.
"""

from __future__ import annotations

import threading
from datetime import datetime

from .errors import StatesError

__all__ = ["ThreadBudget", "run_all", "DEFAULT_RUN_THREADS", "Parked"]

# Helper threads one run may hold at once when its host gives no budget (AWS runs at most 40
# iterations of an inline Map at once).
DEFAULT_RUN_THREADS = 40


class Parked(Exception):
    """The run hands its execution back to its host until `until`, when the host asked for it
    (`park_after`): a Wait at least that long, or a `.waitForTaskToken` Task without its answer,
    stops there, in the machine's own sequence or in any Parallel branch or Map iteration. The
    history of each sequence that parked ends with that state's Entered event (a Wait) or its
    TaskSubmitted (a Task), and a resumed run (`resume_from`) continues it there: a Wait waits
    only what is left, a Task takes its answer.

    `abandon` holds what to call should the run not continue a parked sequence (a sibling failed
    the Map or Parallel): a Task's token stops taking answers."""

    def __init__(self, until: datetime, abandon: tuple = ()):
        super().__init__(until.isoformat())
        self.until = until
        self.abandon = tuple(abandon)

    @classmethod
    def earliest(cls, parked: list["Parked"]) -> "Parked":
        """Returns the Parked of a Map or Parallel whose jobs parked: due with the first of them."""
        return cls(min(p.until for p in parked), tuple(f for p in parked for f in p.abandon))


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
    invoker's chance to release what it held on that thread, such as a database connection).

    A job that parks (raises Parked) frees its thread, not its place: at most `workers` jobs are
    under way at once, parked ones included, as MaxConcurrency counts iterations that wait. When
    no job failed and some parked, Parked is raised, due with the earliest of them; when one
    failed, the parked ones are abandoned (their `abandon` called) and the failure raised."""
    if not concurrent or len(jobs) <= 1:
        # Jobs that may park are concurrent (a Wait or Task blocks): a lone one parks on its own.
        return [job() for job in jobs]
    results = [None] * len(jobs)
    errors: dict[int, BaseException] = {}
    parked: list[Parked] = []
    failed = threading.Event()
    lock = threading.Lock()
    taken = 0
    ended = 0    # jobs that returned or failed: the others taken are running or parked
    helpers: list[threading.Thread] = []
    wanted = max(1, min(workers, len(jobs)))   # threads working at once, the caller included

    def take() -> int | None:
        nonlocal taken
        with lock:
            if failed.is_set() or taken == len(jobs) or taken - ended >= wanted:
                return None
            taken += 1
            if taken < len(jobs) and len(helpers) + 1 < wanted - len(parked) and budget.try_take():
                # Started under the lock, so the caller never joins a helper not yet started.
                helper = threading.Thread(target=help_out, name="asl-branch", daemon=True)
                try:
                    helper.start()
                    helpers.append(helper)
                except RuntimeError:   # the host has no thread to give: this one works on
                    budget.give_back()
            return taken - 1

    def work() -> None:
        nonlocal ended
        while (index := take()) is not None:
            try:
                results[index] = jobs[index]()
            except Parked as exc:
                with lock:
                    parked.append(exc)
                continue
            except BaseException as exc:
                errors[index] = exc
                failed.set()
            with lock:
                ended += 1

    def help_out() -> None:
        try:
            work()
        finally:
            budget.give_back()
            if thread_done is not None:
                thread_done()

    work()
    # Helpers are only added by a thread at work, and each is listed before the thread that
    # started it ends: once the last one listed has been joined, the list no longer grows.
    for helper in helpers:
        helper.join()
    if errors:
        ordered = sorted(errors.items())
        error = next((exc for _, exc in ordered if not isinstance(exc, StatesError)), ordered[0][1])
        if isinstance(error, StatesError):
            # The Map or Parallel fails: what its parked jobs wait for is not waited for any more.
            # (A run suspended or aborted keeps them: it resumes them, or its host closes them.)
            for abandon in (f for p in parked for f in p.abandon):
                abandon()
        raise error
    if parked:
        raise Parked.earliest(parked)
    return results
