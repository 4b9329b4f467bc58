"""This process's executor: where executions run, how they are dispatched, resumed and handed
back when the process stops.

Embedded mode (FLOWBENCH_EXECUTOR=threads, the default): executions run on a pool of threads in
the web process. Distributed mode (FLOWBENCH_EXECUTOR=celery): each execution is a Celery job
(`flowbench.run_execution`) that a worker runs on its own threads. Either way the process has one
Executor: its lease Keeper (editor.services.leases), the thread budgets that bound Maps and
Parallels per user, and the stop that hands every run back when the process goes away.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from django.conf import settings
from django.db.models import F

from editor.models import Execution
from editor.services import leases, runs

__all__ = ["Executor", "get_executor", "replace_executor", "dispatch", "request_stop",
           "resume_running_executions"]

log = logging.getLogger(__name__)


def _distributed() -> bool:
    return settings.FLOWBENCH_EXECUTOR == "celery"


class Executor:
    """This process's runs of executions (see the module docstring).

    `workers` threads run executions in the embedded mode (FLOWBENCH_EXECUTION_THREADS); they are
    daemon threads, so a process that stops does not wait for a run it handed back."""

    def __init__(self, workers: int | None = None, *, distributed: bool | None = None):
        self.distributed = _distributed() if distributed is None else distributed
        self.workers = workers or settings.FLOWBENCH_EXECUTION_THREADS
        self.keeper = leases.Keeper(self.dispatch, sweep=self.distributed)
        self.abandoned = False   # acts as if its process died: its runs write nothing more
        self.stopping = False    # its process stops: no run starts here any more
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._futures: dict[str, Future] = {}
        self._budgets: dict = {}

    # -- running -------------------------------------------------------------------------------

    def dispatch(self, execution_id, steal: bool = False) -> None:
        """Runs the execution: on this executor's threads, or as a Celery job in the distributed
        mode. A job the broker cannot take now (Redis restarting) is not lost: the execution's
        lease runs out and a worker's Keeper dispatches it again. A stopping executor starts
        nothing: the execution stays RUNNING in the database for the next start."""
        if self.stopping or self.abandoned:
            return
        if not self.distributed:
            self.submit(execution_id, steal)
            return
        from flowbench.broker import send_job

        send_job("flowbench.run_execution", execution_id, "execution")

    def submit(self, execution_id, steal: bool = False) -> Future:
        """Queues a run of the execution on this executor's threads; returns its Future."""
        future: Future = Future()
        key = str(execution_id)
        with self._lock:
            self._futures[key] = future
            if len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name="flowbench-execution", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._queue.put((execution_id, steal, future))
        return future

    def _work(self) -> None:
        while True:
            execution_id, steal, future = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                if not (self.stopping or self.abandoned):
                    self.run(execution_id, steal)
            finally:
                future.set_result(None)
                self._forget(str(execution_id), future)

    def run(self, execution_id, steal: bool = False) -> None:
        """Runs the execution on the calling thread (a pool thread, or a Celery job's)."""
        runs.run_guarded(execution_id, self, steal, reserved=self.keeper.take_reservation(execution_id),
                         keep_connection=threading.current_thread() in self._threads)

    def reserve(self, execution_id) -> None:
        """A job to run the execution reached this worker and waits for a free thread: the
        execution is held under this process's lease meanwhile (leases.reserve), so that if the
        worker dies first, another takes the execution up within one lease."""
        if leases.reserve(execution_id):
            self.keeper.hold(execution_id)

    def _forget(self, key: str, done: Future) -> None:
        """Drops a finished run's future (a long-lived process runs executions without end)."""
        with self._lock:
            if self._futures.get(key) is done:
                del self._futures[key]

    def wait(self, execution_id, timeout: float | None = 60) -> None:
        """Waits for this executor's latest run of the execution to end (tests and benchmarks)."""
        with self._lock:
            future = self._futures.get(str(execution_id))
        if future is not None:
            future.result(timeout)

    def queued(self) -> int:
        """Returns how many runs wait for one of this executor's threads."""
        return self._queue.qsize()

    def thread_budget(self, user_id):
        """Returns the thread budget of one run of `user_id`'s: FLOWBENCH_THREADS_PER_EXECUTION
        helper threads, within the user's FLOWBENCH_THREADS_PER_USER in this process."""
        from runtime.asl import ThreadBudget

        with self._lock:
            user = self._budgets.get(user_id)
            if user is None:
                user = self._budgets[user_id] = ThreadBudget(settings.FLOWBENCH_THREADS_PER_USER)
        return ThreadBudget(settings.FLOWBENCH_THREADS_PER_EXECUTION, parent=user)

    # -- stopping ------------------------------------------------------------------------------

    def stop(self, grace: float | None = None) -> int:
        """Hands every run of this process back, leaving its execution RUNNING for the next start
        (or another worker) to continue; returns how many it handed back.

        Nothing new starts here from now. Each run stops at its next state, or in its Wait, with
        every event it emitted written; a run inside a function call gets up to `grace` seconds
        (FLOWBENCH_STOP_GRACE_SECONDS) for the function to answer, so its result is kept. What
        still runs then is sealed: its events so far are written and it writes nothing more (its
        execution resumes as after a crash: the Task's Retry on Lambda.ServiceException applies)."""
        grace = settings.FLOWBENCH_STOP_GRACE_SECONDS if grace is None else grace
        self.stopping = True
        going = self.keeper.tracked()
        for tracked in going:
            tracked.suspend.set()
            tracked.cancel.set()   # wakes what sleeps: a Wait, a Retry's back-off
        still = self.keeper.wait_untracked(going, grace)
        for tracked in still:
            tracked.recorder.seal()
            try:
                leases.hand_back(tracked.execution_id, tracked.token)
            except Exception:
                log.exception("execution %s: could not hand its lease back; it resumes when the lease "
                              "runs out", tracked.execution_id)
        self.keeper.close()
        if going:
            log.warning("stopping: handed back %d running execution(s) (%d still inside a function call)",
                        len(going), len(still))
        return len(going)

    def abandon(self) -> None:
        """Acts as if this process died: its runs stop writing at their next event."""
        self.abandoned = True
        self.keeper.close()


