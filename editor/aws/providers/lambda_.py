"""AWS Lambda (REST-JSON, API version 2015-03-31): the studio's functions, their versions and
aliases, and Invoke. editor.services.functions and editor.services.invocations are the writers;
the function pages show what this creates, and the reverse.

A function's code travels as a zip (CreateFunction's and UpdateFunctionCode's `ZipFile`; the
`Code.Location` link of GetFunction downloads one) and is held as the studio's files: text, and
binary or executable ones in their stored form, x bits kept (editor.services.code_archive). AWS's
runtime ids map to the installed families ("python3.12" -> the installed Python, "ruby3.3" -> the
Debian Ruby, "provided.al2023" -> the function's own `bootstrap`); the id the caller gave is kept,
so the Get* operations return it.
A function whose dependencies (requirements.txt, package.json) are not in the package cache
installs them in the background (editor.services.deploys): CreateFunction answers State `Pending`,
UpdateFunctionCode LastUpdateStatus `InProgress`, until the installer is done (then `Active` /
`Successful`, or `Failed` with pip's or npm's message), as the SDKs' waiters (function_active_v2,
function_updated_v2) expect. Meanwhile Invoke of a Pending function, and another update of a
function being updated, are refused with ResourceConflictException, as Lambda refuses them.
"""

from __future__ import annotations

import base64
import json
import re
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from editor.aws.errors import AwsError
from editor.aws.pagination import paginate, paginate_list
from editor.aws.providers.base import Provider
from editor.aws.providers.lambda_layers import _INVALID_MARKER, LayersMixin
from editor.aws.providers.lambda_layers import aws_time as _aws_time
from editor.aws.providers.lambda_urls import FunctionUrlsMixin
from editor.errors import ApiError
from editor.models import EventInvokeConfig, Function, FunctionAlias, FunctionVersion, Invocation, Role
from editor.services import code_archive, deploys, event_queue, functions, invocations
from editor.services import function_aliases as aliases
from editor.services.accounts import account_id, function_arn, role_arn
from editor.services.runner import available_runtimes
from editor.services.validation import PAYLOAD_LIMIT_BYTES, json_text
from editor.services.versions import snapshot_version
from runtime.arn import parse_function

# AWS's runtime ids Flowbench runs, by the family of installed interpreters that runs them.
RUNTIMES = {
    **{f"python3.{minor}": "python" for minor in range(9, 14)},
    **{f"nodejs{major}.x": "nodejs" for major in (18, 20, 22)},
    # AWS's Ruby ids, and the Debian ruby's own (ruby3.1 on Debian 12) that GetFunction reports.
    **{f"ruby3.{minor}": "ruby" for minor in range(1, 5)},
    "provided.al2023": "provided.al2023", "provided.al2": "provided.al2",
}
# How much of the log `LogType: Tail` returns (its last bytes).
TAIL_BYTES = 4096
# Invoke's refusals when the runner refused to run (not the function failing): code, status.
SERVICE_ERRORS = {
    "TooManyRequestsException": ("TooManyRequestsException", 429),
    "RequestTooLargeException": ("RequestTooLargeException", 413),
    "InvalidRequestContentException": ("InvalidRequestContentException", 400),
    "InvalidRuntimeException": ("InvalidRuntimeException", 502),
    "ServiceException": ("ServiceException", 500),
}
# Settings Flowbench has no counterpart for: refused rather than ignored.
UNSUPPORTED = ("FileSystemConfigs", "ImageConfig", "CodeSigningConfigArn", "DeadLetterConfig",
               "KMSKeyArn", "SnapStart")
_ROLE_ARN = re.compile(r"arn:aws[a-zA-Z-]*:iam::(?P<account>\d{12}):role(?P<path>/(?:[^/]+/)*)(?P<name>[^/]+)")
_REVISIONS = uuid.UUID("6f1c8a56-3b0e-4b57-9a43-5d1c0e7f1a20")

_MEMBERS = {"name": "FunctionName", "runtime": "Runtime", "handler": "Handler", "description": "Description",
            "timeout": "Timeout", "memory": "MemorySize", "env": "Environment.Variables",
            "reserved_concurrency": "ReservedConcurrentExecutions", "files": "ZipFile", "layers": "Layers"}


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValueException", message, 400)


