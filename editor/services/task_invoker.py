"""The Task invoker of executions: the user's deployed functions, after the role allows the call.

Task states name a function (name, partial or full ARN, with an optional qualifier). It resolves to
the function's deployed version ($LATEST) or a published version number, is checked against the
role's policy (lambda:InvokeFunction on the function's ARN), runs in the process-wide runner and is
recorded as an Invocation of the execution, with its logs and figures.

What a call costs beside the function itself: one write, the run's checkpoint, which inserts the
Invocation with the history so far; how the call ended is written with the run's next events. What
it reads is kept: per run, the function a name leads to and the role's policy, each for POLICY_SECONDS, so that a redeploy or a policy edit
reaches a running execution within that and a new execution at once; the account id and the role's
decisions (as long as the policy they came from); per process, the FunctionSpec of each version
(versions are immutable) with the role the function runs with, also for POLICY_SECONDS.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connection

from editor.models import Function, FunctionVersion, Invocation
from editor.services.concurrency import LimitedRunner, pool_of
from editor.services.invocations import function_spec, record_result, sync_deadline
from editor.services.accounts import account_id, region
from editor.services.policy import evaluate
from flowbench.connections import release_connection


# How long a run goes on with the role's policy it read (see TaskInvoker._role_policy).
POLICY_SECONDS = 1.0

# Starts a nested execution for states:startExecution: editor.services.nested_executions.start_child,
# set by the app's ready() (starting an execution needs the executor, which imports this module).
start_child = None
# Keeps Distributed Maps' runs: editor.services.map_runs, set by the app's ready() (it starts
# executions too).
map_runs = None

# The fields of a function a call reads (its code is the version's).
CALL_FIELDS = ("id", "owner_id", "name", "deployed_id", "reserved_concurrency", "role_id")
SPECS_KEPT = 256
_specs: dict[tuple, tuple] = {}   # (version id, role id) -> (version, spec, when it was built)
_specs_lock = threading.Lock()


def version_and_spec(function: Function, version_id: int) -> tuple[FunctionVersion, Any]:
    """Returns a version of `function` and the FunctionSpec that runs it, built at most once per
    POLICY_SECONDS in this process for the version and the role the function runs with. A version
    never changes (a redeploy makes a new one); what the spec takes from elsewhere (the owner's
    sample role, for a function that names none) applies within POLICY_SECONDS, as a role's policy
    does."""
    key = (version_id, function.role_id)
    now = time.monotonic()
    with _specs_lock:
        found = _specs.get(key)
    if found is None or now - found[2] >= POLICY_SECONDS:
        version = FunctionVersion.objects.get(pk=version_id)
        found = (version, function_spec(function, version), now)
        with _specs_lock:
            if len(_specs) >= SPECS_KEPT:
                _specs.clear()
            _specs[key] = found
    return found[0], found[1]


class TaskInvoker:
    """Implements runtime.asl's invoker seam for one execution."""

    def __init__(self, execution, role, *, recorder=None, owner_id=None, session=None, account=None):
        # `execution` is None for TestState (editor.services.test_state): then `owner_id` and
        # `session` (the role session's name) stand for what the execution gives.
        self.execution = execution
        self.role = role
        self.owner_id = execution.machine.owner_id if execution is not None else owner_id
        self.session = execution.id.hex if execution is not None else session
        # The run's EventRecorder: the history says the Task started before its function runs,
        # and the Invocation is written with it.
        self._recorder = recorder
        self._policy = (None, None)   # the role's policy, and when it was read (None: not yet)
        self._decisions: dict[str, str] = {}     # lambda:InvokeFunction on each ARN, under that policy
        self._account: str | None = account   # the owner's account id, if the caller has read it
        self._functions: dict[tuple, tuple] = {}   # (name, qualifier) -> (function, version id, when read)
        self.issued_tokens = False   # whether a Task of this run issued a task token
        # A Distributed Map runs its items as child executions (editor.services.map_runs); in
        # TestState, which has no execution, in process.
        self.keeps_map_runs = execution is not None

    def _role_policy(self):
        """Returns the role's policy now: read again at most once every POLICY_SECONDS (a Map
        calls a function per item), so an edit of the role applies to running executions within
        that, as IAM's changes spread within seconds."""
        policy, read_at = self._policy
        if read_at is None or time.monotonic() - read_at >= POLICY_SECONDS:
            # First from the role the caller has just read; then from the role read again (it
            # may have been deleted meanwhile).
            role = self.role if read_at is None else self.role.__class__.objects.filter(pk=self.role.pk).first()
            policy = role.policy if role else None
            self._policy = (policy, time.monotonic())
            self._decisions = {}
        return policy

    def _decision(self, resource: str) -> str:
        """Returns the role's decision on lambda:InvokeFunction for `resource`, evaluated once per
        reading of its policy."""
        policy = self._role_policy()
        decision = self._decisions.get(resource)
        if decision is None:
            decision = self._decisions[resource] = evaluate(policy, "lambda:InvokeFunction", resource)
        return decision

    def account(self) -> str:
        """Returns the owner's account id (read once: it never changes)."""
        if self._account is None:
            self._account = account_id(self.owner_id)
        return self._account

    def thread_done(self) -> None:
        """A Map or Parallel thread ends: close the database connection it opened."""
        connection.close()

    def _resolve(self, name: str, qualifier: str | None):
        """Returns (function, version, spec) of the call, (function, None, None) when the function
        has no such version, (None, None, None) when there is no such function. What a name and
        qualifier lead to is looked up again at most once every POLICY_SECONDS (a Map calls a
        function per item), so a Deploy reaches running executions within that."""
        key = (name, qualifier)
        found = self._functions.get(key)
        if found is None or time.monotonic() - found[2] >= POLICY_SECONDS:
            found = self._functions[key] = (*self._lookup(name, qualifier), time.monotonic())
        function, version_id, _ = found
        if function is None:
            return None, None, None
        if version_id is None:
            return function, None, None
        return function, *version_and_spec(function, version_id)

    def _lookup(self, name: str, qualifier: str | None) -> tuple:
        """Returns (function or None, the called version's id or None) from the database. The
        function is read in SQL of its own, as Role.policy is: every execution looks its functions
        up once, and the ORM's building of the query cost ~9% of a worker running short executions
        (a Distributed Map's children)."""
        # (in the model's order of fields, as from_db takes them)
        fields = [f.column for f in Function._meta.concrete_fields if f.attname in CALL_FIELDS]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(fields)} FROM {Function._meta.db_table} "
                           f"WHERE owner_id = %s AND name = %s", [self.owner_id, name])
            row = cursor.fetchone()
        function = None if row is None else Function.from_db(connection.alias, CALL_FIELDS, row)
        if function is None:
            return None, None
        if qualifier in (None, "", "$LATEST"):
            return function, function.deployed_id
        if str(qualifier).isdigit():
            return function, function.versions.filter(number=int(qualifier)).values_list("pk", flat=True).first()
        return function, None

    def invoke_function(self, name: str, payload: Any, *, qualifier: str | None = None,
                        timeout: float | None = None, arn: str = "", state: str = ""):
        from runtime.arn import function_arn, parse_function
        from runtime.asl import FunctionNotFound, FunctionServiceError
        from runtime.tasks import LambdaInvoker

        recorder = self._recorder
        if recorder is not None:
            recorder.check_alive()
        function_name = name   # the engine parsed the Task's resource (runtime.arn)
        named = parse_function(arn) if arn else None
        if named is not None and named.account not in (None, self.account()):
            # Another account's function: invisible, as every other person's resources are.
            raise FunctionNotFound(f"Function not found: {arn}")
        resource = function_arn(function_name, region(), self.account(), qualifier or None)
        decision = self._decision(resource)
        if decision != "allow":
            because = ("with an explicit deny in an identity-based policy" if decision == "deny"
                       else "because no identity-based policy allows the lambda:InvokeFunction action")
            session = self.session
            raise FunctionServiceError(
                "AccessDeniedException",
                f"User: arn:aws:sts::{self.account()}:assumed-role/{self.role.name}/{session} is not authorized "
                f"to perform: lambda:InvokeFunction on resource: {resource} {because}")
        function, version, spec = self._resolve(function_name, qualifier)
        if function is None or version is None:
            shown = f"{function_name}:{qualifier}" if qualifier else function_name
            raise FunctionNotFound(f"Function not found: {arn or shown}")
        invocation = Invocation(
            function=function, version=version, version_label=version.label,
            source=Invocation.Source.STATE_MACHINE, memory_mb=version.memory, request=payload,
            execution_id=self.execution.id if self.execution is not None else None, state_name=state[:80],
            lease_until=sync_deadline(version))
        if recorder is None:
            invocation.save(force_insert=True)
        else:
            # Written with the history so far, before the call: the function's page and the
            # execution's show it running while it runs.
            recorder.also(invocation)
            recorder.checkpoint()
        # Within the function's concurrency, counted across the install (a throttle is
        # Lambda.TooManyRequestsException, which the console's default Retry absorbs).
        invoker = LambdaInvoker(lambda _name, _qualifier: spec, LimitedRunner(pool_of(function)))
        release_connection()   # the function may run for long
        try:
            outcome = invoker.invoke_function(function_name, payload, qualifier=qualifier, timeout=timeout,
                                              arn=arn)
        except FunctionServiceError as exc:
            error = {"errorType": exc.error_type, "errorMessage": exc.message}
            record_result(invocation, None, error, recorder)
            raise
        except Exception as exc:
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            record_result(invocation, None, error, recorder)
            raise
        record_result(invocation, outcome.details.get("invocation"), None, recorder)
        release_connection()   # the run goes on without one (see runs._run_leased)
        return outcome

    # -- task tokens and nested executions (runtime.asl.callbacks; editor.services.task_tokens) ----

    def issue_task_token(self, state: str, entered_id: int, attempt: int, *, kind: str,
                         heartbeat: float | None = None, timeout: float | None = None) -> str:
        from editor.services import task_tokens

        self.issued_tokens = True
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

    def start_map_run(self, arn: str, **run) -> None:
        if self._recorder is not None:
            self._recorder.checkpoint()   # the history says MapRunStarted before the run exists
        map_runs.start(self.execution, arn, **run)

    def stop_map_run(self, arn: str) -> None:
        map_runs.stop(arn)

    def start_execution(self, parameters: dict, *, state: str, token: str | None, sync: bool) -> dict:
        if self._recorder is not None:
            self._recorder.checkpoint()   # the history says the Task started before the child exists
        return start_child(self.execution, self._role_policy(), parameters, state=state, token=token, sync=sync)
