"""Task: does one unit of work through a resource. Flowbench runs AWS Lambda's two forms:

- the function ARN itself (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`): the
  effective input is the event, the function's response is the result, and the history has
  LambdaFunctionScheduled / Started / Succeeded | Failed | TimedOut events;
- the service integration `arn:aws:states:::lambda:invoke`: the parameters name FunctionName,
  Payload and Qualifier, the result is Lambda's Invoke response (`Payload`, `StatusCode`,
  `ExecutedVersion`, SDK metadata), and the history has TaskScheduled / Started / ... events.

and Step Functions' own `arn:aws:states:::states:startExecution` (a nested execution: Parameters
StateMachineArn, Input, Name). Both take the callback pattern `.waitForTaskToken`: `$$.Task.Token`
is a token issued for this attempt of the Task, the history says TaskSubmitted once the function
was called (the execution started), and the Task waits for SendTaskSuccess / SendTaskFailure with
that token, or for HeartbeatSeconds / TimeoutSeconds to run out (States.HeartbeatTimeout,
States.Timeout). startExecution also takes `.sync` (the Task ends with the child execution, its
result DescribeExecution's shape with Output as JSON text) and `.sync:2` (Input and Output parsed).

How a Task waits: when its host asked for parking (`park_after`), it raises Parked until its next
deadline, so no thread or worker is held, in the machine's own sequence as in a Parallel branch or
a Map iteration (whose siblings go on until each has ended or parked: see runtime.asl.branches);
the host resumes the run when an answer comes (or the deadline passes) and the resumed visit, whose
history ends with TaskSubmitted, takes the answer. Without parking the Task waits on its thread
(`invoker.wait_task_token`, woken by the answer); after a restart the resumed visit waits again on
the same stored token. See runtime.asl.callbacks for the seam.

The function itself runs through the run's invoker (see `runtime.asl.invoker`).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import replace
from datetime import timedelta
from email.utils import format_datetime

from runtime.arn import FunctionRef, Integration, parse_function, parse_resource

from ..callbacks import CALLBACK, CHILD
from ..errors import DataLimitExceeded, HeartbeatTimeout, RuntimeFailure, StatesError, TimeoutError_
from ..execution import Parked, to_json
from ..executor import PAYLOAD_LIMIT, State
from ..invoker import FunctionNotFound, FunctionServiceError, TaskTimedOut

__all__ = ["TaskState"]

INVOKE = "arn:aws:states:::lambda:invoke"
# The integrations a Task runs: (service, action).
_LAMBDA_INVOKE = ("lambda", "invoke")
_START_EXECUTION = ("states", "startExecution")
# A parked Task without any deadline is looked at again after this long (it never times out).
_PARK_LIMIT = timedelta(days=366)
# Lambda's Invoke returns the last 4 KB of the invocation's log when asked with LogType Tail.
LOG_TAIL_BYTES = 4 * 1024
# What a resumed run finds last when the run before it stopped while the function ran.
_IN_FLIGHT = frozenset({"TaskScheduled", "TaskStarted", "TaskSubmitted", "LambdaFunctionScheduled",
                        "LambdaFunctionStarted"})
_SUCCEEDED = frozenset({"TaskSucceeded", "LambdaFunctionSucceeded"})
WORKER_LOST = ("The worker running this task stopped before the function's response was recorded; "
               "the execution was resumed on another worker.")
_NOT_TRUNCATED = {"truncated": False}
_SERVICE_STATUS = {"TooManyRequestsException": 429, "AccessDeniedException": 403,
                   "ResourceNotFoundException": 404}


def _function_named(value) -> FunctionRef:
    """Returns the function lambda:invoke's FunctionName names; a value Lambda would not read as
    one is taken as a name no function has, so the call fails as for a missing function."""
    return parse_function(value) or FunctionRef(str(value))


class TaskState(State):
    type_name = "Task"
    has_result = True
    blocking = True

    def __init__(self, name, spec, query_language, path):
        super().__init__(name, spec, query_language, path)
        self.resource = spec["Resource"]
        target = parse_resource(self.resource)
        # lambda:invoke or states:startExecution (any integration pattern), or a function's ARN.
        self.integration = target if isinstance(target, Integration) \
            and (target.service, target.action) in (_LAMBDA_INVOKE, _START_EXECUTION) else None
        self.function = target if isinstance(target, FunctionRef) else None
        self.pattern = self.integration.pattern if self.integration is not None else ""
        self.starts_execution = self.integration is not None \
            and (self.integration.service, self.integration.action) == _START_EXECUTION
        # A token is issued per attempt (keyed by its RetryCount, which the context object has).
        self.waits_for_token = self.pattern == ".waitForTaskToken"
        if self.pattern:
            self.uses_context = True
        self.timeout = self.number_field(spec, "TimeoutSeconds")
        self.heartbeat = self.number_field(spec, "HeartbeatSeconds")

    def interrupted(self, frame, resumed):
        """A run that stopped while the function ran (its worker died) left no outcome: the
        attempt fails with Lambda.ServiceException, as a failure of the service itself does in
        AWS, and the Task's Retry and Catch rules decide what follows (at-least-once). A Task
        that had submitted its work and waited for its token goes on waiting."""
        if not resumed.events or resumed.events[-1]["type"] not in _IN_FLIGHT:
            return None
        if self.pattern and resumed.events[-1]["type"] == "TaskSubmitted":
            return None
        error = StatesError(WORKER_LOST, "Lambda.ServiceException")
        if self.integration is not None:
            frame.emit("TaskFailed", "taskFailedEventDetails",
                       {**_error_details(error), **self._resource_fields()})
        else:
            frame.emit("LambdaFunctionFailed", "lambdaFunctionFailedEventDetails",
                       _error_details(error))
        return error

    def execute(self, frame, value, raw_input, ctx, entered_id):
        resumed = frame.resumed
        if resumed is not None and resumed.events and resumed.events[-1]["type"] in _SUCCEEDED:
            # The function's response was recorded before the run stopped: use it, once.
            frame.resumed = None
            recorded = resumed.events[-1]
            details = next(v for k, v in recorded.items() if k.endswith("EventDetails"))
            return json.loads(details["output"])
        if resumed is not None and self.pattern and resumed.events \
                and resumed.events[-1]["type"] == "TaskSubmitted":
            # The work was submitted before the run stopped (or parked): wait for its answer.
            frame.resumed = None
            return self._await(frame, self._token(frame, raw_input, ctx, entered_id))
        variables = frame.variables
        timeout = self.timeout(raw_input, ctx, variables) if self.timeout else None
        heartbeat = self.heartbeat(raw_input, ctx, variables) if self.heartbeat else None
        token = self._token(frame, raw_input, ctx, entered_id) if self.pattern else None
        if self.starts_execution:
            return self._start_execution(frame, value, timeout, heartbeat, token)
        if self.integration is not None:
            return self._invoke_integration(frame, value, timeout, heartbeat, token)
        if self.function is not None:
            return self._invoke_direct(frame, value, timeout)
        raise RuntimeFailure(f"The resource '{self.resource}' is not supported: Flowbench runs "
                             f"Lambda functions (a function ARN or {INVOKE}).", in_state=True)

    # -- the two Lambda forms --------------------------------------------------------------------

    def _invoke_direct(self, frame, payload, timeout):
        details = {"input": to_json(payload), "inputDetails": _NOT_TRUNCATED,
                   "resource": self.resource}
        if timeout is not None:
            details["timeoutInSeconds"] = timeout
        frame.emit("LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails", details)
        frame.emit("LambdaFunctionStarted")
        try:
            outcome = self._call(frame, self.function, payload, timeout, spaced_cause=True)
            _check_size(outcome.payload, self.resource)
        except StatesError as error:
            if error.error == "States.Timeout":
                frame.emit("LambdaFunctionTimedOut", "lambdaFunctionTimedOutEventDetails",
                           _error_details(error))
            else:
                frame.emit("LambdaFunctionFailed", "lambdaFunctionFailedEventDetails",
                           _error_details(error))
            raise
        frame.emit("LambdaFunctionSucceeded", "lambdaFunctionSucceededEventDetails",
                   {"output": to_json(outcome.payload), "outputDetails": _NOT_TRUNCATED})
        return outcome.payload

    def _resource_fields(self) -> dict:
        return {"resource": self.integration.action + self.integration.pattern,
                "resourceType": self.integration.service}

    def _schedule(self, frame, parameters, timeout, heartbeat) -> dict:
        """Emits TaskScheduled and TaskStarted; returns the resource fields of the Task's events."""
        resource = self._resource_fields()
        scheduled = {"parameters": to_json(parameters), "region": frame.run.context.region,
                     **resource}
        if timeout is not None:
            scheduled["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            scheduled["heartbeatInSeconds"] = heartbeat
        frame.emit("TaskScheduled", "taskScheduledEventDetails", scheduled)
        frame.emit("TaskStarted", "taskStartedEventDetails", dict(resource))
        return resource

    def _failed(self, frame, error: StatesError, resource: dict, token: str | None) -> None:
        """Records a failed attempt (TaskTimedOut or TaskFailed); its token takes no answer now."""
        if token is not None:
            frame.run.invoker.close_task_token(token)
        if error.error == "States.Timeout":
            frame.emit("TaskTimedOut", "taskTimedOutEventDetails", {**_error_details(error), **resource})
        else:
            frame.emit("TaskFailed", "taskFailedEventDetails", {**_error_details(error), **resource})

    def _invoke_integration(self, frame, parameters, timeout, heartbeat, token=None):
        resource = self._schedule(frame, parameters, timeout, heartbeat)
        try:
            if not isinstance(parameters, dict) or "FunctionName" not in parameters:
                raise StatesError("The field 'FunctionName' is required by lambda:invoke.",
                                  "States.Runtime")
            function = _function_named(parameters["FunctionName"])
            if "Qualifier" in parameters:
                function = replace(function, qualifier=parameters["Qualifier"])
            outcome = self._call(frame, function, _request_event(parameters.get("Payload")),
                                 timeout)
            _check_size(outcome.payload, "lambda")
        except StatesError as error:
            self._failed(frame, error, resource, token)
            raise
        log = outcome.log if parameters.get("LogType") == "Tail" else None
        result = _invoke_response(outcome, frame.run.clock.now(), log)
        return self._submitted(frame, result, resource, token)

    def _submitted(self, frame, result, resource: dict, token: str | None):
        """Ends a request-response attempt with `result` (TaskSucceeded); with a token, records
        TaskSubmitted and waits for the token's answer instead."""
        if token is None:
            frame.emit("TaskSucceeded", "taskSucceededEventDetails",
                       {"output": to_json(result), "outputDetails": _NOT_TRUNCATED, **resource})
            return result
        frame.emit("TaskSubmitted", "taskSubmittedEventDetails",
                   {"output": to_json(result), "outputDetails": _NOT_TRUNCATED, **resource})
        return self._await(frame, token)

    # -- nested executions -----------------------------------------------------------------------

    def _start_execution(self, frame, parameters, timeout, heartbeat, token):
        """Starts another execution (states:startExecution); fire and forget, `.sync[:2]` or
        `.waitForTaskToken`. The host checks the role and starts it (`invoker.start_execution`)."""
        resource = self._schedule(frame, parameters, timeout, heartbeat)
        try:
            if not isinstance(parameters, dict) or "StateMachineArn" not in parameters:
                raise StatesError("The field 'StateMachineArn' is required by states:startExecution.",
                                  "States.Runtime")
            invoker = frame.run.invoker
            if invoker is None or not hasattr(invoker, "start_execution"):
                raise StatesError("This run cannot start executions: its host keeps no executions.",
                                  "States.Runtime")
            started = invoker.start_execution(parameters, state=self.name, token=token,
                                              sync=self.pattern.startswith(".sync"))
        except StatesError as error:
            self._failed(frame, error, resource, token)
            raise
        return self._submitted(frame, started, resource, token)

    # -- waiting for a token ---------------------------------------------------------------------

    def attempt(self, frame, raw_input, ctx, entered_id):
        if self.waits_for_token:
            # $$.Task.Token: the token of this attempt, for Parameters to hand to the worker.
            ctx = {**ctx, "Task": {"Token": self._token(frame, raw_input, ctx, entered_id)}}
        return super().attempt(frame, raw_input, ctx, entered_id)

    def _token(self, frame, raw_input, ctx, entered_id) -> str:
        """Returns the token of this attempt (the same one when asked again, after a restart)."""
        invoker = frame.run.invoker
        if invoker is None or not hasattr(invoker, "issue_task_token"):
            raise RuntimeFailure(f"The resource '{self.resource}' waits for an answer, and this run's "
                                 f"host keeps no task tokens.", in_state=True)
        variables = frame.variables
        timeout = self.timeout(raw_input, ctx, variables) if self.timeout else None
        heartbeat = self.heartbeat(raw_input, ctx, variables) if self.heartbeat else None
        kind = CALLBACK if self.waits_for_token else CHILD
        return invoker.issue_task_token(self.name, entered_id, ctx["State"]["RetryCount"], kind=kind,
                                        heartbeat=heartbeat if kind == CALLBACK else None, timeout=timeout)

    def _await(self, frame, token: str):
        """Waits for the token's answer; returns the Task's result (TaskSucceeded) or raises its
        error (TaskFailed), States.HeartbeatTimeout or States.Timeout (TaskTimedOut)."""
        run = frame.run
        invoker = run.invoker
        resource = self._resource_fields()
        while True:
            run.check_alive()
            state = invoker.task_token_state(token)
            answer = state.answer
            if answer is not None:
                invoker.close_task_token(token)
                if answer.failed:
                    error = StatesError(answer.cause, answer.error or "States.TaskFailed")
                    frame.emit("TaskFailed", "taskFailedEventDetails",
                               {**_error_details(error), **resource})
                    raise error
                result = json.loads(answer.output)
                if self.pattern == ".sync:2":
                    result = _parsed_description(result)
                frame.emit("TaskSucceeded", "taskSucceededEventDetails",
                           {"output": to_json(result), "outputDetails": _NOT_TRUNCATED, **resource})
                return result
            now = run.clock.now()
            for deadline, kind in ((state.timeout_deadline, TimeoutError_),
                                   (state.heartbeat_deadline, HeartbeatTimeout)):
                # Closed only while unanswered: an answer that came meanwhile is taken instead.
                if deadline is not None and now >= deadline \
                        and invoker.close_task_token(token, timed_out=True):
                    error = kind(None)
                    frame.emit("TaskTimedOut", "taskTimedOutEventDetails",
                               {**_error_details(error), **resource})
                    raise error
            deadlines = [d for d in (state.timeout_deadline, state.heartbeat_deadline, run.deadline)
                         if d is not None]
            until = min(deadlines) if deadlines else None
            if run.park_after is not None:
                # Should a sibling fail the Map or Parallel meanwhile, no answer is taken any more.
                raise Parked(until or now + _PARK_LIMIT,
                             abandon=(lambda: invoker.close_task_token(token),))
            invoker.wait_task_token(token, until, run.cancel)

    def _call(self, frame, function: FunctionRef, payload, timeout, spaced_cause=False):
        """Returns the function's FunctionOutcome; raises StatesError as Step Functions reports
        Lambda's failures. A function's error becomes its errorType with Lambda's error object as
        the cause: as JSON with spaces for the function ARN form (as Lambda's Python runtime
        writes it), compact for lambda:invoke (as AWS recorded both)."""
        run = frame.run
        remaining = run.remaining_seconds()
        limit = timeout
        if remaining is not None and (limit is None or remaining < limit):
            limit = remaining
        invoker = run.invoker
        name, qualifier = function.name, function.qualifier
        arn = run.context.lambda_arn(name, function.region, function.account)
        try:
            if invoker is None:
                raise FunctionNotFound(name)
            outcome = invoker.invoke_function(name, payload, qualifier=qualifier, timeout=limit,
                                              arn=arn, state=self.name)
        except TaskTimedOut:
            run.check_alive()
            raise TimeoutError_(None)
        except FunctionNotFound:
            request_id = str(uuid.uuid4())
            raise StatesError(
                f"Function not found: {arn}:{qualifier or '$LATEST'} (Service: AWSLambda; "
                f"Status Code: 404; Error Code: ResourceNotFoundException; Request ID: "
                f"{request_id}; Proxy: null)", "Lambda.ResourceNotFoundException")
        except FunctionServiceError as exc:
            status = _SERVICE_STATUS.get(exc.error_type, 500)
            error = exc.error_type if "." in exc.error_type else (
                "Lambda.AWSLambdaException" if exc.error_type == "AccessDeniedException"
                else f"Lambda.{exc.error_type}")
            raise StatesError(
                f"{exc.message} (Service: AWSLambda; Status Code: {status}; Error Code: "
                f"{exc.error_type}; Request ID: {uuid.uuid4()}; Proxy: null)", error)
        if outcome.error is not None:
            err = outcome.error
            cause = {"errorMessage": err.get("errorMessage"), "errorType": err.get("errorType"),
                     "requestId": outcome.request_id, "stackTrace": err.get("stackTrace", [])}
            text = json.dumps(cause, ensure_ascii=False) if spaced_cause else to_json(cause)
            raise StatesError(text, err.get("errorType") or "Lambda.Unknown")
        return outcome


def _parsed_description(description):
    """Returns a child execution's description as `.sync:2` gives it: Input and Output as JSON."""
    if not isinstance(description, dict):
        return description
    parsed = dict(description)
    for key in ("Input", "Output"):
        if isinstance(parsed.get(key), str):
            try:
                parsed[key] = json.loads(parsed[key])
            except ValueError:
                pass
    return parsed


def _request_event(payload):
    """Returns the event a function receives for lambda:invoke's Payload: a string is the request
    body itself (JSON text, decoded as Lambda does), nothing is an empty object."""
    if payload is None:
        return {}
    if isinstance(payload, str):
        try:
            return json.loads(payload)
        except ValueError:
            return payload
    return payload


def _check_size(result, resource_name: str) -> None:
    """Raises States.DataLimitExceeded when a task's result is over the 256 KiB payload limit."""
    text = to_json(result)
    if len(text) > PAYLOAD_LIMIT // 4 and len(text.encode()) > PAYLOAD_LIMIT:
        raise DataLimitExceeded(
            f"The state/task '{resource_name}' returned a result with a size exceeding the "
            f"maximum number of bytes service limit.")


def _error_details(error: StatesError) -> dict:
    details = {}
    if error.cause:
        details["cause"] = error.cause
    details["error"] = error.error
    return details


def _invoke_response(outcome, now, log: str | None = None) -> dict:
    """Returns Lambda Invoke's response as Step Functions passes it on; with `log` (LogType
    Tail), the log's last 4 KB in base64 as LogResult and the X-Amz-Log-Result header."""
    # Lambda's Python runtime writes its response as json.dumps does, with spaces.
    body_length = str(len(json.dumps(outcome.payload, ensure_ascii=False).encode()))
    headers = {
        "X-Amz-Executed-Version": outcome.executed_version,
        "x-amzn-Remapped-Content-Length": "0",
        "Connection": "keep-alive",
        "x-amzn-RequestId": outcome.request_id,
        "Content-Length": body_length,
        "Date": format_datetime(now, usegmt=True),
        "X-Amzn-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0",
        "Content-Type": "application/json",
    }
    response = {"ExecutedVersion": outcome.executed_version}
    if log is not None:
        tail = base64.b64encode(log.encode("utf-8")[-LOG_TAIL_BYTES:]).decode("ascii")
        headers = {"X-Amz-Log-Result": tail, **headers}
        response["LogResult"] = tail
    response.update({
        "Payload": outcome.payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {name: [value] for name, value in headers.items()},
            # The SDK's single-valued view lists the headers by name, case aside.
            "HttpHeaders": dict(sorted(headers.items(), key=lambda item: item[0].lower())),
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": outcome.request_id},
        "StatusCode": 200,
    })
    return response
