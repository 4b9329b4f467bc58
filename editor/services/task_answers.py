"""The answers to task tokens: SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat (the AWS
API, the execution page and a function calling back all come here) and a nested `.sync`
execution's end. Each is stored on its TaskToken, then the execution is woken to take it: a parked
one is dispatched; a running one takes it at its next look (a Task parked beside a branch still at
work is looked at every second, runtime.asl.branches); a Task waiting on its thread (TestState's)
is notified (editor.services.task_tokens).

A token takes one answer; one answered, timed out, or whose execution ended answers TaskTimedOut,
as AWS does; another person's token does not exist for the caller.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from editor.errors import ApiError
from editor.models import Execution, TaskToken
from editor.services import executor, task_tokens

__all__ = ["token_row", "send_success", "send_failure", "send_heartbeat", "answer_child", "TOKEN_LIMIT"]

# A token as this install writes them: 64 characters of URL-safe base64 (48 random bytes).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{64}")
# AWS's limits on the token, SendTaskSuccess's output (256 KiB), SendTaskFailure's error and cause.
TOKEN_LIMIT = 2048
OUTPUT_LIMIT = 256 * 1024
ERROR_LIMIT = 256
CAUSE_LIMIT = 32768


# -- the answers ------------------------------------------------------------------------------

def token_row(user, token) -> TaskToken:
    """Returns the callback token `user` may answer, whatever state it is in; refuses a malformed
    token (InvalidToken) and one that is not theirs or not a callback's (TaskDoesNotExist)."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_LIMIT:
        raise ApiError("InvalidToken", "Invalid Token: the taskToken is a string of 1 to 2048 characters.",
                       field="taskToken")
    if not _TOKEN.fullmatch(token):
        raise ApiError("InvalidToken", "Invalid Token: 'Invalid token'", field="taskToken")
    row = (TaskToken.objects.select_related("execution", "execution__machine")
           .filter(token=token, execution__machine__owner=user, kind=TaskToken.Kind.CALLBACK).first())
    if row is None:
        raise ApiError("TaskDoesNotExist", "Task Does Not exist: the taskToken names no task of yours.",
                       status=404, field="taskToken")
    return row


def _open_token(user, token) -> TaskToken:
    """Returns the token row `user` may answer now: TaskTimedOut for one that took its answer,
    timed out or whose execution ended."""
    row = token_row(user, token)
    now = timezone.now()
    late = any(deadline is not None and deadline <= now
               for deadline in (row.heartbeat_deadline, row.timeout_deadline))
    if row.status != TaskToken.Status.WAITING or row.execution.status != Execution.Status.RUNNING or late:
        raise ApiError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'", field="taskToken")
    return row


def _store(row: TaskToken, **answer) -> TaskToken:
    """Stores an answer if the token still waits for one; TaskTimedOut when another came first."""
    with transaction.atomic():
        stored = TaskToken.objects.filter(pk=row.pk, status=TaskToken.Status.WAITING).update(
            status=TaskToken.Status.ANSWERED, answered_at=timezone.now(), **answer)
    if not stored:
        raise ApiError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'", field="taskToken")
    row.refresh_from_db()
    task_tokens.notify(row.token)
    _wake(row.execution_id)
    return row


def send_success(user, token, output) -> TaskToken:
    """Answers a task token with `output` (JSON text, or a value): the Task succeeds with it."""
    row = _open_token(user, token)
    if not isinstance(output, str):
        try:
            output = json.dumps(output, ensure_ascii=False)
        except (TypeError, ValueError):
            raise ApiError("InvalidOutput", "Invalid Output: output is not JSON.", field="output") from None
    if len(output.encode("utf-8")) > OUTPUT_LIMIT:
        raise ApiError("InvalidOutput", "Invalid Output: the output is limited to 256 KiB.", field="output")
    try:
        json.loads(output)
    except ValueError as exc:
        raise ApiError("InvalidOutput", f"Invalid Output: output is not valid JSON ({exc.msg} at character "
                                        f"{exc.pos}).", field="output") from None
    return _store(row, outcome="SUCCEEDED", output=output)


def send_failure(user, token, error=None, cause=None) -> TaskToken:
    """Answers a task token with a failure: the Task fails with `error` and `cause`."""
    for value, field, limit in ((error, "error", ERROR_LIMIT), (cause, "cause", CAUSE_LIMIT)):
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise ApiError("InvalidType", f"{field} is a string of at most {limit} characters.", field=field)
    row = _open_token(user, token)
    return _store(row, outcome="FAILED", error=error or None, cause=cause or None)


def send_heartbeat(user, token) -> TaskToken:
    """Says the task's worker is alive: its HeartbeatSeconds start again from now."""
    row = _open_token(user, token)
    if row.heartbeat_seconds:
        row.heartbeat_deadline = timezone.now() + timedelta(seconds=row.heartbeat_seconds)
        TaskToken.objects.filter(pk=row.pk, status=TaskToken.Status.WAITING).update(
            heartbeat_deadline=row.heartbeat_deadline)
        task_tokens.notify(row.token)
    return row


def answer_child(token: str, *, output: str | None = None, error: str | None = None,
                 cause: str | None = None) -> bool:
    """Answers the token a `.sync` parent waits on with its child's end; False when the parent
    stopped waiting (it timed out or ended)."""
    row = TaskToken.objects.filter(token=token, kind=TaskToken.Kind.CHILD).first()
    if row is None:
        return False
    outcome = "FAILED" if error is not None else "SUCCEEDED"
    stored = TaskToken.objects.filter(pk=row.pk, status=TaskToken.Status.WAITING).update(
        status=TaskToken.Status.ANSWERED, answered_at=timezone.now(), outcome=outcome, output=output,
        error=error, cause=cause)
    if stored:
        task_tokens.notify(token)
        _wake(row.execution_id)
    return bool(stored)


# -- waking the execution -----------------------------------------------------------------------

def _wake(execution_id) -> None:
    """Dispatches the execution, once the answer is committed, if it is parked (no process
    holds it) so that it takes the answer; a run that holds it takes the answer itself (a branch
    is notified; a Task about to park finds it, see runs._run_leased)."""
    def dispatch():
        if task_tokens.claim_answered(execution_id):
            executor.dispatch(execution_id)

    transaction.on_commit(dispatch)
