"""What the Step Functions operations share: the ARNs as AWS shapes them, finding the caller's
state machines, versions, aliases, executions and Map Runs from an ARN (another account's are never
found, whatever the ARN says), and nextToken pages.

    arn:aws:states:REGION:ACCOUNT:stateMachine:NAME            a state machine
    arn:aws:states:REGION:ACCOUNT:stateMachine:NAME:3          its version 3
    arn:aws:states:REGION:ACCOUNT:stateMachine:NAME:prod       its alias prod
    arn:aws:states:REGION:ACCOUNT:execution:NAME:EXECUTION     a Standard execution
    arn:aws:states:REGION:ACCOUNT:express:NAME:EXECUTION:ID    an Express execution (ID: its id)
    arn:aws:states:REGION:ACCOUNT:mapRun:NAME/LABEL:ID         a Distributed Map's run (ID: its id;
                                                               LABEL: the Map's Label, else its name)
    arn:aws:states:REGION:ACCOUNT:execution:NAME/LABEL:CHILD   one of the run's child executions
    arn:aws:states:REGION:ACCOUNT:stateMachine:NAME/LABEL      the state machine its children run

editor.services.accounts (through runtime.arn) writes the ARNs of executions and of the state
machines they run; this module reads them.
"""

from __future__ import annotations

import json
import uuid

from dataclasses import dataclass
from editor.aws.errors import AwsError
from editor.aws.pagination import paginate
from editor.models import Execution, MapRun, StateMachine, StateMachineAlias, StateMachineVersion
from editor.services.accounts import execution_arn, execution_machine_arn, region
from editor.services.machine_aliases import ALIAS_NAME
from editor.services.machines import MACHINE_NAME
from editor.services.map_runs import run_id_of
from runtime.arn import state_machine_arn

DEFAULT_PAGE = 100


def error(code: str, message: str, **fields) -> AwsError:
    """Returns a Step Functions error: every one of them is HTTP 400, as AWS answers them."""
    return AwsError(code, message, 400, fields=fields)


def invalid_arn(arn: str, why: str = "") -> AwsError:
    return error("InvalidArn", f"Invalid Arn: '{why or arn}'")


def no_machine(arn: str) -> AwsError:
    return error("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")


def no_execution(arn: str) -> AwsError:
    return error("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")


def no_resource(arn: str) -> AwsError:
    return error("ResourceNotFound", f"Resource Not Found: '{arn}'", resourceName=arn)


# What follows an execution's NAME/LABEL: its name (Standard), its name and id (Express).
_EXECUTION_PARTS = {"execution": 1, "express": 2}
# The longest label a Map Run has (the Map's Label is 40 characters at most, a state's name 80).
LABEL_LIMIT = 80


@dataclass(frozen=True)
class Arn:
    """A Step Functions ARN read into its parts: `kind` ("stateMachine", "execution", "express",
    "mapRun"), the machine's name and what follows it (a version or alias; an execution's name and
    id; a Map Run's label and id). An execution of a Distributed Map's run has that run's `label`
    (execution:NAME/LABEL:CHILD); any other, None."""

    text: str
    region: str
    account: str
    kind: str
    machine: str
    rest: tuple[str, ...]
    label: str | None = None


def read_arn(text: str, kinds: tuple[str, ...]) -> Arn:
    """Returns the ARN `text` read, when it is of one of `kinds`; raises InvalidArn."""
    parts = text.split(":") if isinstance(text, str) else []
    if len(parts) < 7 or parts[:3] != ["arn", "aws", "states"]:
        raise invalid_arn(text)
    kind = parts[5]
    if kind not in kinds:
        raise invalid_arn(text, f"Resource type not valid in this context: {kind}")
    if kind == "mapRun" or (kind in _EXECUTION_PARTS and "/" in parts[6]):
        # NAME/LABEL then the run's id (or the child's name), the label being the Map state's name
        # when it has no Label: it may hold ':' and '/'.
        after = 1 if kind == "mapRun" else _EXECUTION_PARTS[kind]
        machine, slash, label = ":".join(parts[6:-after]).partition("/")
        if len(parts) < 7 + after or not slash or not label or len(label) > LABEL_LIMIT:
            raise invalid_arn(text)
        if kind == "mapRun":
            return Arn(text, parts[3], parts[4], kind, machine, (label, parts[-1]))
        return Arn(text, parts[3], parts[4], kind, machine, tuple(parts[-after:]), label)
    sizes = {"stateMachine": (7, 8), "execution": (8,), "express": (9,)}
    if len(parts) not in sizes.get(kind, ()):
        raise invalid_arn(text)
    return Arn(text, parts[3], parts[4], kind, parts[6], tuple(parts[7:]))


def revision(machine: StateMachine, definition, role_id: int) -> str:
    """Returns the revision id of a definition (text or value) with its role: the same content,
    the same id, so that a draft and the version published from it share it."""
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except (ValueError, RecursionError):
            pass   # a draft the studio left invalid: its text is its content
    content = json.dumps(definition, sort_keys=True, ensure_ascii=False)
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"flowbench:{machine.pk}:{role_id}:{content}"))


