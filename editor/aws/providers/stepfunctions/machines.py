"""State machines, their versions and aliases, validation and tags.

editor.services.machines and editor.services.machine_aliases write them; the studio's pages show what these
operations create, and the reverse. The API saves a definition only once the engine finds no error
in it. The machine's definition is its draft in the studio (its latest revision, in AWS's words):
versions are published from it by `publish` or PublishStateMachineVersion (an unchanged draft
publishes no new version), and a start on the machine's own ARN runs it (publishing it then when
it is new, since Flowbench runs versions only). A revision id is derived from the definition and
role, so a draft and the version published from it share one.
"""

from __future__ import annotations

import json

from django.db import transaction

from editor.aws.errors import AwsError
from editor.aws.providers.stepfunctions.common import StatesBase, error, invalid_arn, page, revision
from editor.errors import ApiError
from editor.models import StateMachine
from editor.services import machine_aliases as aliases
from editor.services import machines as service
from editor.services.accounts import role_arn
from editor.services.roles import get_role

LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")


def _definition_text(value: str, machine_type: str = "STANDARD") -> str:
    """Returns the definition when the engine finds no error in it; else InvalidDefinition naming
    the engine's first diagnostics (code, message and where)."""
    found = [d for d in service.diagnostics(value, machine_type) if d["severity"] == "ERROR"]
    if found:
        said = "; ".join(f"{d['code']}: {d['message']}" + (f" at {d['location']}" if d.get("location") else "")
                         for d in found[:5])
        raise error("InvalidDefinition", f"Invalid State Machine Definition: '{said}'")
    return value


def _logging(value: dict | None) -> dict | None:
    """Returns the loggingConfiguration, checked as AWS checks it (a level other than OFF needs
    one log group destination)."""
    if value is None:
        return None
    level = value.get("level", "OFF")
    destinations = value.get("destinations") or []
    if level != "OFF" and len(destinations) != 1:
        raise error("InvalidLoggingConfiguration", "Invalid Logging Configuration: a level other than OFF "
                                                   "needs exactly one CloudWatch Logs log group destination.")
    if len(destinations) > 1:
        raise error("InvalidLoggingConfiguration", "Invalid Logging Configuration: at most one destination.")
    return {"level": level, "includeExecutionData": bool(value.get("includeExecutionData", False)),
            "destinations": destinations}


