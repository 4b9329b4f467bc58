"""Deploys whose dependencies install outside the request: the studio's Deploy, the Lambda API's
CreateFunction and UpdateFunctionCode (Lambda's State Pending and LastUpdateStatus InProgress).

`start_deploy` deploys at once what needs no install (no dependency file, or its package is in the
cache). Otherwise it records a FunctionUpdate holding the snapshot to deploy and hands it to an
installer: a thread of this process in the embedded mode, the Celery job
`flowbench.install_packages` on a worker in the distributed one (sent by name). pip and npm run in
their own sandboxed processes either way (editor.services.packages); their lines reach the page
through the Deploy's Channels group, and the update's end ("deploy.end") follows them.

An installer holds its update under a lease it renews while pip runs (the update's `runner` and
`lease_until`). When the installer's process dies the update stays InProgress in the database:
the next start of the web process (embedded mode) or a worker's lease sweep (distributed mode)
takes it up again, and after MAX_ATTEMPTS dead installers it fails, saying so. A function has at
most one update in progress (a constraint of the table); a second Deploy, UpdateFunctionCode or
configuration change meanwhile is refused with UpdateInProgress (409).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from editor import messages
from editor.errors import ApiError
from editor.models import Function, FunctionUpdate, FunctionVersion
from editor.services import validation
from editor.services.leases import lease_seconds, process_id
from editor.services.packages import deploy_group, install_packages, packages_cached
from editor.services.runner import available_runtimes
from editor.services.versions import deploy_snapshot, publish_version

__all__ = ["start_deploy", "run_update", "dispatch", "join_installers", "sweep_updates", "resume_updates",
           "update_in_progress",
           "refuse_while_updating", "last_update", "MAX_ATTEMPTS"]

log = logging.getLogger(__name__)

# How many installers may die on one update before it fails.
MAX_ATTEMPTS = 3
SWEEP_BATCH = 50
LOG_SECONDS = 0.25        # how often, at most, the log so far is stored while pip prints
LEASE_CHECK_SECONDS = 1.0
# At most this many installs at once in a process of the embedded mode. Its installer threads are
# daemons: a web process that stops does not wait for pip; its next start installs again.
INSTALLER_THREADS = 2
_installer_slots = threading.BoundedSemaphore(INSTALLER_THREADS)
_installers: list[threading.Thread] = []     # this process's installer threads that may still run
_installers_lock = threading.Lock()


def update_in_progress(function: Function) -> FunctionUpdate | None:
    return FunctionUpdate.objects.filter(function_id=function.pk, status=FunctionUpdate.Status.IN_PROGRESS).first()


def last_update(function: Function) -> FunctionUpdate | None:
    """Returns the function's latest background update (any status), or None."""
    return FunctionUpdate.objects.filter(function_id=function.pk).order_by("-created_at").first()


def _busy(function: Function) -> ApiError:
    return ApiError("UpdateInProgress", f"{function.name} is being updated: its dependencies are installing. "
                    "Wait for that Deploy to finish, then try again.", status=409)


def refuse_while_updating(function: Function) -> None:
    """Raises UpdateInProgress (409) while the function's dependencies install."""
    if update_in_progress(function) is not None:
        raise _busy(function)


def _checked_snapshot(function: Function) -> dict:
    snapshot = function.draft_snapshot()
    validation.files(snapshot["files"], limit=validation.STORED_CODE_LIMIT)
    validation.handler(snapshot["handler"])
    if snapshot["runtime"] not in {r["id"] for r in available_runtimes()}:
        raise ApiError("InvalidRuntime", f"The {snapshot['runtime']} runtime is not installed here.", field="runtime")
    return snapshot


def start_deploy(function: Function, *, files: dict | None = None,
                 publish: bool = False) -> tuple[FunctionVersion | None, FunctionUpdate | None]:
    """Deploys the function's draft (with `files` as its code first, as UpdateFunctionCode does);
    then publishes it too, with `publish`. Returns (the version $LATEST runs now, None) when
    nothing had to install, else (None, the update in progress), whose installer starts once the
    caller's transaction commits. Refuses UpdateInProgress while another update runs."""
    with transaction.atomic():
        function = Function.objects.select_for_update(of=("self",)).select_related("deployed").get(pk=function.pk)
        refuse_while_updating(function)
        if files is not None:
            function.files = files
            function.save(update_fields=["files", "updated_at"])
        snapshot = _checked_snapshot(function)
        if packages_cached(snapshot["runtime"], snapshot["files"]):
            lines: list[str] = []
            install_packages(snapshot["runtime"], snapshot["files"], function.pk, log=lines)
            version = deploy_snapshot(function, snapshot, install_log="\n".join(lines))
            if publish:
                version = _publish(function)
            return version, None
        try:
            with transaction.atomic():
                update = FunctionUpdate.objects.create(
                    function=function, snapshot=snapshot, publish=publish,
                    lease_until=timezone.now() + timedelta(seconds=lease_seconds()))
        except IntegrityError:   # another request started one between the check and here
            raise _busy(function) from None
        if function.deployed is None:
            function.state, function.state_reason = "Pending", ""
            function.save(update_fields=["state", "state_reason", "updated_at"])
        transaction.on_commit(lambda: dispatch(update.pk))
        return None, update


