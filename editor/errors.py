"""The one error type of the web side, and the one helper that turns it into a response.

    ApiError(code, message, status=400, field=None)
      -> {"error": {"code": ..., "message": ..., "field": ...}} with HTTP `status`

Services raise it for anything the user can fix (bad names, bad JSON, unknown ids); views and API
endpoints never build error bodies by hand.
"""

from __future__ import annotations

from django.http import JsonResponse


class ApiError(Exception):
    """A refusal the user can act on: a machine-readable `code`, a sentence, an HTTP status and the
    input `field` it is about (a name such as "name", or a JSON pointer such as "/env/0/key")."""

    def __init__(self, code: str, message: str, status: int = 400, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field

    def as_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


def not_found(what: str = "Function") -> ApiError:
    """Returns the error for an id that does not exist or belongs to someone else (never which)."""
    return ApiError("ResourceNotFound", f"{what} not found.", status=404)


def error_response(error: ApiError, headers: dict | None = None) -> JsonResponse:
    """Returns the JSON response for `error`: the only place error bodies are made."""
    return JsonResponse(error.as_dict(), status=error.status, headers=headers)
