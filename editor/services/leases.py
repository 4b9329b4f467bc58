"""Who runs an execution: leases kept in the database, so that any number of processes (the web
process's thread pool, Celery workers on any machines) run executions and none runs one twice.

An execution's lease is three columns. `lease_owner` names the process running it ("" for
nobody); `lease_until` says when the execution next needs attention (its owner's lease ends, a
queued start is presumed lost, a parked Wait is due); `lease_token` is the fencing token, raised by
one at every acquisition. Every checkpoint write names the token its run acquired (see
checkpoints.EventRecorder), so a process that lost its lease (it stalled past the lease's end and
another process resumed the execution) cannot write one more event.

Each process that runs executions has one Keeper thread (its Executor's). It renews the leases of the runs it
tracks, hands stop requests to them, wakes its parked executions when they are due and, where
several processes share the database (FLOWBENCH_EXECUTOR=celery), sweeps for executions whose
lease ran out (a dead worker's, a start whose queued job was lost) and dispatches them again.
"""

from __future__ import annotations

import heapq
import logging
import os
import secrets
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from editor.models import Execution

log = logging.getLogger(__name__)

SWEEP_BATCH = 200
STOP_CHECK_SECONDS = 0.5
# How often a worker looks for executions whose lease ran out: one indexed query. A dead worker's
# executions move this soon after its last renewal's lease ends (within one lease of its death,
# plus this).
SWEEP_SECONDS = 1.0

_process = (None, "")
_process_lock = threading.Lock()


def process_id() -> str:
    """This process's name as a lease owner: host, pid and a random part (pids are reused)."""
    global _process
    pid = os.getpid()
    if _process[0] != pid:
        # Under a lock: two threads naming the process at once would each make a random part, and
        # the leases one of them took would look another process's to this one's Keeper.
        with _process_lock:
            if _process[0] != pid:
                _process = (pid, f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}")
    return _process[1]


def lease_seconds() -> float:
    return settings.FLOWBENCH_LEASE_SECONDS


def queued_until() -> datetime:
    """When a start dispatched now is presumed lost if no process has taken it."""
    return timezone.now() + timedelta(seconds=2 * lease_seconds())


def acquire(execution_id, steal: bool = False, reserved: bool = False) -> int | None:
    """Takes the lease of a RUNNING execution for this process; returns the fencing token, or
    None when another process holds a live lease (or the execution is not running).

    `steal` takes it whoever holds it: the embedded mode's single process, resuming at start.
    `reserved`: this process reserved the execution when its job arrived (`reserve`).

    One statement, which returns the new token (UPDATE ... RETURNING, on SQLite and PostgreSQL
    alike): every run begins here, and the ORM's update and read back took 0.9 ms."""
    now = timezone.now()
    ops = connection.ops
    owner, table = process_id(), Execution._meta.db_table
    sql = (f"UPDATE {table} SET lease_owner = %s, lease_until = %s, lease_token = lease_token + 1 "
           f"WHERE id = %s AND status = %s")
    params = [owner, ops.adapt_datetimefield_value(now + timedelta(seconds=lease_seconds())),
              Execution._meta.pk.get_db_prep_value(execution_id, connection), Execution.Status.RUNNING.value]
    if not steal:
        free = ["lease_owner = ''", "lease_until < %s", "lease_until IS NULL"]
        params.append(ops.adapt_datetimefield_value(now))
        if reserved:
            free.append("lease_owner = %s")
            params.append(owner)
        sql += f" AND ({' OR '.join(free)})"
    with connection.cursor() as cursor:
        cursor.execute(sql + " RETURNING lease_token", params)
        row = cursor.fetchone()
    return row[0] if row else None


def reserve(execution_id) -> bool:
    """Marks a queued execution as this process's before its job runs (a worker takes jobs from
    the broker ahead of running them): held by a live lease from now on, which this process's
    Keeper renews, so that if the process dies before running it the sweep of another finds it
    within one lease (the broker would give the job back only after its visibility timeout)."""
    return bool(Execution.objects.filter(pk=execution_id, status=Execution.Status.RUNNING, lease_owner="")
                .update(lease_owner=process_id(), lease_until=timezone.now() + timedelta(seconds=lease_seconds())))


def release(execution_id, token: int, until: datetime) -> bool:
    """Gives the execution back until `until` (a parked Wait): anyone may take it from then.
    False when the lease is lost, or when a stop was asked (the caller still holds the lease
    then, and aborts the execution: a stop never waits for a parked Wait to end)."""
    return bool(Execution.objects.filter(pk=execution_id, lease_token=token, stop_requested=False)
                .update(lease_owner="", lease_until=until))


