"""A function's deployed and published versions: making them from a snapshot of code and
configuration. editor.services.functions (the studio's Deploy) and editor.services.deploys (a
Deploy whose dependencies install in the background) both end here."""

from __future__ import annotations

import hashlib
import json

from django.db import transaction
from django.db.models import Max

from editor.errors import ApiError
from editor.models import Function, FunctionVersion
from editor.services import validation
from editor.services.invocations import runner_namespace
from editor.services.runner import retire_function

__all__ = ["code_digest", "deploy_snapshot", "publish_version", "snapshot_version", "version_named"]


def version_named(function: Function, qualifier: str | None):
    """Returns the FunctionVersion `qualifier` names: the deployed $LATEST (None or "$LATEST"), a
    published number, or an alias's version; None when there is none."""
    if qualifier in (None, "", "$LATEST"):
        return function.deployed
    if qualifier.isdigit():
        return function.versions.filter(number=int(qualifier)).first()
    alias = function.aliases.select_related("version").filter(name=qualifier).first()
    return alias.version if alias is not None else None


def code_digest(files: dict) -> tuple[str, int]:
    """Returns the code's SHA-256 (hex) and its size in bytes."""
    blob = json.dumps(files, sort_keys=True, ensure_ascii=False).encode("utf-8")
    size = validation.code_size(files)
    return hashlib.sha256(blob).hexdigest(), size


def snapshot_version(function: Function, snapshot: dict | None = None) -> FunctionVersion:
    """Returns an unsaved FunctionVersion of `snapshot` (the draft's when None): what a function
    with nothing deployed, or one whose update installs, reports as its $LATEST."""
    snapshot = function.draft_snapshot() if snapshot is None else snapshot
    digest, size = code_digest(snapshot["files"])
    return FunctionVersion(function=function, number=None, code_sha256=digest, code_size=size,
                           created_at=function.updated_at, **snapshot)


def deploy_snapshot(function: Function, snapshot: dict, install_log: str = "") -> FunctionVersion:
    """Makes `snapshot` (code and configuration) what $LATEST runs; returns its version, the
    deployed one when nothing differs. The caller holds the function's row lock."""
    if function.deployed is not None and function.deployed.snapshot() == snapshot:
        return function.deployed
    digest, size = code_digest(snapshot["files"])
    version = FunctionVersion.objects.create(function=function, number=None, code_sha256=digest, code_size=size,
                                             install_log=install_log, **snapshot)
    function.deployed = version
    # Deployed code runs: a function that was Pending or Failed (its dependencies) is Active now.
    function.state, function.state_reason = "Active", ""
    function.save(update_fields=["deployed", "state", "state_reason", "updated_at"])
    # $LATEST's warm workers run the code just replaced: they go (busy ones once they finish).
    transaction.on_commit(lambda: retire_function(function.name, runner_namespace(function), "$LATEST"))
    return version


@transaction.atomic
def publish_version(function: Function, description="") -> FunctionVersion:
    """Copies the deployed $LATEST into the next numbered version; refuses when nothing is deployed
    or when the deployed code and configuration are already published."""
    function = Function.objects.select_for_update(of=("self",)).select_related("deployed").get(pk=function.pk)
    description = validation.text(description, "description", max_length=256)
    head = function.deployed
    if head is None:
        raise ApiError("NotDeployed", "Deploy the function before publishing a version.", status=409)
    last = function.versions.filter(number__isnull=False).order_by("-number").first()
    if last is not None and last.snapshot() | {"description": ""} == head.snapshot() | {"description": ""}:
        raise ApiError("NothingToPublish", f"Version {last.number} already has this code and configuration.",
                       status=409)
    number = (function.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    snapshot = head.snapshot()
    snapshot["description"] = description or head.description
    return FunctionVersion.objects.create(function=function, number=number, code_sha256=head.code_sha256,
                                          code_size=head.code_size, install_log=head.install_log, **snapshot)
