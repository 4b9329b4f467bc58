"""Amazon States Language: validate a definition, compile it once, run executions of it.

    from runtime.asl import StateMachine, DefinitionError, FakeClock, validate
    machine = StateMachine(definition)          # raises DefinitionError(.diagnostics)
    result = machine.run(input, invoker=None, clock=None, context=None, sink=None)
    result.status, result.output, result.error, result.cause, result.history

    definition_to_dot(definition)               # the graph the pages draw (see `graph`)

The modules import one way (tests/unit/test_layering.py checks there is no cycle), bottom up:
diagnostics and errors; the expression languages (jsonpath*, intrinsics, jsonata*); timestamps
and choice_operators; the validator (validation_* under validation); the run (execution,
executor, whose State the states/ modules extend, then machine); graph beside them. `runtime.arn`
and `runtime.json_pointer`, below all of them, are shared with the rest of Flowbench.
"""

from .branches import ThreadBudget
from .callbacks import FakeTaskTokens, TokenAnswer, TokenState
from .clock import Clock, FakeClock
from .diagnostics import Diagnostic
from .errors import DefinitionError, StatesError
from .graph import definition_to_dot, edge_for, edge_id, pointer_for, rule_text, state_id
from .invoker import (FakeInvoker, FunctionNotFound, FunctionOutcome, FunctionServiceError,
                      Invoker, TaskTimedOut)
from .machine import ExecutionResult, Parked, StateMachine, Suspended
from .validation import validate

__all__ = [
    "StateMachine", "ExecutionResult", "Parked", "Suspended", "ThreadBudget", "DefinitionError", "StatesError", "Diagnostic", "validate",
    "Clock", "FakeClock",
    "Invoker", "FakeInvoker", "FunctionOutcome", "FunctionNotFound", "FunctionServiceError",
    "TaskTimedOut", "FakeTaskTokens", "TokenAnswer", "TokenState",
    "definition_to_dot", "state_id", "pointer_for", "edge_id", "edge_for", "rule_text",
]
