"""Creating, editing, deploying and publishing functions: the only code that writes them."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from editor import samples
from editor.errors import ApiError, not_found
from editor.models import EventInvokeConfig, Function, FunctionVersion
from editor.services import code_archive, validation
from editor.services.deploys import refuse_while_updating, start_deploy
from editor.services.invocations import runner_namespace
from editor.services.layers import checked_layers
from editor.services.packages import install_packages
from editor.services.runner import available_runtimes, retire_function
from editor.services.versions import deploy_snapshot, publish_version, snapshot_version, version_named

__all__ = ["HELLO_WORLD", "get_function", "starting_points", "create_function", "create_function_from_code",
           "draft_version", "replace_code", "upload_zip", "save_code", "update_configuration", "deploy_function",
           "publish_version", "get_version", "delete_function", "delete_version", "version_named"]

HELLO_WORLD = {
    "python": ("lambda_function.lambda_handler", {
        "lambda_function.py": (
            "import json\n\n\n"
            "def lambda_handler(event, context):\n"
            "    print(\"event:\", json.dumps(event))\n"
            "    return {\n"
            "        \"statusCode\": 200,\n"
            "        \"body\": json.dumps(\"Hello from Flowbench!\"),\n"
            "    }\n"
        ),
    }),
    "nodejs": ("index.handler", {
        "index.js": (
            "exports.handler = async (event) => {\n"
            "  console.log(\"event:\", JSON.stringify(event));\n"
            "  return {\n"
            "    statusCode: 200,\n"
            "    body: JSON.stringify(\"Hello from Flowbench!\"),\n"
            "  };\n"
            "};\n"
        ),
    }),
    "ruby": ("function.handler", {
        "function.rb": (
            "require 'json'\n\n"
            "def handler(event:, context:)\n"
            "  puts \"event: #{JSON.generate(event)}\"\n"
            "  { statusCode: 200, body: JSON.generate('Hello from Flowbench!') }\n"
            "end\n"
        ),
    }),
}
# A custom runtime's starting point: a bootstrap in bash alone (no curl in the sandbox), which
# speaks the Lambda Runtime API over bash's /dev/tcp, as AWS's tutorial bootstrap does with curl.
SHELL_BOOTSTRAP = (
    "#!/bin/bash\n"
    "# A custom runtime: ask the Runtime API for the next event, answer it, repeat.\n"
    "set -euo pipefail\n"
    "LC_ALL=C  # ${#BODY} counts bytes, as Content-Length does\n"
    "API_HOST=${AWS_LAMBDA_RUNTIME_API%:*}; API_PORT=${AWS_LAMBDA_RUNTIME_API#*:}\n"
    "BASE=/2018-06-01/runtime/invocation\n\n"
    "# request METHOD PATH [BODY]: prints the HTTP response (headers, blank line, body)\n"
    "request() {\n"
    "  exec 3<>\"/dev/tcp/$API_HOST/$API_PORT\"\n"
    "  printf '%s %s HTTP/1.0\\r\\nContent-Length: %d\\r\\n\\r\\n%s' \"$1\" \"$2\" \"${#3}\" \"$3\" >&3\n"
    "  cat <&3\n"
    "  exec 3<&-\n"
    "}\n\n"
    "while true; do\n"
    "  RESPONSE=$(request GET \"$BASE/next\" \"\")\n"
    "  EVENT=${RESPONSE#*$'\\r\\n\\r\\n'}\n"
    "  REQUEST_ID=$(printf '%s\\n' \"${RESPONSE%%$'\\r\\n\\r\\n'*}\" | tr -d '\\r' |\n"
    "    sed -n 's/^Lambda-Runtime-Aws-Request-Id: //p')\n"
    "  echo \"event: $EVENT\"\n"
    "  BODY=\"{\\\"statusCode\\\": 200, \\\"body\\\": \\\"Hello from Flowbench!\\\", \\\"event\\\": $EVENT}\"\n"
    "  request POST \"$BASE/$REQUEST_ID/response\" \"$BODY\" >/dev/null\n"
    "done\n"
)
HELLO_WORLD.update({runtime: ("function.handler", {"bootstrap": {"text": SHELL_BOOTSTRAP, "executable": True}})
                    for runtime in ("provided.al2023", "provided.al2")})


def get_function(user, name: str) -> Function:
    """Returns the user's function called `name`, or a 404 that does not say whether it exists."""
    if not isinstance(name, str) or not validation.FUNCTION_NAME.match(name):
        raise not_found()
    try:
        return Function.objects.select_related("deployed").get(owner=user, name=name)
    except Function.DoesNotExist:
        raise not_found() from None


