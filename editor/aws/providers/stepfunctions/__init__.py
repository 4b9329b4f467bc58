"""AWS Step Functions (JSON 1.0): the studio's state machines, their versions and aliases, their
executions, task tokens and TestState. The operations are grouped by what they act on, one mixin
per module; the provider is their sum.

    machines.py     state machines, versions, aliases, validation, tags
    executions.py   starting, describing, listing, stopping and redriving executions; history
    tasks.py        task tokens: SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat
    test_state.py   TestState: one state run on its own
"""

from __future__ import annotations

from editor.aws.providers.base import Provider
from editor.aws.providers.stepfunctions.executions import ExecutionOperations
from editor.aws.providers.stepfunctions.machines import MachineOperations
from editor.aws.providers.stepfunctions.tasks import TaskOperations
from editor.aws.providers.stepfunctions.test_state import TestStateOperations


class StepFunctionsProvider(MachineOperations, ExecutionOperations, TaskOperations, TestStateOperations, Provider):
    pass
