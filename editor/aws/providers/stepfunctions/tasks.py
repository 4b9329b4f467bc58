"""Task tokens: the answers a .waitForTaskToken task waits for (editor.services.task_answers is
the writer; the execution page's buttons call it too). Each is authorized on the state machine
whose execution issued the token: states:SendTaskSuccess, states:SendTaskFailure,
states:SendTaskHeartbeat."""

from __future__ import annotations

from editor.aws.errors import AwsError, refusal
from editor.errors import ApiError
from editor.services import task_answers
from editor.services.accounts import state_machine_arn

# The refusals of editor.services.task_answers that are AWS's own codes (all 400).
_CODES = {"TaskDoesNotExist", "InvalidToken", "TaskTimedOut", "InvalidOutput"}


class TaskOperations:
    def _answer(self, action: str, params: dict, send, *args) -> dict:
        token = params["taskToken"]
        try:
            row = task_answers.token_row(self.owner, token)
            self.authorize(f"states:{action}", state_machine_arn(self.owner, row.execution.machine.name))
            send(self.owner, token, *args)
        except ApiError as error:
            if error.code not in _CODES:
                raise refusal("validation", error.message) from None
            raise AwsError(error.code, error.message, 400) from None
        return {}

    def SendTaskSuccess(self, params: dict) -> dict:
        return self._answer("SendTaskSuccess", params, task_answers.send_success, params["output"])

    def SendTaskFailure(self, params: dict) -> dict:
        return self._answer("SendTaskFailure", params, task_answers.send_failure, params.get("error"),
                            params.get("cause"))

    def SendTaskHeartbeat(self, params: dict) -> dict:
        return self._answer("SendTaskHeartbeat", params, task_answers.send_heartbeat)