def hand_back(execution_id, token: int) -> bool:
    """Gives up a lease this process holds, due at once, with a new fencing token (the process is
    stopping): whoever starts next, here or on another worker, takes the execution without
    waiting for the lease to run out, and the run that held it cannot write another event."""
    return bool(Execution.objects.filter(pk=execution_id, lease_token=token, status=Execution.Status.RUNNING)
                .update(lease_owner="", lease_until=timezone.now(), lease_token=F("lease_token") + 1))


def claim_due(execution_id, owner: str | None = None) -> bool:
    """Marks a due execution (its lease ran out) as queued again; True for the one caller that
    did, which then dispatches it. With `owner` (the process whose lease ran out) it is taken
    only from that process, and counted as a takeover."""
    now = timezone.now()
    rows = (Execution.objects.filter(pk=execution_id, status=Execution.Status.RUNNING)
            .filter(Q(lease_until__lt=now) | Q(lease_until__isnull=True)))
    changes = {"lease_owner": "", "lease_until": queued_until()}
    if owner:
        rows = rows.filter(lease_owner=owner)
        changes["takeovers"] = F("takeovers") + 1
    return bool(rows.update(**changes))


class Tracked:
    """A run of this process: its fencing token, its switches (cancel aborts; suspend with cancel
    stops it without ending the execution) and its EventRecorder."""

    __slots__ = ("execution_id", "token", "cancel", "suspend", "recorder")

    def __init__(self, execution_id, token, cancel, suspend, recorder):
        self.execution_id = execution_id
        self.token = token
        self.cancel = cancel
        self.suspend = suspend
        self.recorder = recorder