def starting_points(runtime: str) -> list[dict]:
    """Returns what a new function may start from: hello world, then the samples of that runtime."""
    points = [{"id": "hello-world", "label": "Hello world"}]
    points += [{"id": s.id, "label": s.title} for s in samples.ALL if s.runtime == runtime]
    return points


def create_function(user, *, name, runtime, starting_point="hello-world", description="") -> Function:
    """Creates a function with the starting point's code and deploys it (as Lambda's
    CreateFunction does), so it can be tested at once; returns it."""
    name = validation.function_name(name)
    runtimes = {r["id"] for r in available_runtimes()}
    if not isinstance(runtime, str) or runtime not in runtimes:
        raise ApiError("InvalidRuntime", f"Choose one of the installed runtimes: {', '.join(sorted(runtimes))}.",
                       field="runtime")
    description = validation.text(description, "description", max_length=256)
    if starting_point in (None, "", "hello-world"):
        handler, files = HELLO_WORLD[runtime]
        timeout, memory, env = 3, 128, {}
    else:
        sample = samples.BY_ID.get(starting_point) if isinstance(starting_point, str) else None
        if sample is None or sample.runtime != runtime:
            raise ApiError("InvalidStartingPoint", "Choose hello world or a sample for this runtime.",
                           field="starting_point")
        handler, files = sample.handler, sample.files
        timeout, memory, env = sample.timeout, sample.memory, dict(sample.env)
        description = description or sample.description
    return _create_and_deploy(user, name=name, runtime=runtime, handler=handler, files=dict(files),
                              description=description, timeout=timeout, memory=memory, env=env)


def _create_and_deploy(user, *, name: str, pending: bool = False, publish: bool = False, **fields) -> Function:
    """Stores a new function of `user` and deploys it; refuses a name the user already has.

    Without `pending` (the studio's Create) its dependencies are installed first, outside any
    transaction (an install takes seconds to minutes and must not hold the database): nothing is
    stored when the install fails. With `pending` (the Lambda API's CreateFunction) a function
    whose dependencies are not cached is stored at once in State Pending, with nothing deployed,
    and an installer (editor.services.deploys) deploys it (then publishes it, with `publish`),
    leaving it Active, or Failed with pip's or npm's message."""
    if Function.objects.filter(owner=user, name=name).exists():
        raise ApiError("ResourceConflict", f"You already have a function called {name}.", status=409, field="name")
    if not pending:
        install_packages(fields["runtime"], fields["files"])
    with transaction.atomic():
        try:
            with transaction.atomic():
                function = Function.objects.create(owner=user, name=name, state="Active", **fields)
        except IntegrityError:
            raise ApiError("ResourceConflict", f"You already have a function called {name}.", status=409,
                           field="name") from None
        _target_created(user, name)
        if pending:
            start_deploy(function, publish=publish)
        else:
            deploy_function(function)
            if publish:
                publish_version(function)
    return Function.objects.select_related("deployed").get(pk=function.pk)


def _target_created(user, name: str) -> None:
    """Enables again the bucket notifications a deleted function of this name left disabled."""
    from editor.services import notifications
    from editor.services.accounts import function_arn

    notifications.target_created(user, function_arn(user, name))


def draft_version(function: Function) -> FunctionVersion:
    """Returns an unsaved FunctionVersion of the draft: what a Pending or Failed function, which has
    nothing deployed, reports as its $LATEST."""
    return snapshot_version(function)


