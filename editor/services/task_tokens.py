"""Task tokens: the answers `.waitForTaskToken` Tasks (and `.sync` starts of nested executions)
wait for, kept in the database (TaskToken) so that an answer given in any process reaches the run,
in both modes, and survives a restart. This module is the engine's side, through the Task invoker
(editor.services.task_invoker): issue a token, read its answer and deadlines, wait for news, close
it. The answers themselves are given through editor.services.task_answers.

The engine records the answer in the history itself (TaskSucceeded / TaskFailed) when it takes it:
the history has one writer, the run holding the execution's lease.
"""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from editor.models import Execution, TaskToken
from editor.services import leases

__all__ = ["issue", "state_of", "wait", "close", "close_all", "waiting", "notify", "claim_answered"]

# A Task waiting on its thread (TestState's: an execution's runs park instead) looks at its token
# in the database at least this often (an answer given in another process; one given in this
# process wakes it at once).
POLL_SECONDS = 0.5

_news = threading.Condition()
_versions: dict[str, int] = {}


def notify(token: str) -> None:
    """Wakes this process's branches waiting on `token` (see `wait`)."""
    with _news:
        _versions[token] = _versions.get(token, 0) + 1
        _news.notify_all()


# -- the engine's side (through editor.services.task_invoker) ------------------------------------

def issue(execution_id, state: str, entered_id: int, attempt: int, *, kind: str,
          heartbeat: float | None, timeout: float | None) -> str:
    """Returns the token of one attempt of a Task: a new one, or the one already issued for it
    (a resumed run asks again)."""
    found = TaskToken.objects.filter(execution_id=execution_id, entered_event_id=entered_id,
                                     attempt=attempt).values_list("token", flat=True).first()
    if found is not None:
        return found
    # A new attempt of the Task: the tokens of its earlier attempts (one a restart cut off while
    # its function ran, say) take no answer any more.
    TaskToken.objects.filter(execution_id=execution_id, entered_event_id=entered_id, attempt__lt=attempt,
                             status=TaskToken.Status.WAITING).update(status=TaskToken.Status.CLOSED)
    now = timezone.now()
    row = TaskToken.objects.create(
        token=secrets.token_urlsafe(48), execution_id=execution_id, state_name=state[:80],
        entered_event_id=entered_id, attempt=attempt, kind=kind,
        heartbeat_seconds=int(heartbeat) if heartbeat else None,
        heartbeat_deadline=now + timedelta(seconds=heartbeat) if heartbeat else None,
        timeout_deadline=now + timedelta(seconds=timeout) if timeout else None)
    return row.token


def state_of(token: str):
    """Returns the runtime's TokenState of `token`: its answer (if one came) and its deadlines."""
    from runtime.asl import TokenAnswer, TokenState

    row = TaskToken.objects.get(token=token)
    answer = None
    if row.outcome == "SUCCEEDED":
        answer = TokenAnswer(output=row.output)
    elif row.outcome == "FAILED":
        answer = TokenAnswer(error=row.error, cause=row.cause, failed=True)
    return TokenState(answer, row.heartbeat_deadline, row.timeout_deadline)


def wait(token: str, until, cancel: threading.Event) -> None:
    """Returns when `token` may have news (answered or heartbeat in this process), after
    POLL_SECONDS (news from another process is read by the caller), at `until`, or on `cancel`."""
    connection.close()   # the branch may wait for long: its connection goes back to the pool
    seconds = POLL_SECONDS
    if until is not None:
        seconds = max(0.0, min(seconds, (until - timezone.now()).total_seconds()))
    with _news:
        seen = _versions.get(token, 0)
        _news.wait_for(lambda: _versions.get(token, 0) != seen or cancel.is_set(), seconds)


def close(token: str, timed_out: bool = False) -> bool:
    """Closes `token`: it takes no answer any more. With `timed_out` only if no answer came
    (returns False then, and the engine takes the answer instead)."""
    rows = TaskToken.objects.filter(token=token)
    if timed_out:
        rows = rows.filter(status=TaskToken.Status.WAITING)
    closed = bool(rows.update(status=TaskToken.Status.CLOSED))
    with _news:
        _versions.pop(token, None)
    return closed


def close_all(execution: Execution) -> None:
    """Closes every open token of an execution that ended: none of them takes an answer now."""
    TaskToken.objects.filter(execution=execution).exclude(status=TaskToken.Status.CLOSED).update(
        status=TaskToken.Status.CLOSED)


def waiting(execution: Execution) -> list[TaskToken]:
    """Returns the callback tokens of the execution that wait for an answer (the execution page)."""
    if execution.status != Execution.Status.RUNNING:
        return []
    return list(TaskToken.objects.filter(execution=execution, kind=TaskToken.Kind.CALLBACK,
                                         status=TaskToken.Status.WAITING).order_by("created_at", "id"))


def claim_answered(execution_id) -> bool:
    """Queues a parked execution again when one of its tokens has an answer it has not taken;
    returns True then (the caller dispatches it: should two callers both do, the execution's lease
    lets one run take it), False when it has none or a process holds the execution (its run takes
    the answer itself)."""
    if not TaskToken.objects.filter(execution_id=execution_id, status=TaskToken.Status.ANSWERED).exists():
        return False
    return bool(Execution.objects.filter(pk=execution_id, status=Execution.Status.RUNNING, lease_owner="")
                .update(lease_until=leases.queued_until()))
