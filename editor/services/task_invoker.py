"""The Task invoker of executions: the user's deployed functions, after the role allows the call.

Task states name a function (name, partial or full ARN, with an optional qualifier). It resolves to
the function's deployed version ($LATEST) or a published version number, is checked against the
role's policy (lambda:InvokeFunction on the function's ARN), runs in the process-wide runner and is
recorded as an Invocation of the execution, with its logs and figures.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection

from editor.models import Function, FunctionVersion, Invocation
from editor.services.concurrency import LimitedRunner, pool_of
from editor.services.invocations import function_spec, record_result, sync_deadline
from editor.services.accounts import account_id, function_arn
from editor.services.policy import evaluate


# How long a run goes on with the role's policy it read (see TaskInvoker._role_policy).
POLICY_SECONDS = 1.0

# Starts a nested execution for states:startExecution: editor.services.nested_executions.start_child,
# set by the app's ready() (starting an execution needs the executor, which imports this module).
start_child = None


class TaskInvoker:
    """Implements runtime.asl's invoker seam for one execution."""

    def __init__(self, execution, role, *, before_call=None, owner_id=None, session=None):
        # `execution` is None for TestState (editor.services.test_state): then `owner_id` and
        # `session` (the role session's name) stand for what the execution gives.
        self.execution = execution
        self.role = role
        self.owner_id = execution.machine.owner_id if execution is not None else owner_id
        self.session = execution.id.hex if execution is not None else session
        # The run's checkpoint: the history says the Task started before its function runs.
        self._before_call = before_call
        self._policy = (None, -POLICY_SECONDS)   # the role's policy, and when it was read

    def _role_policy(self):
        """Returns the role's policy now: read again at most once every POLICY_SECONDS (a Map
        calls a function per item), so an edit of the role applies to running executions within
        that, as IAM's changes spread within seconds."""
        policy, read_at = self._policy
        if time.monotonic() - read_at >= POLICY_SECONDS:
            role = self.role.__class__.objects.filter(pk=self.role.pk).first()
            policy = role.policy if role else None
            self._policy = (policy, time.monotonic())
        return policy

    def thread_done(self) -> None:
        """A Map or Parallel thread ends: close the database connection it opened."""
        connection.close()

    def _resolve(self, name: str, qualifier: str | None):
        function = Function.objects.filter(owner_id=self.owner_id, name=name).first()
        if function is None:
            return None, None
        if qualifier in (None, "", "$LATEST"):
            if function.deployed_id is None:
                return function, None
            return function, FunctionVersion.objects.get(pk=function.deployed_id)
        if not str(qualifier).isdigit():
            return function, None
        return function, function.versions.filter(number=int(qualifier)).first()

    def invoke_function(self, name: str, payload: Any, *, qualifier: str | None = None,
                        timeout: float | None = None, arn: str = "", state: str = ""):
        from runtime.arn import parse_function
        from runtime.asl import FunctionNotFound, FunctionServiceError
        from runtime.tasks import LambdaInvoker

        if self._before_call is not None:
            self._before_call()
        function_name = name   # the engine parsed the Task's resource (runtime.arn)
        named = parse_function(arn) if arn else None
        if named is not None and named.account not in (None, account_id(self.owner_id)):
            # Another account's function: invisible, as every other person's resources are.
            raise FunctionNotFound(f"Function not found: {arn}")
        resource = function_arn(self.owner_id, function_name, qualifier or None)
        decision = evaluate(self._role_policy(), "lambda:InvokeFunction", resource)
        if decision != "allow":
            because = ("with an explicit deny in an identity-based policy" if decision == "deny"
                       else "because no identity-based policy allows the lambda:InvokeFunction action")
            session = self.session
            raise FunctionServiceError(
                "AccessDeniedException",
                f"User: arn:aws:sts::{account_id(self.owner_id)}:assumed-role/{self.role.name}/{session} is not authorized "
                f"to perform: lambda:InvokeFunction on resource: {resource} {because}")
        function, version = self._resolve(function_name, qualifier)
        if function is None or version is None:
            shown = f"{function_name}:{qualifier}" if qualifier else function_name
            raise FunctionNotFound(f"Function not found: {arn or shown}")
        invocation = Invocation.objects.create(
            function=function, version=version, version_label=version.label,
            source=Invocation.Source.STATE_MACHINE, memory_mb=version.memory, request=payload,
            execution_id=self.execution.id if self.execution is not None else None, state_name=state[:80],
            lease_until=sync_deadline(version))
        spec = function_spec(function, version)
        # Within the function's concurrency, counted across the install (a throttle is
        # Lambda.TooManyRequestsException, which the console's default Retry absorbs).
        invoker = LambdaInvoker(lambda _name, _qualifier: spec, LimitedRunner(pool_of(function)))
        connection.close()   # the function may run for long: its connection goes back to the pool
        try:
            outcome = invoker.invoke_function(function_name, payload, qualifier=qualifier, timeout=timeout,
                                              arn=arn)
        except FunctionServiceError as exc:
            error = {"errorType": exc.error_type, "errorMessage": exc.message}
            record_result(invocation, None, error)
            raise
        except Exception as exc:
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            record_result(invocation, None, error)
            raise
        record_result(invocation, outcome.details.get("invocation"), None)
        connection.close()   # the run goes on without one (see runs._run_leased)
        return outcome

    # -- task tokens and nested executions (runtime.asl.callbacks; editor.services.task_tokens) ----

    def issue_task_token(self, state: str, entered_id: int, attempt: int, *, kind: str,
                         heartbeat: float | None = None, timeout: float | None = None) -> str:
        from editor.services import task_tokens

        return task_tokens.issue(self.execution.id, state, entered_id, attempt, kind=kind, heartbeat=heartbeat,
                                 timeout=timeout)

    def task_token_state(self, token: str):
        from editor.services import task_tokens

        return task_tokens.state_of(token)

    def wait_task_token(self, token: str, until, cancel) -> None:
        from editor.services import task_tokens

        task_tokens.wait(token, until, cancel)

    def close_task_token(self, token: str, timed_out: bool = False) -> bool:
        from editor.services import task_tokens

        return task_tokens.close(token, timed_out)

    def start_execution(self, parameters: dict, *, state: str, token: str | None, sync: bool) -> dict:
        if self._before_call is not None:
            self._before_call()   # the history says the Task started before the child exists
        return start_child(self.execution, self._role_policy(), parameters, state=state, token=token, sync=sync)