def create_function_from_code(user, *, name, runtime, handler, files, aws_runtime="", role=None, description="",
                              timeout=3, memory=128, env=None, tags=None, layers=None, pending=False,
                              publish=False) -> Function:
    """Creates a function from given code and configuration and deploys it, as the Lambda API's
    CreateFunction does; `aws_runtime` is the AWS runtime id the caller named ("python3.12"),
    `runtime` the installed family that runs it; `pending` and `publish` as _create_and_deploy
    says. Returns it; nothing is stored when anything is refused."""
    name = validation.function_name(name, "FunctionName")
    runtimes = {r["id"] for r in available_runtimes()}
    if runtime not in runtimes:
        raise ApiError("InvalidRuntime", f"The {aws_runtime or runtime} runtime is not installed here.",
                       field="Runtime")
    return _create_and_deploy(
        user, name=name, pending=pending, publish=publish, runtime=runtime, aws_runtime=aws_runtime, role=role,
        handler=validation.handler(handler, "Handler"), files=validation.files(files, "ZipFile", validation.STORED_CODE_LIMIT),
        description=validation.text(description, "Description", max_length=256),
        timeout=validation.integer(timeout, "Timeout", *validation.TIMEOUT_RANGE),
        memory=validation.integer(memory, "MemorySize", *validation.MEMORY_RANGE),
        env=validation.environment(env or {}, "Environment"), tags=dict(tags or {}),
        layers=checked_layers(user, layers, "Layers"))


def replace_code(function: Function, files, publish: bool = False):
    """Makes `files` the function's code and deploys it (Lambda's UpdateFunctionCode): the draft's
    undeployed edits are replaced. Returns start_deploy's (version, update): the version $LATEST
    runs now, or the update whose dependencies install in the background."""
    files = validation.files(files, "ZipFile", validation.STORED_CODE_LIMIT)
    return start_deploy(function, files=files, publish=publish)


@transaction.atomic
def upload_zip(function: Function, data: bytes) -> Function:
    """Makes the files of the zip archive `data` the draft's ("Upload from .zip file"); the deployed
    version is untouched until Deploy. Refuses, naming the entry, what unpack_zip refuses."""
    function.files = validation.files(code_archive.unpack_zip(data), "ZipFile", validation.STORED_CODE_LIMIT)
    function.save(update_fields=["files", "updated_at"])
    return function


@transaction.atomic
def save_code(function: Function, files) -> Function:
    """Stores the draft's files (Ctrl+S); the deployed version is untouched."""
    function.files = validation.files(files)
    function.save(update_fields=["files", "updated_at"])
    return function


CONFIG_FIELDS = ("description", "handler", "timeout", "memory", "env", "network", "reserved_concurrency", "layers")


# The settings a version holds (reserved concurrency belongs to the function itself).
VERSION_CONFIG_FIELDS = ("description", "handler", "timeout", "memory", "env", "network", "runtime", "layers")


_UNCHANGED = object()