def _code_sha256(version: FunctionVersion) -> str:
    """Returns the version's code digest as Lambda writes CodeSha256: base64 of the SHA-256."""
    return base64.b64encode(bytes.fromhex(version.code_sha256)).decode()


def _event(payload: bytes):
    """Returns the event an Invoke payload holds ({} for none); refuses what is not JSON."""
    if len(payload) > PAYLOAD_LIMIT_BYTES:
        raise AwsError("RequestTooLargeException", f"Request must be smaller than {PAYLOAD_LIMIT_BYTES} bytes "
                                                   "for the InvokeFunction operation", 413)
    if not payload.strip():
        return {}
    try:
        return json_text(payload, "Payload")
    except ApiError as error:
        raise AwsError("InvalidRequestContentException",
                       f"Could not parse request body into json: {error.message}", 400) from None


def _client_context(value: str | None) -> dict | None:
    """Returns the ClientContext (base64 of a JSON object) as an object; refuses anything else."""
    if value is None:
        return None
    try:
        found = json.loads(base64.b64decode(value, validate=True))
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise AwsError("InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.")
    return found


class LambdaProvider(LayersMixin, FunctionUrlsMixin, Provider):
    API_ERRORS = {
        "ResourceNotFound": ("ResourceNotFoundException", 404),
        "ResourceConflict": ("ResourceConflictException", 409),
        "NotDeployed": ("ResourceConflictException", 409),
        "RequestTooLarge": ("RequestEntityTooLargeException", 413),
        "SandboxUnavailable": ("ServiceException", 500),
        "InstallationFailed": ("InvalidParameterValueException", 400),
        "UpdateInProgress": ("ResourceConflictException", 409),
        **{code: ("InvalidParameterValueException", 400) for code in (
            "InvalidParameterValue", "InvalidName", "InvalidHandler", "InvalidRuntime", "InvalidEnvKey",
            "ReservedEnvKey", "DuplicateEnvKey", "EnvTooLarge", "OutOfRange", "InvalidFileName", "TooManyFiles",
            "CodeTooLarge", "InvalidType", "TooLong", "Required", "InvalidJson", "InvalidUnicode")},
    }

    def translate(self, error: ApiError) -> AwsError:
        """The studio's refusal, naming the member it is about in the API's words."""
        translated = super().translate(error)
        field = (error.field or "").split("/")[0]
        member = _MEMBERS.get(field, field)
        if member and member not in translated.message:
            translated.message = f"{translated.message} (member: {member})"
            translated.args = (translated.message,)
        return translated

    # -- finding things in the caller's account -----------------------------------------------

    def _arn(self, name: str, qualifier: str | None = None) -> str:
        return function_arn(self.owner, name, qualifier)

    def _not_found(self, name: str, qualifier: str | None = None) -> AwsError:
        return AwsError("ResourceNotFoundException", f"Function not found: {self._arn(name, qualifier)}", 404)

    def _reference(self, text: str, qualifier: str | None = None) -> tuple[str, str | None]:
        """Returns (name, qualifier) of a FunctionName in any form (name, partial or full ARN, with
        a :qualifier) and the Qualifier member; another account's ARN is not found."""
        ref = parse_function(text)
        if ref is None:
            raise invalid(f"The FunctionName {text} is not a function name or ARN.")
        if qualifier and ref.qualifier and qualifier != ref.qualifier:
            raise invalid("The derived qualifier from the function name does not match the specified qualifier.")
        qualifier = qualifier or ref.qualifier
        if ref.account not in (None, account_id(self.owner)) or ref.region not in (None, self.context.region,
                                                                                     settings.FLOWBENCH_REGION):
            raise self._not_found(ref.name, qualifier)
        return ref.name, qualifier

    def _function(self, params: dict, action: str, *, qualified: bool = False) -> tuple[Function, str | None]:
        """Returns the caller's function named by params["FunctionName"] (and its qualifier, when
        `qualified` allows one) once `action` on it is authorized; else ResourceNotFoundException."""
        name, qualifier = self._reference(params["FunctionName"], params.get("Qualifier") if qualified else None)
        if qualifier and not qualified:
            raise invalid(f"{action.split(':')[1]} takes an unqualified function name: remove :{qualifier}.")
        function = (Function.objects.select_related("deployed", "role").filter(owner=self.owner, name=name).first())
        if function is None:
            raise self._not_found(name, qualifier)
        self.authorize(action, self._arn(name, qualifier))
        return function, qualifier

    def _version(self, function: Function, qualifier: str | None) -> FunctionVersion:
        """Returns the version `qualifier` names: $LATEST (or none), a number, or an alias."""
        found = functions.version_named(function, qualifier)
        if found is None and qualifier in (None, "$LATEST"):
            raise AwsError("ResourceConflictException", "The operation cannot be performed at this time. The "
                           f"function is currently in the following state: {function.state}", 409)
        if found is None:
            raise self._not_found(function.name, qualifier)
        return found

    def _role(self, arn: str) -> Role:
        """Returns the caller's role `arn` names; Lambda's refusal for anything else."""
        match = _ROLE_ARN.fullmatch(arn or "")
        role = None
        if match and match["account"] == account_id(self.owner):
            role = Role.objects.filter(owner=self.owner, name__iexact=match["name"], path=match["path"]).first()
        if role is None:
            raise invalid("The role defined for the function cannot be assumed by Lambda.")
        return role

    @staticmethod
    def _runtime(aws_id: str) -> tuple[str, str]:
        """Returns (installed family, AWS id) for an AWS runtime id; refuses the others."""
        installed = {r["id"] for r in available_runtimes()}
        family = RUNTIMES.get(aws_id)
        if family not in installed:
            supported = ", ".join(sorted(k for k, v in RUNTIMES.items() if v in installed))
            raise invalid(f"The runtime parameter of {aws_id} is not supported by Flowbench: use one of "
                          f"{supported}.")
        return family, aws_id

    @staticmethod
    def _refuse_unsupported(params: dict) -> None:
        for member in UNSUPPORTED:
            if params.get(member):
                raise invalid(f"Flowbench does not support {member}: leave it out.")
        if (params.get("VpcConfig") or {}).get("SubnetIds"):
            raise invalid("Flowbench does not support VpcConfig: a function's network is its Configuration's "
                          "network switch.")

    @staticmethod
    def _zip(code: dict) -> bytes:
        """Returns the zip a Code / UpdateFunctionCode request carries; only ZipFile is supported."""
        if any(code.get(k) for k in ("S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri")) or "ZipFile" not in code:
            raise invalid("Flowbench takes a function's code as a zip in ZipFile only: not from S3, and not as an "
                          "image.")
        return code["ZipFile"]

    # -- what the API shows -------------------------------------------------------------------

    @staticmethod
    def _revision(function: Function, version: FunctionVersion) -> str:
        """Returns the RevisionId: it changes whenever what GetFunction shows of it changes."""
        if version.number is not None:
            return str(uuid.uuid5(_REVISIONS, f"v{version.pk}"))
        return str(uuid.uuid5(_REVISIONS, f"{version.pk}:{function.role_id}:{function.aws_runtime}"))

    def _runtime_id(self, function: Function, version: FunctionVersion) -> str:
        if function.aws_runtime and RUNTIMES.get(function.aws_runtime) == version.runtime:
            return function.aws_runtime
        return next((r["version"] for r in available_runtimes() if r["id"] == version.runtime), version.runtime)

    def _configuration(self, function: Function, version: FunctionVersion, qualifier: str | None = None) -> dict:
        """Returns Lambda's FunctionConfiguration of `version`, its ARN qualified by `qualifier`."""
        return {
            "FunctionName": function.name, "FunctionArn": self._arn(function.name, qualifier),
            "Runtime": self._runtime_id(function, version),
            "Role": role_arn(self.owner, function.role.name, function.role.path) if function.role else None,
            "Handler": version.handler, "CodeSize": version.code_size, "Description": version.description,
            "Timeout": version.timeout, "MemorySize": version.memory, "LastModified": _aws_time(version.created_at),
            "CodeSha256": _code_sha256(version), "Version": version.label,
            "Environment": {"Variables": dict(version.env)} if version.env else None,
            "TracingConfig": {"Mode": "PassThrough"}, "RevisionId": self._revision(function, version),
            **self._state(function, version), "PackageType": "Zip",
            "Architectures": ["x86_64"], "EphemeralStorage": {"Size": 512},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.name}"},
            "Layers": self._layers_of(version) or None,
        }

    @staticmethod
    def _state(function: Function, version: FunctionVersion) -> dict:
        """Returns State and LastUpdateStatus (with their reasons). A function with nothing
        deployed is Pending while its dependencies install, Failed (reason DependencyError, pip's
        or npm's message) when they could not; a deployed one is Active, its $LATEST's last update
        InProgress while a new Deploy installs and Failed when the last one failed."""
        if version.number is not None:
            return {"State": "Active", "LastUpdateStatus": "Successful"}
        if function.deployed is None and function.state == "Pending":
            return {"State": "Pending", "StateReason": "The function's dependencies are being installed.",
                    "StateReasonCode": "Creating", "LastUpdateStatus": "InProgress"}
        if function.deployed is None and function.state == "Failed":
            return {"State": "Failed", "StateReason": function.state_reason, "StateReasonCode": "DependencyError",
                    "LastUpdateStatus": "Failed", "LastUpdateStatusReason": function.state_reason,
                    "LastUpdateStatusReasonCode": "DependencyError"}
        update = deploys.last_update(function)
        if update is not None and update.status == update.Status.IN_PROGRESS:
            return {"State": "Active", "LastUpdateStatus": "InProgress",
                    "LastUpdateStatusReason": "The function is being updated: its dependencies are installing."}
        if (update is not None and update.status == update.Status.FAILED and function.deployed is not None
                and update.created_at > function.deployed.created_at):
            return {"State": "Active", "LastUpdateStatus": "Failed", "LastUpdateStatusReason": update.reason,
                    "LastUpdateStatusReasonCode": "DependencyError"}
        return {"State": "Active", "LastUpdateStatus": "Successful"}

    def _refuse_while_updating(self, function: Function) -> None:
        """Lambda's refusal of a change while the function's last update is in progress."""
        if deploys.update_in_progress(function) is not None:
            raise AwsError("ResourceConflictException", "The operation cannot be performed at this time. An update "
                           f"is in progress for resource: {self._arn(function.name)}", 409)

    def _alias(self, alias: FunctionAlias) -> dict:
        return {"AliasArn": self._arn(alias.function.name, alias.name), "Name": alias.name,
                "FunctionVersion": alias.version.label, "Description": alias.description,
                "RevisionId": str(alias.revision)}

    @staticmethod
    def _check_revision(given: str | None, current: str, what: str = "GetFunction") -> None:
        if given is not None and given != current:
            raise AwsError("PreconditionFailedException", "The Revision Id provided does not match the latest "
                           f"Revision Id. Call the {what} API to retrieve the latest Revision Id", 412)

    # -- functions ----------------------------------------------------------------------------

    def CreateFunction(self, params: dict) -> dict:
        name, qualifier = self._reference(params["FunctionName"])
        if qualifier:
            raise invalid("CreateFunction takes an unqualified function name.")
        self.authorize("lambda:CreateFunction", self._arn(name))
        if params.get("PackageType", "Zip") != "Zip":
            raise invalid("Flowbench takes a function's code as a zip in ZipFile only: PackageType Image is not "
                          "supported.")
        self._refuse_unsupported(params)
        data = self._zip(params["Code"])
        if not params.get("Runtime") or not params.get("Handler"):
            raise invalid("Runtime and Handler are mandatory parameters for functions created with deployment "
                          "packages.")
        family, aws_id = self._runtime(params["Runtime"])
        role = self._role(params["Role"])
        files = code_archive.unpack_zip(data)
        # Dependencies not cached yet install in the background: the function answers State
        # Pending until they are (then Active, or Failed with pip's or npm's message).
        with transaction.atomic():
            try:
                function = functions.create_function_from_code(
                    self.owner, name=name, runtime=family, aws_runtime=aws_id, handler=params["Handler"],
                    files=files, role=role, description=params.get("Description", ""),
                    timeout=params.get("Timeout", 3), memory=params.get("MemorySize", 128),
                    env=(params.get("Environment") or {}).get("Variables") or {}, tags=params.get("Tags"),
                    layers=params.get("Layers"), pending=True, publish=bool(params.get("Publish")))
            except ApiError as error:
                if error.code == "ResourceConflict":
                    raise AwsError("ResourceConflictException", f"Function already exist: {name}", 409) from None
                raise
            version = function.deployed or functions.draft_version(function)
            if params.get("Publish") and function.deployed is not None:
                version = function.versions.filter(number__isnull=False).order_by("-number").first()
        return self._configuration(function, version, None if version.number is None else version.label)

    def _reported_version(self, function: Function, qualifier: str | None) -> FunctionVersion:
        """Returns the version GetFunction reports: for $LATEST, the code an update in progress
        deploys, or the draft of a Pending or Failed function, which has nothing deployed."""
        if qualifier in (None, "$LATEST"):
            update = deploys.update_in_progress(function)
            if update is not None:
                return snapshot_version(function, update.snapshot)
            if function.deployed is None and function.state != "Active":
                return functions.draft_version(function)
        return self._version(function, qualifier)

    def GetFunction(self, params: dict) -> dict:
        function, qualifier = self._function(params, "lambda:GetFunction", qualified=True)
        version = self._reported_version(function, qualifier)
        token = code_archive.download_token(version)
        location = settings.FLOWBENCH_BASE_URL + reverse("lambda-code", args=[token])
        concurrency = function.reserved_concurrency
        return {"Configuration": self._configuration(function, version, qualifier),
                "Code": {"RepositoryType": "S3", "Location": location},
                "Tags": dict(function.tags) or None,
                "Concurrency": None if concurrency is None else {"ReservedConcurrentExecutions": concurrency}}

    def GetFunctionConfiguration(self, params: dict) -> dict:
        function, qualifier = self._function(params, "lambda:GetFunctionConfiguration", qualified=True)
        return self._configuration(function, self._reported_version(function, qualifier), qualifier)

    def ListFunctions(self, params: dict) -> dict:
        self.authorize("lambda:ListFunctions", "*")
        limit = params.get("MaxItems") or 50
        # Pending and Failed functions too (their draft), as Lambda lists them.
        found = Function.objects.select_related("deployed", "role").filter(owner=self.owner).filter(
            Q(deployed__isnull=False) | Q(state__in=("Pending", "Failed")))
        if params.get("FunctionVersion") != "ALL":
            page, marker = paginate(found, "name", params.get("Marker"), limit, invalid=_INVALID_MARKER)
            return {"Functions": [self._configuration(f, self._reported_version(f, None)) for f in page],
                    "NextMarker": marker}
        entries = []
        for function in found:
            entries.append((f"{function.name}\0", function, self._reported_version(function, None), None))
            entries += [(f"{function.name}\0{v.number:010d}", function, v, v.label)
                        for v in function.versions.filter(number__isnull=False)]
        page, marker = paginate_list(entries, lambda e: e[0], params.get("Marker"), limit, invalid=_INVALID_MARKER)
        return {"Functions": [self._configuration(f, v, q) for _key, f, v, q in page], "NextMarker": marker}

    def UpdateFunctionCode(self, params: dict) -> dict:
        function, _ = self._function(params, "lambda:UpdateFunctionCode")
        self._refuse_unsupported(params)
        data = self._zip(params)
        files = code_archive.unpack_zip(data)
        if params.get("DryRun"):
            return self._configuration(function, self._version(function, None))
        self._refuse_while_updating(function)
        # Dependencies not cached install in the background: LastUpdateStatus is InProgress until
        # they are (then Successful, or Failed with pip's or npm's message and the code unchanged).
        with transaction.atomic():
            function = Function.objects.select_for_update(of=("self",)).select_related("deployed", "role").get(
                pk=function.pk)
            self._check_revision(params.get("RevisionId"),
                                 self._revision(function, self._reported_version(function, None)))
            version, update = functions.replace_code(function, files, publish=bool(params.get("Publish")))
            function.refresh_from_db()
        if version is None:
            return self._configuration(function, snapshot_version(function, update.snapshot))
        return self._configuration(function, version, None if version.number is None else version.label)

    def UpdateFunctionConfiguration(self, params: dict) -> dict:
        function, _ = self._function(params, "lambda:UpdateFunctionConfiguration")
        self._refuse_unsupported(params)
        self._refuse_while_updating(function)
        data = {studio: params[member] for member, studio in (
            ("Description", "description"), ("Handler", "handler"), ("Timeout", "timeout"),
            ("MemorySize", "memory")) if member in params}
        if "Environment" in params:
            data["env"] = (params["Environment"] or {}).get("Variables") or {}
        if "Layers" in params:
            data["layers"] = params["Layers"]
        extra = {}
        if "Role" in params:
            extra["role"] = self._role(params["Role"])
        if "Runtime" in params:
            extra["runtime"] = self._runtime(params["Runtime"])
        with transaction.atomic():
            self._check_revision(params.get("RevisionId"), self._revision(function, self._version(function, None)))
            function = functions.update_configuration(function, data, **extra)
            function.refresh_from_db()
        return self._configuration(function, self._version(function, None))

    def DeleteFunction(self, params: dict) -> dict:
        function, qualifier = self._function(params, "lambda:DeleteFunction", qualified=True)
        if qualifier is None:
            functions.delete_function(function)
            return {}
        if not qualifier.isdigit():
            raise invalid(f"Qualifier {qualifier} is not a version: DeleteFunction deletes a version by its number, "
                          "or the whole function without one.")
        functions.delete_version(function, self._version(function, qualifier))
        return {}

    # -- versions -----------------------------------------------------------------------------

    def _publish(self, function: Function, description: str) -> FunctionVersion:
        """Publishes $LATEST; when a version already has its code and configuration, returns that
        one, as Lambda does."""
        try:
            return functions.publish_version(function, description)
        except ApiError as error:
            if error.code != "NothingToPublish":
                raise
            return function.versions.filter(number__isnull=False).order_by("-number").first()

    def PublishVersion(self, params: dict) -> dict:
        function, _ = self._function(params, "lambda:PublishVersion")
        self._refuse_while_updating(function)
        with transaction.atomic():
            function = Function.objects.select_for_update(of=("self",)).select_related("deployed", "role").get(
                pk=function.pk)
            head = self._version(function, None)
            if params.get("CodeSha256") is not None and params["CodeSha256"] != _code_sha256(head):
                raise AwsError("PreconditionFailedException", f"CodeSHA256 ({params['CodeSha256']}) is different "
                               f"from current CodeSHA256 in $LATEST ({_code_sha256(head)}). Please try again "
                               "with the CodeSHA256 in $LATEST.", 412)
            self._check_revision(params.get("RevisionId"), self._revision(function, head))
            version = self._publish(function, params.get("Description", ""))
        return self._configuration(function, version, version.label)

    def ListVersionsByFunction(self, params: dict) -> dict:
        function, _ = self._function(params, "lambda:ListVersionsByFunction")
        entries = [("", self._version(function, None), "$LATEST")]
        entries += [(f"{v.number:010d}", v, v.label) for v in function.versions.filter(number__isnull=False)]
        page, marker = paginate_list(entries, lambda e: e[0], params.get("Marker"), params.get("MaxItems") or 50,
                                     invalid=_INVALID_MARKER)
        return {"Versions": [self._configuration(function, v, q) for _key, v, q in page], "NextMarker": marker}

    # -- aliases ------------------------------------------------------------------------------

    def _alias_target(self, function: Function, label: str) -> FunctionVersion:
        if label != "$LATEST" and not label.isdigit():
            raise invalid(f"FunctionVersion {label} is not a version: give $LATEST or a version number.")
        return self._version(function, label)

    @staticmethod
    def _refuse_weights(params: dict) -> None:
        if (params.get("RoutingConfig") or {}).get("AdditionalVersionWeights"):
            raise invalid("Flowbench does not split an alias's traffic between versions: leave out "
                          "RoutingConfig.AdditionalVersionWeights.")

    def _get_alias(self, params: dict, action: str) -> FunctionAlias:
        function, _ = self._function(params, action)
        try:
            return aliases.get_alias(function, params["Name"])
        except ApiError:
            raise AwsError("ResourceNotFoundException",
                           f"Cannot find alias arn: {self._arn(function.name, params['Name'])}", 404) from None

    def CreateAlias(self, params: dict) -> dict:
        function, _ = self._function(params, "lambda:CreateAlias")
        self._refuse_weights(params)
        version = self._alias_target(function, params["FunctionVersion"])
        try:
            alias = aliases.create_alias(function, params["Name"], version, params.get("Description", ""))
        except ApiError as error:
            if error.code == "ResourceConflict":
                raise AwsError("ResourceConflictException",
                               f"Alias already exists: {self._arn(function.name, params['Name'])}", 409) from None
            raise
        return self._alias(alias)

    def GetAlias(self, params: dict) -> dict:
        return self._alias(self._get_alias(params, "lambda:GetAlias"))

    def ListAliases(self, params: dict) -> dict:
        function, _ = self._function(params, "lambda:ListAliases")
        found = function.aliases.select_related("function", "version")
        if params.get("FunctionVersion"):
            label = params["FunctionVersion"]
            found = found.filter(version__number__isnull=True) if label == "$LATEST" else (
                found.filter(version__number=int(label)) if label.isdigit() else found.none())
        page, marker = paginate(found, "name", params.get("Marker"), params.get("MaxItems") or 50,
                                invalid=_INVALID_MARKER)
        return {"Aliases": [self._alias(a) for a in page], "NextMarker": marker}

    def UpdateAlias(self, params: dict) -> dict:
        alias = self._get_alias(params, "lambda:UpdateAlias")
        self._refuse_weights(params)
        self._check_revision(params.get("RevisionId"), str(alias.revision), "GetAlias")
        version = self._alias_target(alias.function, params["FunctionVersion"]) if params.get(
            "FunctionVersion") else None
        alias = aliases.update_alias(alias, version=version, description=params.get("Description"))
        return self._alias(alias)

    def DeleteAlias(self, params: dict) -> dict:
        aliases.delete_alias(self._get_alias(params, "lambda:DeleteAlias"))
        return {}

    # -- concurrency --------------------------------------------------------------------------

    def PutFunctionConcurrency(self, params: dict) -> dict:
        function, _ = self._function(params, "lambda:PutFunctionConcurrency")
        value = params["ReservedConcurrentExecutions"]
        functions.update_configuration(function, {"reserved_concurrency": value})
        return {"ReservedConcurrentExecutions": value}

    def GetFunctionConcurrency(self, params: dict) -> dict:
        function, _ = self._function(params, "lambda:GetFunctionConcurrency")
        return {"ReservedConcurrentExecutions": function.reserved_concurrency}

    def DeleteFunctionConcurrency(self, params: dict) -> dict:
        function, _ = self._function(params, "lambda:DeleteFunctionConcurrency")
        functions.update_configuration(function, {"reserved_concurrency": None})
        return {}

    # -- asynchronous invocation (editor.services.event_queue) ----------------------------------

    def _event_invoke_target(self, params: dict, action: str) -> tuple[Function, str]:
        """Returns the function and the qualifier ($LATEST, a version number, an alias) whose
        asynchronous invocation config `params` names; ResourceNotFoundException for a version or
        alias that does not exist."""
        function, qualifier = self._function(params, action, qualified=True)
        qualifier = qualifier or "$LATEST"
        if qualifier != "$LATEST" and functions.version_named(function, qualifier) is None:
            raise self._not_found(function.name, qualifier)
        return function, qualifier

    def _event_invoke_config(self, function: Function, config: EventInvokeConfig) -> dict:
        destinations = config.destination_config or {}
        return {"LastModified": config.last_modified, "FunctionArn": self._arn(function.name, config.qualifier),
                "MaximumRetryAttempts": config.maximum_retry_attempts,
                "MaximumEventAgeInSeconds": config.maximum_event_age,
                "DestinationConfig": {member: destinations.get(member) or {} for member in ("OnSuccess", "OnFailure")}}

    def _destinations(self, function: Function, params: dict) -> dict:
        """Returns the destinations DestinationConfig gives ({member: {"Destination": arn}}, an
        empty one for a member given without one); each must be another function of the caller's
        (Flowbench's destinations are Lambda functions)."""
        given = {}
        for member in ("OnSuccess", "OnFailure"):
            if member not in (params.get("DestinationConfig") or {}):
                continue
            arn = (params["DestinationConfig"][member] or {}).get("Destination")
            if arn:
                try:
                    target, _ = event_queue.destination_target(self.owner, arn)
                except ApiError as error:
                    raise invalid(f"{error.message} (member: DestinationConfig.{member}.Destination)") from None
                if target.pk == function.pk:
                    raise invalid("A function cannot be its own destination (member: "
                                  f"DestinationConfig.{member}.Destination).")
                self.authorize("lambda:InvokeFunction", arn)
            given[member] = {"Destination": arn} if arn else {}
        return given

    def _put_event_invoke_config(self, params: dict, action: str, *, replace: bool) -> dict:
        function, qualifier = self._event_invoke_target(params, action)
        destinations = self._destinations(function, params)
        given = {field: params[member] for member, field in (("MaximumRetryAttempts", "maximum_retry_attempts"),
                                                            ("MaximumEventAgeInSeconds", "maximum_event_age"))
                 if params.get(member) is not None}
        with transaction.atomic():
            config = (EventInvokeConfig.objects.select_for_update()
                      .filter(function=function, qualifier=qualifier).first())
            if config is None and not replace:
                raise self._no_event_invoke_config(function, qualifier)
            if config is None:
                config = EventInvokeConfig(function=function, qualifier=qualifier)
            if replace:   # Put overwrites: what it leaves out is removed (the default applies)
                config.maximum_retry_attempts = config.maximum_event_age = None
                config.destination_config = {}
            for field, value in given.items():
                setattr(config, field, value)
            config.destination_config = {member: found for member, found in
                                         {**(config.destination_config or {}), **destinations}.items() if found}
            config.save()
        return self._event_invoke_config(function, config)

    def _no_event_invoke_config(self, function: Function, qualifier: str) -> AwsError:
        return AwsError("ResourceNotFoundException", f"The function {self._arn(function.name, qualifier)} doesn't "
                        "have an EventInvokeConfig", 404)

    def PutFunctionEventInvokeConfig(self, params: dict) -> dict:
        return self._put_event_invoke_config(params, "lambda:PutFunctionEventInvokeConfig", replace=True)

    def UpdateFunctionEventInvokeConfig(self, params: dict) -> dict:
        return self._put_event_invoke_config(params, "lambda:UpdateFunctionEventInvokeConfig", replace=False)

    def GetFunctionEventInvokeConfig(self, params: dict) -> dict:
        function, qualifier = self._event_invoke_target(params, "lambda:GetFunctionEventInvokeConfig")
        config = EventInvokeConfig.objects.filter(function=function, qualifier=qualifier).first()
        if config is None:
            raise self._no_event_invoke_config(function, qualifier)
        return self._event_invoke_config(function, config)

    def DeleteFunctionEventInvokeConfig(self, params: dict) -> dict:
        function, qualifier = self._event_invoke_target(params, "lambda:DeleteFunctionEventInvokeConfig")
        if not EventInvokeConfig.objects.filter(function=function, qualifier=qualifier).delete()[0]:
            raise self._no_event_invoke_config(function, qualifier)
        return {}

    def ListFunctionEventInvokeConfigs(self, params: dict) -> dict:
        function, _ = self._function(params, "lambda:ListFunctionEventInvokeConfigs")
        page, marker = paginate(function.event_invoke_configs.all(), "qualifier", params.get("Marker"),
                                params.get("MaxItems") or 50, invalid=_INVALID_MARKER)
        return {"FunctionEventInvokeConfigs": [self._event_invoke_config(function, c) for c in page],
                "NextMarker": marker}

    # -- Invoke -------------------------------------------------------------------------------

    def Invoke(self, params: dict) -> dict:
        event = _event(params.get("Payload") or b"")
        function, qualifier = self._function(params, "lambda:InvokeFunction", qualified=True)
        version = self._version(function, qualifier)
        how = {"source": Invocation.Source.API, "version": version,
               "client_context": _client_context(params.get("ClientContext")),
               "alias": qualifier if qualifier and qualifier != "$LATEST" and not qualifier.isdigit() else ""}
        kind = params.get("InvocationType") or "RequestResponse"
        if kind == "DryRun":
            return {"StatusCode": 204}
        if kind == "Event":
            event_queue.start_invocation(function, event, **how)
            return {"StatusCode": 202}
        invocation = invocations.invoke_function(function, event, **how)
        error = invocation.error or {}
        if error.get("errorType") in SERVICE_ERRORS and not invocation.request_id:
            # Lambda itself refused (the runner did not run the function): its code and status.
            code, status = SERVICE_ERRORS[error["errorType"]]
            fields = {}
            if code == "TooManyRequestsException":
                fields["Reason"] = ("ReservedFunctionConcurrentInvocationLimitExceeded"
                                    if function.reserved_concurrency is not None else "ConcurrentInvocationLimitExceeded")
            raise AwsError(code, error.get("errorMessage") or code, status, sender=status < 500, fields=fields)
        result = {"StatusCode": 200, "ExecutedVersion": invocation.version_label}
        if invocation.error is not None:
            result["FunctionError"] = "Unhandled"
            result["Payload"] = json.dumps(invocation.error, ensure_ascii=False).encode()
        else:
            result["Payload"] = json.dumps(invocation.response, ensure_ascii=False).encode()
        if params.get("LogType") == "Tail":
            result["LogResult"] = base64.b64encode(invocation.logs.encode("utf-8")[-TAIL_BYTES:]).decode()
        return result
