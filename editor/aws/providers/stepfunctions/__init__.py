"""AWS Step Functions (JSON 1.0): the studio's state machines, their versions and aliases, their
executions, task tokens and TestState. The operations are grouped by what they act on, one mixin
per module; the provider is their sum.

    machines.py     state machines, versions, aliases, validation, tags
    executions.py   starting, describing, listing, stopping and redriving executions; history
    map_runs.py     Distributed Maps' runs: DescribeMapRun / ListMapRuns / UpdateMapRun
    tasks.py        task tokens: SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat
    test_state.py   TestState: one state run on its own
"""

from __future__ import annotations

from editor.aws.providers.base import Provider
from editor.aws.providers.stepfunctions.executions import ExecutionOperations
from editor.aws.providers.stepfunctions.machines import MachineOperations
from editor.aws.providers.stepfunctions.map_runs import MapRunOperations
from editor.aws.providers.stepfunctions.tasks import TaskOperations
from editor.aws.providers.stepfunctions.test_state import TestStateOperations


class StepFunctionsProvider(MachineOperations, ExecutionOperations, MapRunOperations, TaskOperations,
                            TestStateOperations, Provider):
    # What editor.services refuses, as Step Functions words it (every Step Functions error is a 400).
    API_ERRORS = {
        "InvalidName": ("InvalidName", 400),
        "InvalidType": ("ValidationException", 400),
        "TooLong": ("ValidationException", 400),
        "Required": ("ValidationException", 400),
        "ReadOnly": ("ValidationException", 400),
        "InvalidRouting": ("ValidationException", 400),
        "InvalidDefinition": ("InvalidDefinition", 400),
        "DefinitionTooLarge": ("InvalidDefinition", 400),
        "ResourceConflict": ("ConflictException", 400),
        "ExecutionsRunning": ("ConflictException", 400),
        "VersionInUse": ("ConflictException", 400),
        "ExecutionAlreadyExists": ("ExecutionAlreadyExists", 400),
        "ExecutionNotRedrivable": ("ExecutionNotRedrivable", 400),
        "InvalidJson": ("InvalidExecutionInput", 400),
        "InputTooLarge": ("InvalidExecutionInput", 400),
        "ResourceNotFound": ("ResourceNotFound", 400),
        "VersionNotFound": ("ResourceNotFound", 400),
        "TooManyTags": ("TooManyTags", 400),
    }
