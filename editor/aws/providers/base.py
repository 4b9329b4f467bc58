"""What every provider is: the caller and the request's context, the authorization every action
goes through, and the translation of the studio's ApiErrors into the service's AWS errors.

    class IamProvider(Provider):
        def GetRole(self, params: dict) -> dict:
            role = ...                                   # looked up in self.owner's account only
            self.authorize("iam:GetRole", arn)
            return {"Role": {...}}                       # the output shape, as a dict

A method may raise AwsError (its service's codes) or let an editor.services ApiError through:
API_ERRORS maps the ApiError's code to the AWS code and status; anything unmapped becomes the
protocol's validation refusal with the ApiError's message.
"""

from __future__ import annotations

from dataclasses import dataclass

from editor.aws.auth import Principal, authorize
from editor.aws.errors import AwsError, refusal
from editor.errors import ApiError


@dataclass(frozen=True)
class Context:
    """The request a provider answers: who calls, its request id, and the region it names; and how
    long the caller waits for work it starts to end (None: the operation's own limit), as an API
    Gateway integration waits at most its TimeoutInMillis."""

    principal: Principal
    request_id: str
    region: str
    wait_limit: float | None = None


class Provider:
    """The base of providers. Subclasses add one method per operation they implement."""

    # ApiError code -> (AWS code, HTTP status), for what editor/services refuses.
    API_ERRORS: dict[str, tuple[str, int]] = {}

    def __init__(self, context: Context):
        self.context = context
        self.principal = context.principal
        self.owner = context.principal.user

    def authorize(self, action: str, resource: str) -> None:
        authorize(self.principal, action, resource)

    def translate(self, error: ApiError) -> AwsError:
        """Returns the AWS error that the studio's refusal `error` is for this service."""
        found = self.API_ERRORS.get(error.code)
        if found is None:
            return refusal("validation", error.message)
        code, status = found
        return AwsError(code, error.message, status)
