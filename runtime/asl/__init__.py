"""Amazon States Language: validate a definition, compile it once, run executions of it.

    from runtime.asl import StateMachine, DefinitionError, FakeClock, validate
    machine = StateMachine(definition)          # raises DefinitionError(.diagnostics)
    result = machine.run(input, invoker=None, clock=None, context=None, sink=None)
    result.status, result.output, result.error, result.cause, result.history
"""

from .branches import ThreadBudget
from .clock import Clock, FakeClock
from .diagnostics import Diagnostic
from .errors import DefinitionError, StatesError
from .invoker import (FakeInvoker, FunctionNotFound, FunctionOutcome, FunctionServiceError,
                      Invoker, TaskTimedOut)
from .machine import ExecutionResult, Parked, StateMachine, Suspended
from .validation import validate

__all__ = [
    "StateMachine", "ExecutionResult", "Parked", "Suspended", "ThreadBudget", "DefinitionError", "StatesError", "Diagnostic", "validate",
    "Clock", "FakeClock",
    "Invoker", "FakeInvoker", "FunctionOutcome", "FunctionNotFound", "FunctionServiceError",
    "TaskTimedOut",
]