@transaction.atomic
def update_configuration(function: Function, data, *, role=_UNCHANGED,
                         runtime: tuple[str, str] | None = None) -> Function:
    """Changes the configuration and applies it at once, as Lambda's UpdateFunctionConfiguration
    does; returns the function. Every field is checked before any is stored. The Lambda API also
    gives the execution `role` (a Role or None) and the `runtime` as (installed family, AWS id).

    When something is deployed, a new $LATEST is deployed with the deployed code and the new
    configuration: the draft's code edits stay undeployed. Reserved concurrency belongs to the
    function and needs no new version.
    """
    if not isinstance(data, dict):
        raise ApiError("InvalidType", "The configuration must be a JSON object.")
    unknown = set(data) - set(CONFIG_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise ApiError("UnknownField", f"{field} is not a configuration setting.", field=field)
    checked = {}
    if "description" in data:
        checked["description"] = validation.text(data["description"], "description", max_length=256)
    if "handler" in data:
        checked["handler"] = validation.handler(data["handler"])
    if "timeout" in data:
        checked["timeout"] = validation.integer(data["timeout"], "timeout", *validation.TIMEOUT_RANGE)
    if "memory" in data:
        checked["memory"] = validation.integer(data["memory"], "memory", *validation.MEMORY_RANGE)
    if "env" in data:
        checked["env"] = validation.environment(data["env"])
    if "network" in data:
        checked["network"] = validation.boolean(data["network"], "network")
    if "layers" in data:
        checked["layers"] = checked_layers(function.owner, data["layers"], "layers")
    if "reserved_concurrency" in data:
        value = data["reserved_concurrency"]
        checked["reserved_concurrency"] = (
            None if value is None else validation.integer(value, "reserved_concurrency", 0, 1000))
    # Only the function's row is locked: PostgreSQL refuses FOR UPDATE on the nullable side of
    # the outer join to its deployed version.
    function = Function.objects.select_for_update(of=("self",)).select_related("deployed").get(pk=function.pk)
    # The install's Deploy applies the configuration it started with: a change now would be lost.
    refuse_while_updating(function)
    for key, value in checked.items():
        setattr(function, key, value)
    if role is not _UNCHANGED:
        function.role = role
    if runtime is not None:
        family, aws_id = runtime
        if family not in {r["id"] for r in available_runtimes()}:
            raise ApiError("InvalidRuntime", f"The {aws_id} runtime is not installed here.", field="Runtime")
        if (family, aws_id) != (function.runtime, function.aws_runtime):
            function.runtime, function.aws_runtime, checked["runtime"] = family, aws_id, family
    function.save()
    if function.deployed is not None and set(checked) & set(VERSION_CONFIG_FIELDS):
        deploy_snapshot(function, {**function.draft_snapshot(), "files": function.deployed.files})
    return function


def deploy_function(function: Function) -> FunctionVersion:
    """Snapshots the draft (code + configuration) into an immutable version that $LATEST runs,
    waiting for its install (samples, scripts, tests; the studio's Deploy button and the Lambda
    API start theirs with editor.services.deploys.start_deploy, which does not wait).

    The draft's dependencies (requirements.txt, package.json) are installed first, outside the
    transaction, their output streamed to the page; a failed install refuses the Deploy
    (InstallationFailed) and the previous version keeps running. The row lock then checks the
    draft did not change meanwhile (it installs again if it did: a cache hit when unchanged)."""
    while True:
        draft = Function.objects.get(pk=function.pk)
        validation.files(draft.files, limit=validation.STORED_CODE_LIMIT)
        validation.handler(draft.handler)
        runtimes = {r["id"] for r in available_runtimes()}
        if draft.runtime not in runtimes:
            raise ApiError("InvalidRuntime", f"The {draft.runtime} runtime is not installed here.", field="runtime")
        log: list[str] = []
        install_packages(draft.runtime, draft.files, draft.pk, log=log)
        with transaction.atomic():
            function = Function.objects.select_for_update().get(pk=function.pk)
            refuse_while_updating(function)
            if (function.runtime, function.files) != (draft.runtime, draft.files):
                continue   # saved while installing: install what is there now
            return deploy_snapshot(function, function.draft_snapshot(), install_log="\n".join(log))


def get_version(function: Function, qualifier: str) -> FunctionVersion:
    """Returns the version named by `qualifier` ($LATEST or a number), or 404."""
    if qualifier in (None, "", "$LATEST"):
        if function.deployed is None:
            raise ApiError("NotDeployed", "Deploy the function first: nothing is deployed yet.", status=409)
        return function.deployed
    if not str(qualifier).isdigit():
        raise not_found("Version")
    try:
        return function.versions.get(number=int(qualifier))
    except FunctionVersion.DoesNotExist:
        raise not_found("Version") from None


@transaction.atomic
def delete_function(function: Function) -> None:
    """Deletes the function with its versions, test events and invocations, and stops its workers;
    the schedules and bucket notifications that invoke it are disabled, saying why."""
    from editor.services import notifications
    from editor.services.accounts import function_arn
    from editor.services.schedules import target_deleted

    name, namespace = function.name, runner_namespace(function)
    target_deleted(function.owner, function_arn(function.owner, name), "function")
    notifications.target_deleted(function.owner, function_arn(function.owner, name), "function")
    function.delete()
    transaction.on_commit(lambda: retire_function(name, namespace))


@transaction.atomic
def delete_version(function: Function, version: FunctionVersion) -> None:
    """Deletes a published version (Lambda's DeleteFunction with a Qualifier); refuses $LATEST and
    a version an alias points to, and stops the version's warm workers."""
    if version.number is None:
        raise ApiError("InvalidParameterValue", "$LATEST version cannot be deleted without deleting the function.",
                       field="Qualifier")
    used = sorted(version.aliases.values_list("name", flat=True))
    if used:
        raise ApiError("ResourceConflict", "Unable to delete version because the following aliases reference it: "
                       f"{used}", status=409, field="Qualifier")
    label, name, namespace = version.label, function.name, runner_namespace(function)
    with transaction.atomic():   # its asynchronous invocation config goes with it
        EventInvokeConfig.objects.filter(function=function, qualifier=label).delete()
        version.delete()
    transaction.on_commit(lambda: retire_function(name, namespace, label))