class MachineOperations(StatesBase):
    # -- helpers ------------------------------------------------------------------------------

    def _role_name(self, arn: str) -> str:
        """Returns the name of the caller's role `arn` names, that Step Functions may assume."""
        head, _, resource = arn.partition(":role/") if isinstance(arn, str) else ("", "", "")
        parts = head.split(":")
        if len(parts) != 5 or parts[:3] != ["arn", "aws", "iam"] or not resource:
            raise invalid_arn(arn)
        name = resource.rsplit("/", 1)[-1]
        denied = error("AccessDeniedException", "Neither the global service principal states.amazonaws.com, nor "
                                                f"the regional one is authorized to assume the provided role: {arn}")
        if parts[4] != self.principal.account_id:
            raise denied
        try:
            role = get_role(self.owner, name)
        except ApiError:
            raise denied from None
        if "states" not in role.trusted or role_arn(self.owner, role.name, role.path) != arn:
            raise denied
        return role.name

    def _configuration(self, params: dict) -> dict:
        return {"logging": _logging(params.get("loggingConfiguration")),
                "tracing": params.get("tracingConfiguration")}

    def _publish_check(self, params: dict) -> None:
        if params.get("versionDescription") and not params.get("publish"):
            raise error("ValidationException", "Version description can only be set when publish is true.")

    @staticmethod
    def _draft_revision(machine: StateMachine) -> str:
        return revision(machine, machine.definition, machine.role_id)

    def _published(self, machine: StateMachine, params: dict, description_member: str) -> dict:
        """Publishes the machine's definition when the call says `publish`; returns the output's
        stateMachineVersionArn member ({} when nothing was asked)."""
        if not params.get("publish"):
            return {}
        version = service.publish_version(machine, params.get(description_member) or "")
        return {"stateMachineVersionArn": self.version_arn(version)}

    # -- state machines ------------------------------------------------------------------------

    def CreateStateMachine(self, params: dict) -> dict:
        name = params["name"]
        service.machine_name(name)
        type_ = params.get("type", "STANDARD")
        self.authorize("states:CreateStateMachine", self.machine_arn(name))
        definition = _definition_text(params["definition"], type_)
        role = self._role_name(params["roleArn"])
        self._publish_check(params)
        configuration = self._configuration(params)
        existing = StateMachine.objects.filter(owner=self.owner, name=name).select_related("role").first()
        if existing is not None:
            # Idempotent as AWS is: the same definition, role and type answer the machine there is.
            if (existing.definition, existing.role.name, existing.type) != (definition, role, type_):
                raise error("StateMachineAlreadyExists", f"State Machine Already Exists: '{self.machine_arn(name)}'")
            return {"stateMachineArn": self.machine_arn(existing), "creationDate": existing.created_at,
                    **self._published(existing, params, "versionDescription")}
        with transaction.atomic():
            machine = service.create_machine(self.owner, {"name": name, "type": type_, "role": role,
                                                          "definition": definition})
            service.configure_machine(machine, **configuration)
            if params.get("tags"):
                service.tag_machine(machine, params["tags"])
            published = self._published(machine, params, "versionDescription")
        return {"stateMachineArn": self.machine_arn(machine), "creationDate": machine.created_at, **published}

    def DescribeStateMachine(self, params: dict) -> dict:
        arn = params["stateMachineArn"]
        machine, version, alias = self.resolve(arn, "states:DescribeStateMachine")
        if alias is not None:
            weightiest = max(alias.routing, key=lambda r: r["weight"])
            version = machine.versions.get(number=weightiest["version"])
        shape = {"stateMachineArn": arn, "name": machine.name, "status": "ACTIVE", "type": machine.type,
                 "creationDate": machine.created_at, "loggingConfiguration": machine.logging or {"level": "OFF",
                 "includeExecutionData": False}, "tracingConfiguration": machine.tracing or {"enabled": False}}
        if version is None:
            return {**shape, "definition": machine.definition, "description": machine.description or None,
                    "roleArn": role_arn(self.owner, machine.role.name, machine.role.path),
                    "revisionId": self._draft_revision(machine)}
        return {**shape, "definition": json.dumps(version.definition, indent=2, ensure_ascii=False),
                "type": version.type, "creationDate": version.created_at,
                "roleArn": role_arn(self.owner, version.role_name, version.role.path),
                "description": version.description or None,
                "revisionId": revision(machine, version.definition, version.role_id)}

    def UpdateStateMachine(self, params: dict) -> dict:
        machine = self.machine(params["stateMachineArn"], "states:UpdateStateMachine")
        changes = {}
        if "definition" in params:
            changes["definition"] = _definition_text(params["definition"], machine.type)
        if "roleArn" in params:
            changes["role"] = self._role_name(params["roleArn"])
        configuration = self._configuration(params)
        if not changes and configuration == {"logging": None, "tracing": None}:
            raise error("MissingRequiredParameter", "Either the definition, the role ARN, the "
                                                    "LoggingConfiguration, or the TracingConfiguration must be specified")
        self._publish_check(params)
        with transaction.atomic():
            if changes:
                machine = service.update_machine(machine, changes)
            service.configure_machine(machine, **configuration)
            published = self._published(machine, params, "versionDescription")
        machine.refresh_from_db()
        return {"updateDate": machine.updated_at, "revisionId": self._draft_revision(machine), **published}

    def DeleteStateMachine(self, params: dict) -> dict:
        from editor.services import executions

        arn = params["stateMachineArn"]
        machine, version, alias = self.resolve(arn, "states:DeleteStateMachine")
        if version is not None or alias is not None:
            raise error("ValidationException", "Use DeleteStateMachineVersion or DeleteStateMachineAlias to "
                                               "delete a version or an alias.")
        # As AWS: the running executions stop, then the machine goes.
        running = list(machine.executions.filter(status="RUNNING"))
        for execution in running:
            try:
                executions.stop_execution(self.owner, execution, "States.Aborted",
                                          "The state machine was deleted.")
            except ApiError:
                pass   # it ended meanwhile
        for execution in running:
            if not executions.wait_for_end(execution, 30):
                raise error("ConflictException", f"Execution {execution.name} is still stopping: try again.")
        service.delete_machine(machine)
        return {}

    def ListStateMachines(self, params: dict) -> dict:
        self.authorize("states:ListStateMachines", "*")
        found, token = page(StateMachine.objects.filter(owner=self.owner), params, ("name",))
        return {"stateMachines": [{"stateMachineArn": self.machine_arn(m), "name": m.name, "type": m.type,
                                   "creationDate": m.created_at} for m in found], "nextToken": token}

    # -- versions -------------------------------------------------------------------------------

    def PublishStateMachineVersion(self, params: dict) -> dict:
        machine = self.machine(params["stateMachineArn"], "states:PublishStateMachineVersion")
        expected = params.get("revisionId")
        if expected is not None and expected != self._draft_revision(machine):
            raise error("ConflictException", "Failed to publish the State Machine version: the revisionId "
                                              "does not match the latest revision of the state machine.")
        _definition_text(machine.definition, machine.type)   # a draft the studio left invalid
        version = service.publish_version(machine, params.get("description") or "")
        return {"creationDate": version.created_at, "stateMachineVersionArn": self.version_arn(version)}

    def ListStateMachineVersions(self, params: dict) -> dict:
        machine = self.machine(params["stateMachineArn"], "states:ListStateMachineVersions")
        found, token = page(machine.versions.all(), params, ("-number",))
        return {"stateMachineVersions": [{"stateMachineVersionArn": self.machine_arn(machine, v.number),
                                          "creationDate": v.created_at} for v in found], "nextToken": token}

    def DeleteStateMachineVersion(self, params: dict) -> dict:
        arn = params["stateMachineVersionArn"]
        try:
            _machine, version, _alias = self.resolve(arn, "states:DeleteStateMachineVersion")
        except AwsError as refused:
            if refused.code in ("StateMachineDoesNotExist", "ResourceNotFound"):
                return {}   # deleting a version that is not there succeeds, as in AWS
            raise
        if version is None:
            raise invalid_arn(arn, "Not a state machine version ARN")
        service.delete_version(version)
        return {}

    # -- aliases --------------------------------------------------------------------------------

    def _routes(self, machine: StateMachine, routing: list[dict]) -> list[dict]:
        """Returns the routing's versions as numbers, each ARN one of `machine`'s versions."""
        routes = []
        for item in routing:
            arn = item["stateMachineVersionArn"]
            found, version, _alias = self.resolve(arn, "states:DescribeStateMachine")
            if found.pk != machine.pk or version is None:
                raise error("ValidationException", f"Routing configuration must name versions of "
                                                   f"{machine.name}: {arn}", reason="INVALID_ROUTING_CONFIGURATION")
            routes.append({"version": version.number, "weight": item["weight"]})
        return routes

    def _alias_routing(self, alias) -> list[dict]:
        return [{"stateMachineVersionArn": self.machine_arn(alias.machine, r["version"]), "weight": r["weight"]}
                for r in alias.routing]

    def _alias(self, arn: str, action: str):
        _machine, _version, alias = self.resolve(arn, action)
        if alias is None:
            raise invalid_arn(arn, "Not a state machine alias ARN")
        return alias

    def CreateStateMachineAlias(self, params: dict) -> dict:
        routing = params["routingConfiguration"]
        if not routing:
            raise error("ValidationException", "Routing configuration must have one or two versions.",
                        reason="INVALID_ROUTING_CONFIGURATION")
        first = routing[0]["stateMachineVersionArn"]
        machine, _version, _alias = self.resolve(first, "states:CreateStateMachineAlias")
        routes = self._routes(machine, routing)
        existing = machine.aliases.filter(name=params["name"]).first()
        if existing is not None:
            if existing.routing == routes and existing.description == (params.get("description") or ""):
                return {"stateMachineAliasArn": self.alias_arn(existing), "creationDate": existing.created_at}
            raise error("ConflictException", f"Alias {params['name']} already exists for {machine.name} with "
                                             "another configuration.")
        alias = aliases.create_alias(machine, params["name"], routes, params.get("description"))
        return {"stateMachineAliasArn": self.alias_arn(alias), "creationDate": alias.created_at}

    def DescribeStateMachineAlias(self, params: dict) -> dict:
        alias = self._alias(params["stateMachineAliasArn"], "states:DescribeStateMachineAlias")
        return {"stateMachineAliasArn": self.alias_arn(alias), "name": alias.name,
                "description": alias.description or None, "routingConfiguration": self._alias_routing(alias),
                "creationDate": alias.created_at, "updateDate": alias.updated_at}

    def UpdateStateMachineAlias(self, params: dict) -> dict:
        alias = self._alias(params["stateMachineAliasArn"], "states:UpdateStateMachineAlias")
        if "routingConfiguration" not in params and "description" not in params:
            raise error("ValidationException", "Either the description or the routing configuration must be "
                                               "specified.", reason="INVALID_ROUTING_CONFIGURATION")
        routes = self._routes(alias.machine, params["routingConfiguration"]) if "routingConfiguration" in params \
            else None
        alias = aliases.update_alias(alias, routes, params.get("description"))
        return {"updateDate": alias.updated_at}

    def DeleteStateMachineAlias(self, params: dict) -> dict:
        aliases.delete_alias(self._alias(params["stateMachineAliasArn"], "states:DeleteStateMachineAlias"))
        return {}

    def ListStateMachineAliases(self, params: dict) -> dict:
        machine = self.machine(params["stateMachineArn"], "states:ListStateMachineAliases")
        found, token = page(machine.aliases.all(), params, ("name",))
        return {"stateMachineAliases": [{"stateMachineAliasArn": self.alias_arn(a), "creationDate": a.created_at}
                                        for a in found], "nextToken": token}

    # -- validation ------------------------------------------------------------------------------

    def ValidateStateMachineDefinition(self, params: dict) -> dict:
        self.authorize("states:ValidateStateMachineDefinition", "*")
        wanted = ("ERROR",) if params.get("severity", "ERROR") == "ERROR" else ("ERROR", "WARNING")
        found = [d for d in service.diagnostics(params["definition"], params.get("type", "STANDARD"))
                 if d["severity"] in wanted]
        most = params.get("maxResults") or 100
        shown = [{"severity": d["severity"], "code": d["code"], "message": d["message"],
                  "location": d.get("location") or None} for d in found[:most]]
        return {"result": "FAIL" if any(d["severity"] == "ERROR" for d in found) else "OK",
                "diagnostics": shown, "truncated": len(found) > most}

    # -- tags -----------------------------------------------------------------------------------

    def _tagged(self, arn: str, action: str) -> StateMachine:
        """Returns the state machine a tag operation names (tags belong to state machines only)."""
        try:
            machine, version, alias = self.resolve(arn, action)
        except AwsError as refused:
            if refused.code == "StateMachineDoesNotExist":
                raise error("ResourceNotFound", f"Resource not found: '{arn}'", resourceName=arn) from None
            raise
        if version is not None or alias is not None:
            raise invalid_arn(arn, "Tags belong to state machines, not to their versions or aliases")
        return machine

    def TagResource(self, params: dict) -> dict:
        machine = self._tagged(params["resourceArn"], "states:TagResource")
        try:
            service.tag_machine(machine, params["tags"])
        except ApiError as refused:
            if refused.code == "TooManyTags":
                raise error("TooManyTags", f"Too many tags on {params['resourceArn']}: at most 50.",
                            resourceName=params["resourceArn"]) from None
            raise
        return {}

    def UntagResource(self, params: dict) -> dict:
        service.untag_machine(self._tagged(params["resourceArn"], "states:UntagResource"), params["tagKeys"])
        return {}

    def ListTagsForResource(self, params: dict) -> dict:
        machine = self._tagged(params["resourceArn"], "states:ListTagsForResource")
        return {"tags": [{"key": t["key"], "value": t["value"]} for t in machine.tags]}

