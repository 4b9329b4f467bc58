"""The errors of the States Language, as the engine raises and reports them.

    Exception
    ├── StatesError(error, cause)        an ASL error: ends a state, matched by Retry/Catch
    │   ├── TaskFailed                   States.TaskFailed
    │   ├── TimeoutError_                States.Timeout
    │   ├── HeartbeatTimeout             States.HeartbeatTimeout
    │   ├── Permissions                  States.Permissions
    │   ├── ResultPathMatchFailure       States.ResultPathMatchFailure
    │   ├── ParameterPathFailure         States.ParameterPathFailure
    │   ├── QueryEvaluationError         States.QueryEvaluationError
    │   ├── BranchFailed                 States.BranchFailed
    │   ├── NoChoiceMatched              States.NoChoiceMatched
    │   ├── IntrinsicFailure             States.IntrinsicFailure
    │   ├── ExceedToleratedFailureThreshold
    │   ├── DataLimitExceeded            States.DataLimitExceeded (never retried)
    │   └── RuntimeFailure               States.Runtime (terminal: never retried or caught)
    └── DefinitionError(diagnostics)     a definition that does not validate

An error raised while a state evaluates its fields (paths, templates, expressions) is reported by
AWS with a prefix naming the state: "An error occurred while executing the state 'S' (entered at
the event id #N). <detail>". Such errors are raised with `in_state=True` and only the detail as
their cause; the executor adds the prefix, since only it knows the state and the event id.
"""

from __future__ import annotations

from runtime.asl.diagnostics import create_error_message

__all__ = [
    "StatesError", "TaskFailed", "TimeoutError_", "HeartbeatTimeout", "Permissions",
    "ResultPathMatchFailure", "ParameterPathFailure", "QueryEvaluationError", "BranchFailed",
    "NoChoiceMatched", "IntrinsicFailure", "ExceedToleratedFailureThreshold", "DataLimitExceeded",
    "RuntimeFailure", "DefinitionError", "error_matches",
]


class StatesError(Exception):
    """An ASL error: `error` is its name (States.* or the user's own), `cause` its text or None."""

    name = "States.ALL"
    retryable = True
    catchable = True

    def __init__(self, cause: str | None = None, error: str | None = None, *, in_state: bool = False,
                 location: str | None = None):
        self.error = error if error is not None else self.name
        self.cause = cause
        self.in_state = in_state
        # The field that failed (e.g. "Output/result"), reported in EvaluationFailed events.
        self.location = location
        self.reported = False  # whether an EvaluationFailed event already tells of it
        super().__init__(f"{self.error}: {cause}")

    def with_state_prefix(self, state_name: str, entered_event_id: int) -> "StatesError":
        """Returns this error with AWS's "An error occurred while executing the state ..." prefix."""
        if not self.in_state:
            return self
        cause = (f"An error occurred while executing the state '{state_name}' "
                 f"(entered at the event id #{entered_event_id}). {self.cause}")
        return type(self)(cause, self.error, location=self.location)


def _named(cls_name: str, error_name: str, **flags) -> type[StatesError]:
    return type(cls_name, (StatesError,), {"name": error_name, "__doc__": error_name, **flags})


TaskFailed = _named("TaskFailed", "States.TaskFailed")
TimeoutError_ = _named("TimeoutError_", "States.Timeout")
HeartbeatTimeout = _named("HeartbeatTimeout", "States.HeartbeatTimeout")
Permissions = _named("Permissions", "States.Permissions")
ResultPathMatchFailure = _named("ResultPathMatchFailure", "States.ResultPathMatchFailure")
ParameterPathFailure = _named("ParameterPathFailure", "States.ParameterPathFailure")
QueryEvaluationError = _named("QueryEvaluationError", "States.QueryEvaluationError")
BranchFailed = _named("BranchFailed", "States.BranchFailed")
NoChoiceMatched = _named("NoChoiceMatched", "States.NoChoiceMatched")
IntrinsicFailure = _named("IntrinsicFailure", "States.IntrinsicFailure")
ExceedToleratedFailureThreshold = _named(
    "ExceedToleratedFailureThreshold", "States.ExceedToleratedFailureThreshold")
DataLimitExceeded = _named("DataLimitExceeded", "States.DataLimitExceeded", retryable=False)
RuntimeFailure = _named("RuntimeFailure", "States.Runtime", retryable=False, catchable=False)

# States.ALL matches every error except States.Runtime, which no catcher takes. (AWS's documents
# also exempt States.DataLimitExceeded, but its recorded runs catch a Task's oversized result with
# States.ALL, and the engine follows the recordings.)
_TERMINAL = {"States.Runtime"}


def error_matches(error_equals: list[str] | tuple[str, ...], error: str) -> bool:
    """Returns whether a Retry/Catch ErrorEquals list matches the error name."""
    if error in error_equals:
        return True
    if "States.ALL" in error_equals:
        return error not in _TERMINAL
    if "States.TaskFailed" in error_equals:
        # AWS: States.TaskFailed "matches any known error name except for States.Timeout".
        return error not in _TERMINAL and error != "States.Timeout"
    return False


class DefinitionError(ValueError):
    """A definition that does not validate; `diagnostics` lists every problem found."""

    def __init__(self, diagnostics):
        self.diagnostics = list(diagnostics)
        super().__init__(create_error_message(self.diagnostics) or "Invalid State Machine Definition")
