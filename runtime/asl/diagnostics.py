"""What validation reports: one Diagnostic per problem, located by a JSON pointer, and the text
CreateStateMachine answers with for them.

The bottom of the engine's layering: it imports nothing of `runtime.asl`, so the errors, the
expression languages and the validator all build on it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Diagnostic", "ExpressionSyntaxError", "create_error_message", "ERROR", "WARNING",
           "SCHEMA", "MISSING_TARGET", "INVALID_JSON", "DUPLICATE_NAME"]

ERROR = "ERROR"
WARNING = "WARNING"
# AWS's diagnostic codes.
SCHEMA = "SCHEMA_VALIDATION_FAILED"
MISSING_TARGET = "MISSING_TRANSITION_TARGET"
INVALID_JSON = "INVALID_JSON_DESCRIPTION"
DUPLICATE_NAME = "DUPLICATE_STATE_NAME"


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a definition: severity "ERROR" or "WARNING", AWS's code (such as
    SCHEMA_VALIDATION_FAILED), the message, and `location`, a JSON pointer into the definition."""

    severity: str
    code: str
    message: str
    location: str

    def as_dict(self) -> dict:
        return {"severity": self.severity, "code": self.code, "message": self.message,
                "location": self.location}


class ExpressionSyntaxError(ValueError):
    """A path, intrinsic call, template or JSONata expression that cannot be parsed.

    Raised by the compile functions of `jsonpath`, `intrinsics` and `jsonata`; the validator turns
    it into a Diagnostic at the field it came from.
    """


def create_error_message(diagnostics) -> str:
    """Returns CreateStateMachine's message for the ERROR diagnostics, or "" when there are none.

    AWS lists every error, each as "CODE: message at /pointer", joined by ", ", inside
    "Invalid State Machine Definition: '...'". A location that is no pointer (where text that is
    not JSON goes wrong) is already part of its message.
    """
    errors = [d for d in diagnostics if d.severity == ERROR]
    if not errors:
        return ""
    parts = []
    for d in errors:
        text = f"{d.code}: {d.message.rstrip()}"
        parts.append(f"{text} at {d.location}" if d.location.startswith("/") else text)
    return "Invalid State Machine Definition: '" + ", ".join(parts) + "'"
