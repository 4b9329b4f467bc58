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
resumed run continues each parked branch or iteration where its history left it. While a sibling
still works, one thread of the Map or Parallel (its scheduler) watches the parked jobs and calls
each again when due, so that a Wait beside a long Task ends on time.
"""

from __future__ import annotations

import threading
import time
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
            thread_done=None, now=None) -> list:
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
    failed, the parked ones are abandoned (their `abandon` called) and the failure raised.

    With `now` (the run's clock), a parked job does not wait for busy siblings: while another job
    still works, a parked one is called again once it is due (or, if it waits for an answer,
    every RECHECK_SECONDS), and goes on where it stood (a job called again finds its own events in
    the run's history). A Wait beside a long Task so ends on time, as it does in AWS, and the Map
    or Parallel parks only once no job works."""
    if not concurrent or len(jobs) <= 1:
        # Jobs that may park are concurrent (a Wait or Task blocks): a lone one parks on its own.
        return [job() for job in jobs]
    return _Jobs(jobs, workers, budget, thread_done, now).run()


# A parked job waiting for an answer (a callback Task) is called again this often while a sibling
# works, to take an answer that came.
RECHECK_SECONDS = 1.0


class _Jobs:
    """The jobs of one run_all call, the threads working on them and the parked ones."""

    def __init__(self, jobs: list, workers: int, budget: ThreadBudget, thread_done, now):
        self.jobs, self.budget, self.thread_done, self.now = jobs, budget, thread_done, now
        self.results = [None] * len(jobs)
        self.errors: dict[int, BaseException] = {}
        self.parked: dict[int, tuple[Parked, float]] = {}   # index -> (its Parked, when it parked)
        self.ready: list[int] = []     # parked jobs due: called again before any new one
        self.failed = False
        self.condition = threading.Condition()
        self.taken = 0
        self.ended = 0    # jobs that returned or failed: the others taken are working or parked
        self.helpers: list[threading.Thread] = []   # the helpers and the scheduler, as started
        self.helper_count = 0
        self.scheduling = False
        self.wanted = max(1, min(workers, len(jobs)))   # threads working at once, the caller included

    def run(self) -> list:
        self.work()
        # Helpers are only added by a thread at work (or the scheduler), and each is listed before
        # the thread that started it ends: once the last one listed has been joined, the list no
        # longer grows.
        for helper in self.helpers:
            helper.join()
        if self.errors:
            ordered = sorted(self.errors.items())
            error = next((exc for _, exc in ordered if not isinstance(exc, StatesError)), ordered[0][1])
            if isinstance(error, StatesError):
                # The Map or Parallel fails: what its parked jobs wait for is not waited for any
                # more. (A run suspended or aborted keeps them: it resumes them, or its host closes them.)
                for abandon in (f for parked, _ in self.parked.values() for f in parked.abandon):
                    abandon()
            raise error
        if self.parked:
            raise Parked.earliest([parked for parked, _ in self.parked.values()])
        return self.results

    def _working(self) -> int:
        """Jobs being worked on now: taken, neither ended nor parked (a parked one that is due
        counts as parked until a thread takes it again)."""
        return self.taken - self.ended - len(self.parked)

    def take(self) -> int | None:
        with self.condition:
            if self.failed:
                return None
            if self.ready:
                index = self.ready.pop(0)
                del self.parked[index]
                return index
            if self.taken == len(self.jobs) or self.taken - self.ended >= self.wanted:
                return None
            self.taken += 1
            if self.taken < len(self.jobs) and self.helper_count + 1 < self.wanted - len(self.parked):
                self._start_helper()
            self._schedule()   # (a job parked earlier must not wait for this one)
            return self.taken - 1

    def _start_helper(self) -> bool:
        """Starts a helper thread if the budget allows (the caller holds the condition)."""
        if not self.budget.try_take():
            return False
        helper = threading.Thread(target=self.help_out, name="asl-branch", daemon=True)
        try:
            # Started under the lock, so the caller never joins a helper not yet started.
            helper.start()
        except RuntimeError:   # the host has no thread to give: this one works on
            self.budget.give_back()
            return False
        self.helpers.append(helper)
        self.helper_count += 1
        return True

    def work(self) -> None:
        while (index := self.take()) is not None:
            try:
                self.results[index] = self.jobs[index]()
            except Parked as exc:
                with self.condition:
                    self.parked[index] = (exc, time.monotonic())
                    self._schedule()
                    self.condition.notify_all()
                continue
            except BaseException as exc:
                with self.condition:
                    self.errors[index] = exc
                    self.failed = True
                    self.ended += 1
                    self.condition.notify_all()
                continue
            with self.condition:
                self.ended += 1
                self.condition.notify_all()

    def help_out(self) -> None:
        try:
            self.work()
        finally:
            self.budget.give_back()
            if self.thread_done is not None:
                self.thread_done()

    # -- parked jobs that come due while a sibling works ---------------------------------------

    def _schedule(self) -> None:
        """Starts the scheduler thread when a job parked and another still works (the caller holds
        the condition). Without a clock (`now`), parked jobs wait for the end of the others."""
        if self.now is None or self.scheduling or self.failed or not self.parked or self._working() <= 0:
            return
        thread = threading.Thread(target=self._scheduler, name="asl-parked", daemon=True)
        try:
            thread.start()
        except RuntimeError:
            return   # no thread to spare: the parked jobs wait for the others' end, as without a clock
        self.scheduling = True
        self.helpers.append(thread)

    def _due_in(self, index: int) -> float:
        """Seconds until a parked job is due (0 or less: it is)."""
        parked, since = self.parked[index]
        seconds = (parked.until - self.now()).total_seconds()
        if parked.abandon:   # it waits for an answer: looked at again every RECHECK_SECONDS
            seconds = min(seconds, since + RECHECK_SECONDS - time.monotonic())
        return seconds

    def _scheduler(self) -> None:
        """While a job works and others are parked: hands each parked job, once due, to a thread
        (a helper if the budget allows, else this one), then ends once no job works or one failed."""
        try:
            while True:
                with self.condition:
                    waiting = [i for i in self.parked if i not in self.ready]
                    if self.failed or not waiting or self._working() <= 0:
                        self.scheduling = False
                        return
                    due = [i for i in waiting if self._due_in(i) <= 0]
                    if not due:
                        # (at most a second at a time: the run's clock may be moved by hand)
                        self.condition.wait(min(1.0, max(0.0, min(self._due_in(i) for i in waiting))))
                        continue
                    self.ready.extend(due)
                    helped = all(self._start_helper() for _ in due)
                if not helped:
                    self.work()   # no helper to spare: this thread works on the jobs due
        finally:
            with self.condition:
                self.scheduling = False
            if self.thread_done is not None:
                self.thread_done()