class Keeper:
    """The lease keeper of one process (see the module docstring)."""

    def __init__(self, dispatch, sweep: bool):
        self.dispatch = dispatch
        self.sweep = sweep
        self.runs: dict[str, Tracked] = {}
        self.reserved: set[str] = set()   # executions whose jobs this process took, not yet run
        self.wakeups: list[tuple[datetime, str]] = []
        self.condition = threading.Condition()
        self.thread: threading.Thread | None = None
        self.last_renewal = 0.0
        self.last_sweep = 0.0
        self.closed = False
        # (every how many seconds, what, when it last ran): other periodic work of the process,
        # such as firing due schedules in the embedded mode and sweeping installs whose lease ran
        # out in a worker (flowbench.lifecycle).
        self.periodic: list[list] = []

    def start(self) -> None:
        with self.condition:
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="flowbench-lease-keeper", daemon=True)
                self.thread.start()

    def close(self) -> None:
        """Stops the thread after its current round (the process stops, or its executor was
        replaced): no lease of this keeper is renewed again."""
        with self.condition:
            self.closed = True
            self.condition.notify_all()

    def track(self, execution_id, token: int, cancel: threading.Event, suspend: threading.Event,
              recorder) -> None:
        self.start()
        with self.condition:
            self.runs[str(execution_id)] = Tracked(execution_id, token, cancel, suspend, recorder)

    def untrack(self, execution_id, recorder) -> None:
        with self.condition:
            tracked = self.runs.get(str(execution_id))
            if tracked is not None and tracked.recorder is recorder:   # not a later run's entry
                del self.runs[str(execution_id)]
                self.condition.notify_all()

    def hold(self, execution_id) -> None:
        """Renews the reservation of an execution whose job this process took (leases.reserve)."""
        self.start()
        with self.condition:
            self.reserved.add(str(execution_id))

    def take_reservation(self, execution_id) -> bool:
        """Returns whether this process held a reservation of the execution (and drops it): its
        job is about to run it."""
        with self.condition:
            if str(execution_id) in self.reserved:
                self.reserved.discard(str(execution_id))
                return True
            return False

    def tracked(self) -> list[Tracked]:
        """Returns the runs going on in this process now."""
        with self.condition:
            return list(self.runs.values())

    def wait_untracked(self, runs: list[Tracked], timeout: float) -> list[Tracked]:
        """Waits up to `timeout` seconds for `runs` to end; returns those still going."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                going = [t for t in runs if self.runs.get(str(t.execution_id)) is t]
                left = deadline - time.monotonic()
                if not going or left <= 0:
                    return going
                self.condition.wait(left)

    def runs_here(self, execution_id) -> bool:
        """Whether a live run of this process runs it (not one of an abandoned pool)."""
        with self.condition:
            tracked = self.runs.get(str(execution_id))
        return tracked is not None and tracked.recorder.alive

    def cancel(self, execution_id) -> bool:
        """Sets the cancel switch of a run of this process; False when none runs it here."""
        with self.condition:
            tracked = self.runs.get(str(execution_id))
        if tracked is None:
            return False
        tracked.cancel.set()
        return True

    def every(self, seconds: float, work) -> None:
        """Calls `work()` from this thread about every `seconds` (at least STOP_CHECK_SECONDS)."""
        with self.condition:
            self.periodic.append([seconds, work, 0.0])
        self.start()

    def wake_at(self, execution_id, when: datetime) -> None:
        self.start()
        with self.condition:
            heapq.heappush(self.wakeups, (when, str(execution_id)))
            self.condition.notify()

    # -- the thread -------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self.closed:
            with self.condition:
                timeout = STOP_CHECK_SECONDS
                if self.wakeups:
                    due_in = (self.wakeups[0][0] - timezone.now()).total_seconds()
                    timeout = max(0.0, min(timeout, due_in))
                self.condition.wait(timeout)
                if self.closed:
                    return
            try:
                self._tick()
            except Exception:
                log.exception("the lease keeper's round failed; it tries again")
                connection.close()

    def _tick(self) -> None:
        with self.condition:
            runs = dict(self.runs)
            reserved = set(self.reserved)
            due = []
            now = timezone.now()
            while self.wakeups and self.wakeups[0][0] <= now:
                due.append(heapq.heappop(self.wakeups)[1])
        renewal_due = time.monotonic() - self.last_renewal >= lease_seconds() / 3
        self._run_periodic()
        if not (runs or due or reserved or self.sweep):
            return   # nothing to do: no database work at all
        # The keeper keeps its connection between rounds (the loop closes it after an error):
        # waiting for a pooled one behind busy execution threads could let this process's leases
        # run out while it is alive.
        for execution_id in due:
            if claim_due(execution_id):
                self.dispatch(execution_id)
        if runs:
            self._pass_stops(runs)
        if renewal_due:
            self.last_renewal = time.monotonic()
            if runs:
                self._renew(runs)
            if reserved:
                self._renew_reserved(reserved)
        if self.sweep and time.monotonic() - self.last_sweep >= SWEEP_SECONDS:
            self.last_sweep = time.monotonic()
            self._sweep()

    def _run_periodic(self) -> None:
        with self.condition:
            periodic = [entry for entry in self.periodic if time.monotonic() - entry[2] >= entry[0]]
        for entry in periodic:
            entry[2] = time.monotonic()
            try:
                entry[1]()
            except Exception:   # its trouble never keeps the leases from being renewed
                log.exception("the keeper's periodic %s failed; it runs again next time", entry[1])
                connection.close()

    def _pass_stops(self, runs: dict[str, Tracked]) -> None:
        stopping = Execution.objects.filter(pk__in=list(runs), stop_requested=True).values_list("pk", flat=True)
        for execution_id in stopping:
            runs[str(execution_id)].cancel.set()

    def _renew(self, runs: dict[str, Tracked]) -> None:
        """Extends the leases this process still holds; a run whose lease another process took
        is told to stop (its next checkpoint write would be refused anyway)."""
        held = dict(Execution.objects.filter(pk__in=list(runs), lease_owner=process_id())
                    .values_list("pk", "lease_token"))
        for key, tracked in runs.items():
            if held.get(uuid.UUID(key)) != tracked.token:
                tracked.recorder.lose()
        Execution.objects.filter(pk__in=list(held), lease_owner=process_id()).update(
            lease_until=timezone.now() + timedelta(seconds=lease_seconds()))

    def _renew_reserved(self, reserved: set[str]) -> None:
        """Extends the leases of the executions whose jobs this process holds; forgets those it no
        longer holds (run, ended, or taken by another process)."""
        held = {str(pk) for pk in Execution.objects.filter(pk__in=list(reserved), lease_owner=process_id(),
                                                          status=Execution.Status.RUNNING).values_list("pk", flat=True)}
        Execution.objects.filter(pk__in=list(held), lease_owner=process_id()).update(
            lease_until=timezone.now() + timedelta(seconds=lease_seconds()))
        with self.condition:
            self.reserved -= reserved - held

    def _sweep(self) -> None:
        """Dispatches again every execution whose lease ran out: a dead or stopped process's
        (a takeover, logged and counted), a parked Wait that is due, a queued job the broker lost."""
        now = timezone.now()
        due = (Execution.objects.filter(status=Execution.Status.RUNNING)
               .filter(Q(lease_until__lt=now) | Q(lease_until__isnull=True))
               .values_list("pk", "lease_owner")[:SWEEP_BATCH])
        for execution_id, owner in list(due):
            if claim_due(execution_id, owner or None):
                if owner:
                    log.info("taking over execution %s from %s (its lease ran out)", execution_id, owner)
                self.dispatch(execution_id)