_executor: Executor | None = None
_executor_lock = threading.Lock()


def get_executor() -> Executor:
    """Returns this process's Executor, created on first use."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = Executor()
        return _executor


def replace_executor(workers: int | None = None) -> Executor:
    """Abandons the current executor (as a process that dies) and returns a fresh one (tests)."""
    global _executor
    with _executor_lock:
        old, _executor = _executor, Executor(workers)
    if old is not None:
        old.abandon()
    return _executor


def dispatch(execution_id, steal: bool = False) -> None:
    """Runs the execution through this process's executor (see Executor.dispatch)."""
    get_executor().dispatch(execution_id, steal)


def request_stop(execution_id) -> bool:
    """Aborts the execution where it stands: through its run's cancel switch when this process
    runs it, else by taking its lease (queued, parked, or left by a dead process) and ending it
    here. False when another live process runs it: that process's Keeper passes the stop to the
    run within a second (the row says stop_requested)."""
    executor = get_executor()
    if executor.keeper.cancel(execution_id):
        return True
    return runs.run_guarded(execution_id, executor, steal=not executor.distributed)


def resume_running_executions() -> list[str]:
    """Continues every execution left RUNNING by a process that stopped; returns their ids. The
    embedded mode is one process, so it takes them whoever held them; with Celery workers, the
    workers' Keepers take those whose lease ran out, and this does nothing."""
    executor = get_executor()
    if executor.distributed:
        return []
    ids = list(Execution.objects.filter(status=Execution.Status.RUNNING).order_by("started_at")
               .values_list("id", flat=True))
    Execution.objects.filter(pk__in=ids).exclude(lease_owner="").update(takeovers=F("takeovers") + 1)
    for execution_id in ids:
        if not executor.keeper.runs_here(execution_id):
            executor.dispatch(execution_id, steal=True)
    return [str(i) for i in ids]