def _publish(function: Function) -> FunctionVersion:
    try:
        return publish_version(function)
    except ApiError as error:
        if error.code != "NothingToPublish":
            raise
        return function.versions.filter(number__isnull=False).order_by("-number").first()


# -- installers ---------------------------------------------------------------------------------

def dispatch(update_id, take_over: bool = False) -> None:
    """Hands the update to an installer: this process's threads, or a Celery worker. A job the
    broker refuses is not lost: the update's lease runs out and a worker's sweep sends it again."""
    if settings.FLOWBENCH_EXECUTOR != "celery":
        thread = threading.Thread(target=_run_here, args=(update_id, take_over), name="flowbench-install",
                                  daemon=True)
        with _installers_lock:
            _installers[:] = [t for t in _installers if t.is_alive()]
            _installers.append(thread)
        thread.start()
        return
    from flowbench.broker import send_job

    send_job("flowbench.install_packages", update_id, "update")


def join_installers() -> int:
    """Waits until every installer thread this process started has ended; returns how many it
    waited for. A short-lived command that deploys (`manage.py prepare` loading the sample apps)
    calls it so that its installs end before it does, rather than die with it."""
    with _installers_lock:
        running = [t for t in _installers if t.is_alive()]
    for thread in running:
        thread.join()
    return len(running)


def _run_here(update_id, take_over: bool) -> None:
    try:
        with _installer_slots:
            run_update(update_id, take_over=take_over)
    except Exception:
        log.exception("the install of update %s failed unexpectedly", update_id)
    finally:
        connection.close()


def _claim(update_id, take_over: bool) -> bool:
    now = timezone.now()
    found = FunctionUpdate.objects.filter(pk=update_id, status=FunctionUpdate.Status.IN_PROGRESS)
    if not take_over:
        found = found.filter(Q(runner="") | Q(lease_until__lt=now) | Q(lease_until__isnull=True))
    return found.update(runner=process_id(), lease_until=now + timedelta(seconds=lease_seconds()),
                        attempts=F("attempts") + 1) == 1


class _Log(list):
    """The lines of an install as they come (install_packages appends them), with an event set
    at each new one."""

    def __init__(self):
        super().__init__()
        self.grew = threading.Event()

    def append(self, line: str) -> None:
        super().append(line)
        self.grew.set()


class _Renewal(threading.Thread):
    """Keeps an update's lease while its install runs, and stores its log as it grows (at most
    every LOG_SECONDS): a page opened meanwhile shows it, then follows the socket."""

    def __init__(self, update_id, lines: _Log):
        super().__init__(name="flowbench-install-lease", daemon=True)
        self.update_id, self.lines, self.done = update_id, lines, threading.Event()

    def run(self) -> None:
        stored, renewed = 0, time.monotonic()
        try:
            while not self.done.is_set():
                self.lines.grew.wait(LEASE_CHECK_SECONDS)
                fields = {}
                if len(self.lines) != stored:
                    self.lines.grew.clear()
                    fields["log"] = "\n".join(self.lines[:len(self.lines)])
                if time.monotonic() - renewed >= lease_seconds() / 3:
                    fields["lease_until"] = timezone.now() + timedelta(seconds=lease_seconds())
                if not fields or self.done.is_set():
                    continue
                try:
                    FunctionUpdate.objects.filter(pk=self.update_id, runner=process_id(),
                                                  status=FunctionUpdate.Status.IN_PROGRESS).update(**fields)
                except Exception:   # the database busy a moment: the next round tries again
                    log.exception("could not renew the lease of update %s", self.update_id)
                    connection.close()
                    continue
                if "log" in fields:
                    stored = fields["log"].count("\n") + 1
                if "lease_until" in fields:
                    renewed = time.monotonic()
                self.done.wait(LOG_SECONDS)   # a burst of lines is stored once, not line by line
        finally:
            connection.close()


