"""TestState: one state of a definition run on its own (runtime.asl.test_state), for the machine
editor's TestState panel and the AWS API's TestState alike.

A Task really calls the person's function, as an execution does: after the role's policy allows
lambda:InvokeFunction on it, recorded as an Invocation (of no execution) with its logs. A mock
given instead stands for the call. Nothing else is written.
"""

from __future__ import annotations

import json
import uuid

from editor.errors import ApiError
from editor.models import Role
from editor.services import accounts
from editor.services.accounts import account_id, role_arn
from editor.services.executions import input_text
from editor.services.task_invoker import TaskInvoker
from runtime.asl import DefinitionError, FunctionServiceError
from runtime.asl.diagnostics import create_error_message
from runtime.asl.test_state import MockOutcome, TestStateRefused, TestStateResult, run_test_state

__all__ = ["test_state", "read_mock", "TestStateResult"]


class _NoRole:
    """The invoker of a TestState given no role: a function call cannot be authorized."""

    def invoke_function(self, name, payload, **_kwargs):
        raise FunctionServiceError("AccessDeniedException",
                                   "TestState was given no role: a Task calls its function with a role's "
                                   "permissions (roleArn).")


def read_mock(value, field: str = "mock") -> MockOutcome | None:
    """Returns the MockOutcome that `value` describes: {"result": any JSON} or {"errorOutput":
    {"error", "cause"}} (the studio also takes {"error", "cause"} flat); None for no mock."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError("InvalidType", f"{field} is an object with result or errorOutput.", field=field)
    failure = value.get("errorOutput")
    if failure is None and ("error" in value or "cause" in value):
        failure = {"error": value.get("error"), "cause": value.get("cause")}
    if ("result" in value) == (failure is not None):
        raise ApiError("InvalidMock", f"{field} gives either a result or an errorOutput, not both or neither.",
                       field=field)
    if failure is None:
        return MockOutcome(value["result"])
    if not isinstance(failure, dict) or any(
            v is not None and not isinstance(v, str) for v in (failure.get("error"), failure.get("cause"))):
        raise ApiError("InvalidType", f"{field}.errorOutput's error and cause are texts.", field=f"{field}.errorOutput")
    return MockOutcome.failure(failure.get("error"), failure.get("cause"))


def _json_object(value, field: str) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError("InvalidType", f"{field} is a JSON object.", field=field)
    return value


def test_state(user, definition, input_value=None, *, role: Role | None = None, state_name: str | None = None,
               mock: MockOutcome | None = None, variables=None, context=None, retry_count: int = 0,
               machine_name: str | None = None, machine_type: str = "STANDARD",
               region: str | None = None) -> TestStateResult:
    """Runs one state of `definition` (a state, or a machine with `state_name`) on `input_value` (a
    JSON value, or its text) and returns its TestStateResult; a Task calls `user`'s functions
    with `role`'s permissions. Raises ApiError naming the field at fault: InvalidDefinition
    (definition), InvalidJson / InputTooLarge (input), InvalidType, InvalidTestState."""
    text = input_text(input_value)
    variables = _json_object(variables, "variables")
    context = _json_object(context, "context")
    if isinstance(retry_count, bool) or not isinstance(retry_count, int) or retry_count < 0:
        raise ApiError("InvalidType", "retryCount is a whole number, 0 or more.", field="retryCount")
    session = uuid.uuid4().hex
    invoker = TaskInvoker(None, role, owner_id=user.pk, session=session) if role is not None else _NoRole()
    names = {"stateMachineName": machine_name or "TestState", "executionName": session,
             "accountId": account_id(user.pk), "region": region or accounts.region(), "stateMachineType": machine_type}
    if role is not None:
        names["roleArn"] = role_arn(user.pk, role.name, role.path)
    try:
        return run_test_state(definition, json.loads(text), state_name=state_name, invoker=invoker, mock=mock,
                              variables=variables, context=context, execution=names,
                              retrier_retry_count=retry_count, machine_type=machine_type)
    except DefinitionError as error:
        raise ApiError("InvalidDefinition", create_error_message(error.diagnostics) or str(error),
                       field="definition") from None
    except TestStateRefused as refused:
        raise ApiError("InvalidTestState", str(refused), field=refused.member) from None