class StatesBase:
    """The lookups the Step Functions operations share (mixed into StepFunctionsProvider)."""

    # -- ARNs -----------------------------------------------------------------------------------

    def machine_arn(self, machine: StateMachine | str, qualifier: str | int | None = None,
                    label: str | None = None) -> str:
        """The ARN of a state machine, of its version or alias `qualifier`, or, with `label`, of
        the state machine its Distributed Map so labelled runs its children as (NAME/LABEL)."""
        name = machine if isinstance(machine, str) else machine.name
        arn = state_machine_arn(name, region(), self.principal.account_id, label)
        return f"{arn}:{qualifier}" if qualifier not in (None, "") else arn

    def version_arn(self, version: StateMachineVersion) -> str:
        return self.machine_arn(version.machine.name, version.number)

    def alias_arn(self, alias: StateMachineAlias) -> str:
        return self.machine_arn(alias.machine.name, alias.name)

    def execution_arn(self, execution: Execution) -> str:
        return execution_arn(execution, self.principal.account_id)

    def execution_machine_arn(self, execution: Execution) -> str:
        """The ARN of the state machine the execution runs: a Map Run's child's is NAME/LABEL."""
        return execution_machine_arn(execution, self.principal.account_id)

    # -- lookups --------------------------------------------------------------------------------

    def _ours(self, arn: Arn) -> bool:
        return arn.account == self.principal.account_id and arn.region == region()

    def resolve(self, text: str, action: str) -> tuple[StateMachine, StateMachineVersion | None,
                                                        StateMachineAlias | None]:
        """Returns (machine, version, alias) that a state machine, version or alias ARN names
        (version and alias None for the machine itself) once `action` on it is authorized;
        raises InvalidArn or StateMachineDoesNotExist."""
        arn = read_arn(text, ("stateMachine",))
        if not MACHINE_NAME.match(arn.machine):
            raise invalid_arn(text)
        qualifier = arn.rest[0] if arn.rest else None
        if qualifier is not None and not (qualifier.isdigit() or ALIAS_NAME.match(qualifier)):
            raise invalid_arn(text)
        machine = None
        if self._ours(arn):
            machine = StateMachine.objects.select_related("role").filter(owner=self.owner, name=arn.machine).first()
        if machine is None:
            raise no_machine(text)
        self.authorize(action, text)
        if qualifier is None:
            return machine, None, None
        if qualifier.isdigit():
            version = machine.versions.filter(number=int(qualifier)).first()
            if version is None:
                raise no_resource(text)
            return machine, version, None
        alias = machine.aliases.filter(name=qualifier).first()
        if alias is None:
            raise no_resource(text)
        return machine, None, alias

    def machine(self, text: str, action: str) -> StateMachine:
        """Returns the state machine an unqualified ARN names (a version or alias ARN is InvalidArn)."""
        machine, version, alias = self.resolve(text, action)
        if version is not None or alias is not None:
            raise invalid_arn(text, "Qualified state machine ARNs are not valid in this context")
        return machine

    def execution(self, text: str, action: str) -> Execution:
        """Returns the caller's execution the ARN names; raises InvalidArn or ExecutionDoesNotExist."""
        arn = read_arn(text, ("execution", "express"))
        rows = Execution.objects.select_related("machine", "version", "machine__role", "map_run").defer(
            "map_run__items").filter(machine__owner=self.owner, machine__name=arn.machine, name=arn.rest[0])
        # One ARN an execution: a Map Run's child is found by its run's label only.
        rows = rows.filter(map_run__label=arn.label) if arn.label is not None else rows.filter(map_run__isnull=True)
        if arn.kind == "express":
            try:
                rows = rows.filter(pk=uuid.UUID(arn.rest[1]), version__type="EXPRESS")
            except ValueError:
                raise no_execution(text) from None
        else:
            rows = rows.exclude(version__type="EXPRESS")
        found = rows.first() if self._ours(arn) else None
        if found is None:
            raise no_execution(text)
        self.authorize(action, text)
        return found

    def map_run(self, text: str, action: str) -> MapRun:
        """Returns the caller's Map Run the ARN names, once `action` on it is authorized; raises
        InvalidArn or ResourceNotFound. The run is found by its id under the machine the ARN names."""
        arn = read_arn(text, ("mapRun",))
        run_id = run_id_of(text)
        found = None
        if run_id is not None and self._ours(arn):
            found = MapRun.objects.described().select_related("execution__machine", "execution__version").filter(
                pk=run_id, execution__machine__owner=self.owner, execution__machine__name=arn.machine).first()
        if found is None:
            raise no_resource(text)
        self.authorize(action, text)
        return found


# -- pages ------------------------------------------------------------------------------------------

def _bad_token() -> AwsError:
    return error("InvalidToken", "Invalid Token: pass the nextToken a listing returned.")


def page_size(params: dict, most: int = 1000) -> int:
    """Returns maxResults, or the default page (0 or absent: AWS's default)."""
    return min(params.get("maxResults") or DEFAULT_PAGE, most)


def page(rows, params: dict, order: tuple[str, ...]) -> tuple[list, str | None]:
    """Returns the page of `rows` in `order` that params' nextToken and maxResults ask for, and
    the next page's token (None on the last): editor.aws.pagination's keyset pages."""
    return paginate(rows, order, params.get("nextToken"), page_size(params), invalid=_bad_token())