def run_update(update_id, take_over: bool = False) -> None:
    """Installs an update's dependencies, then deploys its snapshot (and publishes it when asked);
    a failed install fails the update with pip's or npm's message and changes nothing deployed.
    Does nothing when another live installer holds it (unless `take_over`) or it ended."""
    update_id = uuid.UUID(str(update_id))
    if not _claim(update_id, take_over):
        return
    update = FunctionUpdate.objects.select_related("function").get(pk=update_id)
    if update.attempts > MAX_ATTEMPTS:
        _finish(update_id, [], failed=f"The install stopped {update.attempts - 1} times (its installer process "
                                      "went away before it finished). Deploy again.")
        return
    lines = _Log()
    if update.attempts > 1:
        lines.append(f"The previous installer stopped before it finished: installing again (attempt "
                     f"{update.attempts} of {MAX_ATTEMPTS}).")
    renewal = _Renewal(update_id, lines)
    renewal.start()
    try:
        snapshot = update.snapshot
        install_packages(snapshot["runtime"], snapshot["files"], update.function_id, log=lines)
    except ApiError as error:
        _finish(update_id, lines, failed=error.message)
    except Exception as exc:
        log.exception("the install of update %s could not run", update_id)
        _finish(update_id, lines, failed=f"The install could not run: {exc}")
    else:
        _finish(update_id, lines)
    finally:
        renewal.done.set()
        renewal.lines.grew.set()


def _finish(update_id, lines: list[str], failed: str | None = None) -> None:
    """Ends the update this process holds: deploys its snapshot, or records why it failed."""
    with transaction.atomic():
        update = (FunctionUpdate.objects.select_for_update().filter(
            pk=update_id, status=FunctionUpdate.Status.IN_PROGRESS, runner=process_id()).first())
        if update is None:
            return   # the function was deleted, or another installer took the update over
        function = Function.objects.select_for_update(of=("self",)).select_related("deployed").get(
            pk=update.function_id)
        update.log, update.finished_at, update.lease_until = "\n".join(lines), timezone.now(), None
        if failed is None:
            update.version = deploy_snapshot(function, update.snapshot, install_log=update.log)
            if update.publish:
                update.version = _publish(function)
            update.status = FunctionUpdate.Status.SUCCESSFUL
        else:
            update.status, update.reason = FunctionUpdate.Status.FAILED, failed
            if function.deployed is None:
                function.state, function.state_reason = "Failed", failed
                function.save(update_fields=["state", "state_reason", "updated_at"])
        update.save()
        ended = messages.deploy_end(update.status, update.reason,
                                    update.version.label if update.version is not None else None)
        group = deploy_group(function.pk)
    transaction.on_commit(lambda: async_to_sync(get_channel_layer().group_send)(group, ended))


# -- after a restart ------------------------------------------------------------------------------

def sweep_updates() -> int:
    """Sends again every update whose installer's lease ran out (a dead worker's, a job the
    broker lost); returns how many. A worker's lease keeper calls it (distributed mode)."""
    due = list(FunctionUpdate.objects.filter(status=FunctionUpdate.Status.IN_PROGRESS)
               .filter(Q(lease_until__lt=timezone.now()) | Q(lease_until__isnull=True))
               .values_list("pk", "runner")[:SWEEP_BATCH])
    sent = 0
    for update_id, runner in due:
        # Queued again under a fresh lease, by one sweeper only: its job then finds it free to
        # claim, and it is not sent again unless that job is lost too.
        now = timezone.now()
        if not (FunctionUpdate.objects.filter(pk=update_id, status=FunctionUpdate.Status.IN_PROGRESS, runner=runner)
                .filter(Q(lease_until__lt=now) | Q(lease_until__isnull=True))
                .update(runner="", lease_until=now + timedelta(seconds=lease_seconds()))):
            continue
        log.info("taking up update %s%s (its lease ran out)", update_id, f" from {runner}" if runner else "")
        dispatch(update_id)
        sent += 1
    return sent


def resume_updates() -> int:
    """Takes up every update left in progress by the previous process (embedded mode, at start:
    that process is gone, whatever its lease says); returns how many."""
    ids = list(FunctionUpdate.objects.filter(status=FunctionUpdate.Status.IN_PROGRESS)
               .exclude(runner=process_id()).values_list("pk", flat=True))
    for update_id in ids:
        dispatch(update_id, take_over=True)
    return len(ids)
