"""TestState: one state of a definition run on its own, each step of its input and output shown.

The work is editor.services.test_state's (the machine editor's TestState panel runs the same);
this translates AWS's request and answer. `definition` is one state, or a whole machine with
`stateName` (its StartAt without one), as newer AWS allows. A Task calls the caller's function
with `roleArn`'s permissions, or takes `mock`'s result or errorOutput instead; Map and Parallel run
for real without a mock (AWS needs one). At `inspectionLevel` DEBUG and TRACE the answer has
`inspectionData`; TRACE adds an HTTP Task's request and response in AWS, and Flowbench has no HTTP
Task, so TRACE shows what DEBUG shows (and `revealSecrets`, which only unmasks those, changes
nothing).
"""

from __future__ import annotations

import json

from editor.aws.errors import AwsError, refusal
from editor.errors import ApiError
from editor.models import Role
from editor.services import test_state as testing
from editor.services.accounts import account_id

# Members of stateConfiguration that need a Map's or an error's history Flowbench does not replay.
_UNSUPPORTED_CONFIGURATION = ("errorCausedByState", "mapIterationFailureCount", "mapItemReaderData")
_NO_ROLE = ("Neither the global service principal states.amazonaws.com, nor the regional one is authorized "
            "to assume the provided role.")


def _json_member(params: dict, member: str, code: str = "ValidationException"):
    """Returns the JSON value of the text member `member` (None when absent); AWS's `code` naming
    the member when it is not JSON."""
    if params.get(member) is None:
        return None
    try:
        return json.loads(params[member])
    except ValueError as exc:
        raise AwsError(code, f"Invalid {member}: '{params[member][:200]}' is not JSON ({exc}).", 400) from None


# The service's refusals in Step Functions' codes (the others are ValidationException).
_API_ERRORS = {"InvalidDefinition": "InvalidDefinition", "InvalidJson": "InvalidExecutionInput",
               "InputTooLarge": "InvalidExecutionInput"}


class TestStateOperations:

    def _test_role(self, arn: str) -> Role:
        """Returns the caller's role that `arn` names; another account's, or none, cannot be assumed."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "iam"] or not parts[5].startswith("role/"):
            raise AwsError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {arn}'", 400)
        path, _, name = ("/" + parts[5][len("role/"):]).rpartition("/")
        role = None
        if parts[4] == account_id(self.owner):
            role = Role.objects.filter(owner=self.owner, name__iexact=name, path=path + "/").first()
        if role is None or "states" not in role.trusted:
            raise AwsError("AccessDeniedException", _NO_ROLE, 400)
        return role

    def TestState(self, params: dict) -> dict:
        self.authorize("states:TestState", "*")
        role = None
        if params.get("roleArn"):
            # Found first: another account's role is answered as a missing one, not as a refusal.
            role = self._test_role(params["roleArn"])
            self.authorize("iam:PassRole", params["roleArn"])
        configuration = params.get("stateConfiguration") or {}
        for member in _UNSUPPORTED_CONFIGURATION:
            if member in configuration:
                raise refusal("validation", f"stateConfiguration.{member} is not supported by Flowbench's TestState.")
        mock = params.get("mock")
        if mock is not None:
            mock = {key: value for key, value in mock.items() if key != "fieldValidationMode"}
            if "result" in mock:
                mock["result"] = _json_member(mock, "result")
        input_value = _json_member(params, "input", "InvalidExecutionInput")
        try:
            result = testing.test_state(
                self.owner, params["definition"], {} if input_value is None else input_value, role=role,
                state_name=params.get("stateName"), mock=testing.read_mock(mock),
                variables=_json_member(params, "variables"), context=_json_member(params, "context"),
                retry_count=configuration.get("retrierRetryCount", 0), region=self.context.region)
        except ApiError as error:
            code = _API_ERRORS.get(error.code)
            raise (AwsError(code, error.message, 400) if code else refusal("validation", error.message)) from None
        return result.as_dict(params.get("inspectionLevel") or "INFO")
