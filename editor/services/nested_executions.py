"""Nested executions: a Task `arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]`
starts an execution of another of the person's state machines.

    start_child(parent, policy, parameters, state=..., token=..., sync=...)
                                                                    StartExecution's response
    execution_ended                                                 (runs.execution_ended's
                                                                    receiver) closes its tokens;
                                                                    a `.sync` child answers its
                                                                    parent; an aborted parent
                                                                    stops its `.sync` children
    description(execution)                                          DescribeExecution's shape, as
                                                                    `.sync` gives it

The child records its parent (Execution.parent) whatever the pattern, so both execution pages link
to each other; a `.sync` child also records the parent's token (Execution.parent_token), which its
end answers (editor.services.task_answers.answer_child): the parent waits without a thread.
"""

from __future__ import annotations

import json
import re

from django.contrib.auth import get_user_model
from django.db import transaction

from editor.errors import ApiError
from editor.models import Execution, StateMachine
from editor.services import task_answers
from editor.services.accounts import account_id, execution_arn, execution_machine_arn, region, state_machine_arn
from editor.services.policy import evaluate

__all__ = ["start_child", "execution_ended", "description", "epoch_millis"]

# arn:aws:states:REGION:ACCOUNT:stateMachine:NAME[:VERSION]
_MACHINE_ARN = re.compile(r"arn:aws:states:(?P<region>[^:]+):(?P<account>\d{12}):stateMachine:"
                          r"(?P<name>[A-Za-z0-9_-]{1,80})(?::(?P<qualifier>[^:]+))?")
# The studio's refusals of a start, as Step Functions' optimized integration names them.
_START_ERRORS = {
    "ExecutionAlreadyExists": "StepFunctions.ExecutionAlreadyExistsException",
    "InvalidName": "StepFunctions.InvalidNameException",
    "InputTooLarge": "StepFunctions.InvalidExecutionInputException",
    "InvalidJson": "StepFunctions.InvalidExecutionInputException",
    "NoVersion": "StepFunctions.StateMachineDoesNotExistException",
    "ResourceNotFound": "StepFunctions.StateMachineDoesNotExistException",
}


def epoch_millis(moment) -> int | None:
    """Returns a moment as Step Functions' integrations write dates: milliseconds since 1970."""
    return None if moment is None else int(moment.timestamp() * 1000)


def _does_not_exist(arn) -> Exception:
    from runtime.asl import StatesError

    return StatesError(f"State Machine Does Not Exist: '{arn}' (Service: AWSStepFunctions; Status Code: 400; "
                       f"Error Code: StateMachineDoesNotExist)", "StepFunctions.StateMachineDoesNotExistException")


def start_child(parent: Execution, policy, parameters: dict, *, state: str, token: str | None,
                sync: bool) -> dict:
    """Starts the execution a parent's Task asks for (StateMachineArn, Input, Name) once the
    parent's role allows states:StartExecution on it; returns StartExecution's response. Raises
    the runtime's StatesError as the integration reports failures."""
    from runtime.asl import StatesError

    owner_id = parent.machine.owner_id
    arn = parameters.get("StateMachineArn")
    found = _MACHINE_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if found is None or found["account"] != account_id(owner_id) or found["region"] != region():
        raise _does_not_exist(arn)
    qualifier = found["qualifier"]
    if qualifier is not None and not qualifier.isdigit():
        raise _does_not_exist(arn)   # aliases: not kept by this install's nested starts
    if evaluate(policy, "states:StartExecution", state_machine_arn(owner_id, found["name"])) != "allow":
        raise StatesError(
            f"User: arn:aws:sts::{account_id(owner_id)}:assumed-role/{parent.version.role_name}/{parent.id.hex} is "
            f"not authorized to perform: states:StartExecution on resource: {arn} (Service: AWSStepFunctions; "
            f"Status Code: 400; Error Code: AccessDeniedException)", "StepFunctions.AWSStepFunctionsException")
    machine = StateMachine.objects.filter(owner_id=owner_id, name=found["name"]).first()
    if machine is None:
        raise _does_not_exist(arn)
    child_input = parameters.get("Input")
    if child_input is not None and not isinstance(child_input, str):
        child_input = json.dumps(child_input, ensure_ascii=False)
    from editor.services.executions import start_execution

    user = get_user_model().objects.get(pk=owner_id)
    try:
        with transaction.atomic():
            child = start_execution(user, machine, child_input, name=parameters.get("Name"), version=qualifier)
            Execution.objects.filter(pk=child.pk).update(parent=parent, parent_state=state[:80],
                                                         parent_token=token if sync else "")
    except ApiError as refused:
        error = _START_ERRORS.get(refused.code, "StepFunctions.AWSStepFunctionsException")
        raise StatesError(f"{refused.message} (Service: AWSStepFunctions; Status Code: 400; Error Code: "
                          f"{error.split('.', 1)[1].removesuffix('Exception')})", error) from None
    return {"ExecutionArn": execution_arn(child), "StartDate": epoch_millis(child.started_at)}


def description(execution: Execution) -> dict:
    """Returns DescribeExecution's shape of an ended execution, dates in epoch milliseconds, as
    `.sync` passes it to the parent (Input and Output as JSON text)."""
    account = account_id(execution.machine.owner_id)
    shape = {
        "ExecutionArn": execution_arn(execution, account),
        "Input": execution.input, "InputDetails": {"Included": True},
        "Name": execution.name,
        "RedriveCount": execution.redrive_count,
        "StartDate": epoch_millis(execution.started_at),
        "StateMachineArn": execution_machine_arn(execution, account),
        "Status": execution.status,
        "StopDate": epoch_millis(execution.stopped_at),
    }
    if execution.status == Execution.Status.SUCCEEDED:
        shape["Output"] = execution.output
        shape["OutputDetails"] = {"Included": True}
    if execution.error:
        shape["Error"] = execution.error
    if execution.cause:
        shape["Cause"] = execution.cause
    return shape


def execution_ended(sender, execution: Execution, **kwargs) -> None:
    """What follows an execution's end (its open tokens were closed with it, in
    runs.finish_execution): a `.sync` child answers its parent's token (a failed, timed out or aborted child fails the parent's Task with
    States.TaskFailed, its description as the cause, as AWS); an aborted parent stops the `.sync`
    children still running, as AWS does."""
    if execution.parent_token:
        shown = json.dumps(description(execution), ensure_ascii=False)
        if execution.status == Execution.Status.SUCCEEDED:
            task_answers.answer_child(execution.parent_token, output=shown)
        else:
            task_answers.answer_child(execution.parent_token, error="States.TaskFailed", cause=shown)
    if execution.status == Execution.Status.ABORTED:
        from editor.services.executions import stop_execution

        running = (Execution.objects.select_related("machine").filter(parent=execution, status=Execution.Status.RUNNING)
                   .exclude(parent_token=""))
        for child in running:
            try:
                stop_execution(child.machine.owner, child, None,
                               "The execution that started this one was stopped.")
            except ApiError:
                pass   # it ended meanwhile
