"""Amazon Resource Names as Flowbench reads and writes them: the one parser of function references
and Task resources, and the builders of the ARNs the engine reports.

    parse_function("arn:aws:lambda:us-east-1:123456789012:function:greet:prod")
        -> FunctionRef(name="greet", qualifier="prod", region="us-east-1", account="123456789012")
    parse_function("greet")              -> FunctionRef(name="greet")
    parse_resource("arn:aws:states:::lambda:invoke.waitForTaskToken")
        -> Integration(service="lambda", action="invoke", pattern=".waitForTaskToken")

A function is named as Lambda's Invoke accepts it (its `FunctionName` pattern): a name, a partial ARN
(`123456789012:function:greet`) or a full ARN, each with an optional qualifier (a version number,
`$LATEST` or an alias). A Task's Resource is a function ARN, a service integration
(`arn:<partition>:states:::<service>:<action>[.sync[:2]|.waitForTaskToken]`) or an activity ARN.

Step Functions' ARNs are written here only, for the engine's context object, the API and the console
alike. A Distributed Map's children run the state machine MACHINE/LABEL, as AWS names it:

    state_machine_arn("flow", R, A)                      -> arn:aws:states:R:A:stateMachine:flow
    state_machine_arn("flow", R, A, label="Fan")         -> arn:aws:states:R:A:stateMachine:flow/Fan
    execution_arn("flow", "run", R, A)                   -> arn:aws:states:R:A:execution:flow:run
    execution_arn("flow", "run", R, A, "ID")             -> arn:aws:states:R:A:express:flow:run:ID
    execution_arn("flow", "child", R, A, label="Fan")    -> arn:aws:states:R:A:execution:flow/Fan:child
    map_run_arn("flow", "Fan", "ID", R, A)               -> arn:aws:states:R:A:mapRun:flow/Fan:ID
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FunctionRef", "Integration", "Activity", "parse_function", "parse_resource",
           "function_arn", "state_machine_name", "state_machine_arn", "execution_arn", "map_run_arn"]

_NAME = r"(?P<name>[a-zA-Z0-9_.-]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?"
# A full ARN, wherever it says the function lives.
_FUNCTION_ARN = re.compile(
    r"arn:(?P<partition>[^:]+):lambda:(?P<region>[^:]*):(?P<account>[^:]*):function:" + _NAME)
# A partial ARN or a bare name, as Lambda's FunctionName pattern allows them.
_PARTIAL = re.compile(
    r"(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):)?(?:(?P<account>\d{12}):)?(?:function:)?" + _NAME)
_INTEGRATION = re.compile(
    r"arn:(?P<partition>[^:]+):states:::(?P<service>[^:]+):(?P<action>.+?)"
    r"(?P<pattern>\.sync(?::\d+)?|\.waitForTaskToken)?")
_ACTIVITY = re.compile(
    r"arn:(?P<partition>[^:]+):states:(?P<region>[^:]*):(?P<account>[^:]*):activity:(?P<name>.+)")


@dataclass(frozen=True)
class FunctionRef:
    """A Lambda function as a name, partial ARN or ARN names it: what is known of it."""

    name: str
    qualifier: str | None = None
    region: str | None = None
    account: str | None = None
    partition: str = "aws"


@dataclass(frozen=True)
class Integration:
    """An optimized service integration: `service` ("lambda", "aws-sdk", ...), `action`
    ("invoke"; "s3:getObject" for aws-sdk) and the integration pattern (".sync", ".sync:2",
    ".waitForTaskToken", or "" for request-response)."""

    service: str
    action: str
    pattern: str = ""
    partition: str = "aws"


@dataclass(frozen=True)
class Activity:
    """A Step Functions activity."""

    name: str
    region: str
    account: str
    partition: str = "aws"


def parse_function(text) -> FunctionRef | None:
    """Returns the function `text` names (name, partial ARN or ARN, optional qualifier), or None
    when it is not a function reference Lambda would accept."""
    if not isinstance(text, str):
        return None
    match = _FUNCTION_ARN.fullmatch(text) or _PARTIAL.fullmatch(text)
    if match is None:
        return None
    found = match.groupdict()
    return FunctionRef(found["name"], found["qualifier"], found["region"] or None,
                       found["account"] or None, found.get("partition") or "aws")


def parse_resource(text) -> FunctionRef | Integration | Activity | None:
    """Returns what a Task's Resource names: a function (its ARN), a service integration, an
    activity; None for any other text."""
    if not isinstance(text, str):
        return None
    if _FUNCTION_ARN.fullmatch(text):
        return parse_function(text)
    match = _INTEGRATION.fullmatch(text)
    if match:
        return Integration(match["service"], match["action"], match["pattern"] or "",
                           match["partition"])
    match = _ACTIVITY.fullmatch(text)
    if match:
        return Activity(match["name"], match["region"], match["account"], match["partition"])
    return None


def function_arn(name: str, region: str, account: str, qualifier: str | None = None) -> str:
    """Returns the ARN of function `name` (and of its version or alias `qualifier`)."""
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def state_machine_name(machine: str, label: str | None = None) -> str:
    """Returns the name a state machine goes by in its ARNs: `machine`, or MACHINE/LABEL for the one
    a Distributed Map's children run (LABEL: the Map's Label, else its state's name), as AWS names
    the state machine of a Map Run."""
    return f"{machine}/{label}" if label else machine


def state_machine_arn(name: str, region: str, account: str, label: str | None = None) -> str:
    """Returns the ARN of the state machine `name` (with `label`: of its Distributed Map's
    children, stateMachine:NAME/LABEL)."""
    return f"arn:aws:states:{region}:{account}:stateMachine:{state_machine_name(name, label)}"


def execution_arn(machine: str, execution: str, region: str, account: str,
                  express_id: str | None = None, label: str | None = None) -> str:
    """Returns the ARN of an execution; an Express execution's carries its `express_id`, a
    Distributed Map's child names the Map's `label` (execution:MACHINE/LABEL:NAME)."""
    machine = state_machine_name(machine, label)
    if express_id is not None:
        return f"arn:aws:states:{region}:{account}:express:{machine}:{execution}:{express_id}"
    return f"arn:aws:states:{region}:{account}:execution:{machine}:{execution}"


def map_run_arn(machine: str, label: str, run_id: str, region: str, account: str) -> str:
    """Returns the ARN of the Map Run `run_id` of a Distributed Map labelled `label`
    (mapRun:MACHINE/LABEL:ID)."""
    return f"arn:aws:states:{region}:{account}:mapRun:{state_machine_name(machine, label)}:{run_id}"
