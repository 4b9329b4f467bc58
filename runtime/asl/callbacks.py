"""The seam through which Task states wait for an answer: task tokens, and the nested executions
a Task starts.

A `.waitForTaskToken` Task (and a `.sync` start of another execution) waits for something outside
the run: SendTaskSuccess / SendTaskFailure with its token, or the end of the execution it started.
The engine asks its invoker (the same object that runs functions) for the token and for news of it:

    invoker.issue_task_token(state, entered_id, attempt, kind=..., heartbeat=..., timeout=...)
        -> the token of this attempt of the Task (the same one every time it is asked again, so a
           resumed run waits on the token it handed out)
    invoker.task_token_state(token)           -> TokenState: the answer (or None) and the deadlines
    invoker.wait_task_token(token, until, cancel)
        -> returns when there may be news (an answer, a heartbeat), at `until`, or on `cancel`
    invoker.close_task_token(token, timed_out=False)
        -> no answer is taken any more (the Task moved on); with `timed_out`, only if none came
           meanwhile: returns whether it closed the token
    invoker.start_execution(parameters, state=..., token=..., sync=...)
        -> StartExecution's response {ExecutionArn, StartDate} for states:startExecution

`FakeTaskTokens` keeps tokens in memory, on the run's clock, for tests and scripts; Flowbench's
host keeps them in its database (editor.services.task_tokens).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

__all__ = ["TokenAnswer", "TokenState", "FakeTaskTokens", "CALLBACK", "CHILD"]

CALLBACK = "callback"   # answered with SendTaskSuccess / SendTaskFailure
CHILD = "child"         # answered by the end of the execution the Task started (.sync)


@dataclass(frozen=True)
class TokenAnswer:
    """An answer to a task token: `output` (JSON text) when it succeeded; else `error`, `cause`."""

    output: str | None = None
    error: str | None = None
    cause: str | None = None
    failed: bool = False


@dataclass(frozen=True)
class TokenState:
    """What is known of a token now: its answer (None while none came) and when the Task times
    out for want of a heartbeat or of an answer (None: never)."""

    answer: TokenAnswer | None
    heartbeat_deadline: datetime | None
    timeout_deadline: datetime | None


class _Token:
    __slots__ = ("token", "key", "heartbeat", "heartbeat_deadline", "timeout_deadline", "answer",
                 "closed")

    def __init__(self, token, key, heartbeat, heartbeat_deadline, timeout_deadline):
        self.token = token
        self.key = key
        self.heartbeat = heartbeat
        self.heartbeat_deadline = heartbeat_deadline
        self.timeout_deadline = timeout_deadline
        self.answer = None
        self.closed = False


class FakeTaskTokens:
    """Task tokens in memory, for a run on `clock` (a FakeClock makes deadlines pass at once).

    Answer with `succeed(token, output)`, `fail(token, error, cause)`, `heartbeat(token)`, from
    a function the run calls or from another thread. `on_wait(tokens, token)`, when given, is
    called each time the engine is about to wait for `token`: a test answers there, or moves the
    clock. Without it, a wait with a deadline jumps the clock to it; one without a deadline waits
    (on a condition, for real) for an answer or the run's cancel. Mix it into an invoker with
    `FakeTaskTokens.attach(invoker)`."""

    def __init__(self, clock, on_wait: Callable[["FakeTaskTokens", str], None] | None = None,
                 start_execution: Callable[..., dict] | None = None):
        self.clock = clock
        self.on_wait = on_wait
        self._start_execution = start_execution
        self.tokens: dict[str, _Token] = {}
        self._keys: dict[tuple, str] = {}
        self._changed = threading.Condition()
        self.started: list[dict[str, Any]] = []

    # -- the seam ------------------------------------------------------------------------------

    def issue_task_token(self, state: str, entered_id: int, attempt: int, *, kind: str = CALLBACK,
                         heartbeat: float | None = None, timeout: float | None = None) -> str:
        key = (state, entered_id, attempt)
        with self._changed:
            if key in self._keys:
                return self._keys[key]
            now = self.clock.now()
            token = secrets.token_urlsafe(48)
            self.tokens[token] = _Token(
                token, key, heartbeat,
                now + timedelta(seconds=heartbeat) if heartbeat else None,
                now + timedelta(seconds=timeout) if timeout else None)
            self._keys[key] = token
            return token

    def task_token_state(self, token: str) -> TokenState:
        with self._changed:
            found = self.tokens[token]
            return TokenState(found.answer, found.heartbeat_deadline, found.timeout_deadline)

    def wait_task_token(self, token: str, until: datetime | None, cancel: threading.Event) -> None:
        if self.on_wait is not None:
            self.on_wait(self, token)
            return
        with self._changed:
            if self.tokens[token].answer is not None:
                return
        if until is not None:
            self.clock.sleep(max((until - self.clock.now()).total_seconds(), 0), cancel)
            return
        with self._changed:
            while self.tokens[token].answer is None and not cancel.is_set():
                self._changed.wait(0.05)

    def close_task_token(self, token: str, timed_out: bool = False) -> bool:
        with self._changed:
            found = self.tokens[token]
            if timed_out and found.answer is not None:
                return False
            found.closed = True
            return True

    def start_execution(self, parameters: dict, *, state: str, token: str | None, sync: bool) -> dict:
        self.started.append({"parameters": parameters, "state": state, "token": token, "sync": sync})
        if self._start_execution is None:
            raise NotImplementedError("FakeTaskTokens was given no start_execution")
        return self._start_execution(parameters, token=token, sync=sync)

    # -- answering -----------------------------------------------------------------------------

    def succeed(self, token: str, output) -> None:
        import json

        self._answer(token, TokenAnswer(output=json.dumps(output)))

    def fail(self, token: str, error: str | None = None, cause: str | None = None) -> None:
        self._answer(token, TokenAnswer(error=error, cause=cause, failed=True))

    def heartbeat(self, token: str) -> None:
        with self._changed:
            found = self.tokens[token]
            if found.heartbeat:
                found.heartbeat_deadline = self.clock.now() + timedelta(seconds=found.heartbeat)
            self._changed.notify_all()

    def _answer(self, token: str, answer: TokenAnswer) -> None:
        with self._changed:
            found = self.tokens[token]
            if found.closed or found.answer is not None:
                raise ValueError("the task token was answered or timed out already")
            found.answer = answer
            self._changed.notify_all()

    def attach(self, invoker):
        """Returns `invoker` with this object's token methods (to run functions and wait)."""
        for name in ("issue_task_token", "task_token_state", "wait_task_token", "close_task_token",
                     "start_execution"):
            setattr(invoker, name, getattr(self, name))
        return invoker
