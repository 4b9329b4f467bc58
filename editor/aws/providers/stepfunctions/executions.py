"""Executions: start (asynchronous and Express's synchronous), describe, list, stop, redrive, history.
A Distributed Map's children are executions too, listed under their Map Run only (as AWS lists them).

editor.services.executions starts, stops and redrives them, as the studio's buttons do; the events
are the ones the engine recorded, already in GetExecutionHistory's shapes.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

from django.db import transaction

from editor.aws.errors import AwsError
from editor.aws.providers.stepfunctions.common import StatesBase, error, page, revision
from editor.errors import ApiError
from editor.models import Execution, ExecutionEvent, MapRun
from editor.services import executions, machines
from editor.services import machine_aliases as aliases
from editor.services.accounts import execution_machine_name, region, role_arn
from runtime.arn import execution_arn

# Express executions last at most five minutes; StartSyncExecution waits that long, then stops it.
EXPRESS_LIMIT_SECONDS = 300
DATA_MEMBERS = ("input", "output", "inputDetails", "outputDetails")
NOT_TRUNCATED = {"included": True}


def _moment(text: str) -> datetime | str:
    """Returns an event's timestamp text (2024-01-01T00:00:00.000Z) as a datetime."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return text


class ExecutionOperations(StatesBase):
    # -- helpers ------------------------------------------------------------------------------

    def _version_arns(self, execution: Execution) -> dict:
        """Returns stateMachineVersionArn / stateMachineAliasArn as AWS gives them: only when the
        start named a version or an alias."""
        if not execution.qualifier:
            return {}
        found = {"stateMachineVersionArn": self.machine_arn(execution.machine, execution.version.number)}
        if not execution.qualifier.isdigit():
            found["stateMachineAliasArn"] = self.machine_arn(execution.machine, execution.qualifier)
        return found

    def _redrive(self, execution: Execution) -> dict:
        if execution.version.type == "EXPRESS":
            return {}
        shape = {"redriveCount": execution.redrive_count, "redriveDate": execution.redriven_at}
        if execution.status in ("FAILED", "TIMED_OUT", "ABORTED"):
            return {**shape, "redriveStatus": "REDRIVABLE"}
        return {**shape, "redriveStatus": "NOT_REDRIVABLE",
                "redriveStatusReason": f"Execution is {execution.status} and cannot be redriven"}

    def _start(self, params: dict, action: str, synchronous: bool = False) -> Execution:
        arn = params["stateMachineArn"]
        machine, version, alias = self.resolve(arn, action)
        if synchronous and (version.type if version else machine.type) != "EXPRESS":
            raise error("StateMachineTypeNotSupported", "This operation is not supported by this type of "
                                                        "state machine: StartSyncExecution runs Express state machines.")
        qualifier = ""
        if alias is not None:
            version, qualifier = aliases.pick_version(alias), alias.name
        elif version is not None:
            qualifier = str(version.number)
        try:
            # One transaction: a start refused (its input, its name) publishes no version either.
            with transaction.atomic():
                if not qualifier:
                    # The machine's own ARN runs its latest revision, published now if it is new.
                    version = machines.current_version(machine)
                return executions.start_execution(self.owner, machine, params.get("input"), params.get("name"),
                                                  version.number if version else None, qualifier=qualifier,
                                                  synchronous=synchronous, idempotent=not synchronous)
        except ApiError as refused:
            raise self._start_error(refused, machine, params) from None

    def _start_error(self, refused: ApiError, machine, params: dict):
        name = params.get("name")
        if refused.code == "ExecutionAlreadyExists":
            taken = execution_arn(machine.name, name, region(), self.principal.account_id)
            return error("ExecutionAlreadyExists", f"Execution Already Exists: '{taken}'")
        if refused.code in ("InvalidJson", "InputTooLarge"):
            return error("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{refused.message}'")
        if refused.code == "InvalidName":
            return error("InvalidName", f"Invalid Name: '{name}'")
        if refused.code == "NoVersion":
            return error("InvalidDefinition", f"{machine.name} has no valid definition to run: publish one.")
        return self.translate(refused)

    def _describe(self, execution: Execution, data: bool = True) -> dict:
        shape = {"executionArn": self.execution_arn(execution),
                 "stateMachineArn": self.execution_machine_arn(execution), "name": execution.name,
                 "status": execution.status, "startDate": execution.started_at,
                 "stopDate": execution.stopped_at, "error": execution.error, "cause": execution.cause}
        if data:
            shape.update(input=execution.input, inputDetails=NOT_TRUNCATED)
            if execution.output is not None:
                shape.update(output=execution.output, outputDetails=NOT_TRUNCATED)
        return shape

    # -- operations -----------------------------------------------------------------------------

    def StartExecution(self, params: dict) -> dict:
        execution = self._start(params, "states:StartExecution")
        return {"executionArn": self.execution_arn(execution), "startDate": execution.started_at}

    def StartSyncExecution(self, params: dict) -> dict:
        execution = self._start(params, "states:StartSyncExecution", synchronous=True)
        limit = self.context.wait_limit
        if limit is not None and limit < EXPRESS_LIMIT_SECONDS:
            # A caller that waits less (an API Gateway integration's timeout) gives up; the
            # execution goes on, as an Express execution does when its caller has gone.
            if not executions.wait_for_end(execution, limit):
                raise AwsError("IntegrationTimeout", f"The execution did not end within {limit:g} seconds: it goes "
                               "on without its caller.", 504)
        elif not executions.wait_for_end(execution, EXPRESS_LIMIT_SECONDS):
            try:
                executions.stop_execution(self.owner, execution, "States.Timeout",
                                          "The execution ran longer than Express's 5 minutes.")
            except ApiError:
                pass   # it ended meanwhile
            executions.wait_for_end(execution, 30)
        execution.refresh_from_db()
        shape = self._describe(execution, params.get("includedData", "ALL_DATA") == "ALL_DATA")
        elapsed = ((execution.stopped_at or execution.started_at) - execution.started_at).total_seconds()
        billed = max(100, math.ceil(elapsed * 10) * 100)
        return {**shape, "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed}}

    def DescribeExecution(self, params: dict) -> dict:
        execution = self.execution(params["executionArn"], "states:DescribeExecution")
        found = {**self._describe(execution), **self._version_arns(execution), **self._redrive(execution)}
        if execution.map_run_id is not None:
            found["mapRunArn"] = MapRun.objects.values_list("arn", flat=True).get(pk=execution.map_run_id)
        return found

    def DescribeStateMachineForExecution(self, params: dict) -> dict:
        """The state machine the execution ran: a Map Run's child ran its Map's item processor, the
        state machine NAME/LABEL, and also says its run and label, as AWS answers."""
        execution = self.execution(params["executionArn"], "states:DescribeStateMachineForExecution")
        version, run = execution.version, execution.map_run
        definition = version.definition if run is None else json.loads(run.definition)
        found = {"stateMachineArn": self.execution_machine_arn(execution), "name": execution_machine_name(execution),
                 "definition": json.dumps(definition, indent=2, ensure_ascii=False),
                 "roleArn": role_arn(self.owner, version.role_name, version.role.path),
                 "updateDate": version.created_at,
                 "loggingConfiguration": execution.machine.logging or {"level": "OFF", "includeExecutionData": False},
                 "tracingConfiguration": execution.machine.tracing or {"enabled": False},
                 "revisionId": revision(execution.machine, definition, version.role_id)}
        if run is not None:
            found.update(mapRunArn=run.arn, label=run.label)
        return found

    def ListExecutions(self, params: dict) -> dict:
        """Lists a state machine's executions (a Distributed Map's children left out), or a Map
        Run's children, which also say their run and their one item."""
        if ("stateMachineArn" in params) == ("mapRunArn" in params):
            raise error("ValidationException", "Either stateMachineArn or mapRunArn must be specified, not both.")
        if "mapRunArn" in params:
            run = self.map_run(params["mapRunArn"], "states:ListExecutions")
            rows = run.children.all()
            child = {"mapRunArn": run.arn, "itemCount": 1}
        else:
            machine, version, alias = self.resolve(params["stateMachineArn"], "states:ListExecutions")
            rows = Execution.objects.filter(machine=machine, map_run__isnull=True)
            if alias is not None:
                rows = rows.filter(qualifier=alias.name)
            elif version is not None:
                rows = rows.filter(version=version)
            child = {}
        rows = rows.select_related("machine", "version", "map_run").defer("map_run__items")
        if params.get("statusFilter"):
            rows = rows.filter(status=params["statusFilter"])
        redriven = params.get("redriveFilter")
        if redriven == "REDRIVEN":
            rows = rows.filter(redrive_count__gt=0)
        elif redriven == "NOT_REDRIVEN":
            rows = rows.filter(redrive_count=0)
        found, token = page(rows, params, ("-started_at", "-id"))
        items = []
        for execution in found:
            item = {"executionArn": self.execution_arn(execution),
                    "stateMachineArn": self.execution_machine_arn(execution), "name": execution.name,
                    "status": execution.status, "startDate": execution.started_at,
                    "stopDate": execution.stopped_at, **self._version_arns(execution), **child}
            if execution.version.type != "EXPRESS":
                item.update(redriveCount=execution.redrive_count, redriveDate=execution.redriven_at)
            items.append(item)
        return {"executions": items, "nextToken": token}

    def GetExecutionHistory(self, params: dict) -> dict:
        execution = self.execution(params["executionArn"], "states:GetExecutionHistory")
        rows = ExecutionEvent.objects.filter(execution=execution)
        found, token = page(rows, params, ("-event_id",) if params.get("reverseOrder") else ("event_id",))
        data = params.get("includeExecutionData", True)
        events = []
        for row in found:
            event = row.as_event()
            event["timestamp"] = _moment(event["timestamp"])
            if not data:
                for key, details in event.items():
                    if key.endswith("EventDetails") and isinstance(details, dict):
                        event[key] = {k: v for k, v in details.items() if k not in DATA_MEMBERS}
            events.append(event)
        return {"events": events, "nextToken": token}

    def StopExecution(self, params: dict) -> dict:
        execution = self.execution(params["executionArn"], "states:StopExecution")
        try:
            execution = executions.stop_execution(self.owner, execution, params.get("error"), params.get("cause"))
        except ApiError as refused:
            if refused.code != "ExecutionNotRunning":
                raise
            # As AWS: stopping an execution that has ended changes nothing and says when it ended.
        executions.wait_for_end(execution, 10)
        execution.refresh_from_db()
        return {"stopDate": execution.stopped_at or execution.started_at}

    def RedriveExecution(self, params: dict) -> dict:
        execution = self.execution(params["executionArn"], "states:RedriveExecution")
        try:
            execution = executions.redrive_execution(self.owner, execution)
        except ApiError as refused:
            if refused.code == "ExecutionNotRedrivable":
                raise error("ExecutionNotRedrivable", f"Execution {self.execution_arn(execution)} cannot be "
                                                      f"redriven: {refused.message}") from None
            raise
        return {"redriveDate": execution.redriven_at}
