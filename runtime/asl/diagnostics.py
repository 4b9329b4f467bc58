"""What validation reports: one Diagnostic per problem, located by a JSON pointer."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Diagnostic", "ExpressionSyntaxError", "pointer"]


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


def pointer(*parts) -> str:
    """Returns the JSON pointer (RFC 6901) made of `parts`."""
    out = []
    for part in parts:
        out.append(str(part).replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(out) if out else ""
