"""Bucket notifications: functions invoked asynchronously with S3's event record (S3's
LambdaFunctionConfigurations, set through its API), and state machines started with EventBridge's
event (set from the studio, as an EventBridge rule on the bucket's events would), when objects are
created or removed.

    set_notifications(bucket, [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
                                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}])
    set_machine_notifications(bucket, [{"StateMachineArn": arn, "Events": [...], "Filter": {...}}])
    notify(bucket, "ObjectCreated:Put", key, stored_object)   # inside the change's transaction

notify records each delivery and its Invocation or Execution in the transaction that changes the
object, so a change and its deliveries commit together (a rolled back change delivers nothing, a
committed one is delivered once); they start after the commit.

As on S3, a function is notified only when its resource-based policy lets s3.amazonaws.com invoke
it for this bucket (editor.services.function_permissions.allows_service): set_notifications refuses
a configuration otherwise (S3's InvalidArgument "Unable to validate the following destination
configurations"), and a delivery checks it again. The studio's form passes `grant=True` and adds
that statement itself, as the S3 console does.

A configuration whose target is deleted stays (as S3 keeps it) but is disabled, saying why and
when ("Disabled": {"Reason", "At"}, which S3's API never shows): its deliveries are recorded as
failed with that reason and nothing is started. Re-creating the target, or saving the
configuration again once the target exists, enables it again.

    target_deleted(owner, arn, "function")   # from delete_function / delete_machine
    target_created(owner, arn)               # from function and state machine creation
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from django.db import transaction

from editor.errors import ApiError
from editor.models import Bucket, Function, Invocation, NotificationDelivery, StateMachine, StoredObject
from editor.services.accounts import account_id, function_arn, state_machine_arn
from editor.services.function_permissions import allow_service, allows_service
from editor.services.versions import version_named
from editor.services.notification_events import event_record, eventbridge_event
from runtime.arn import parse_function

__all__ = ["EVENTS", "DestinationRefused", "set_notifications", "set_machine_notifications", "notify", "public",
           "target_deleted", "target_created", "triggers_for", "machine_triggers", "S3_PRINCIPAL"]

S3_PRINCIPAL = "s3.amazonaws.com"
# The statement ids the studio's form gives the statements it adds (then a random suffix).
STUDIO_SID = "s3-notification"


class DestinationRefused(ApiError):
    """S3's refusal of destinations it cannot validate: `refused` holds (ARN, why) for each, which
    S3's error names as ArgumentName1/ArgumentValue1, ArgumentName2/..."""

    SUMMARY = "Unable to validate the following destination configurations"

    def __init__(self, refused: list[tuple[str, str]], field: str):
        super().__init__("InvalidArgument", f"{self.SUMMARY}: " + "; ".join(why for _arn, why in refused), 400,
                         field=field)
        self.refused = refused

EVENTS = frozenset({
    "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
})


def _invalid(message: str, field: str) -> ApiError:
    return ApiError("InvalidArgument", message, 400, field=field)


def _rules(configuration: dict, where: str) -> list[dict]:
    rules, at = configuration, where
    for member in ("Filter", "Key", "FilterRules"):
        rules, at = (rules or {}).get(member), f"{at}/{member}"
        if rules is not None and not isinstance(rules, list if member == "FilterRules" else dict):
            raise _invalid(f"{member} is {'a list of rules' if member == 'FilterRules' else 'an object'}.", at)
    seen = set()
    found = []
    for index, rule in enumerate(rules or []):
        if not isinstance(rule, dict) or not isinstance(rule.get("Name", ""), str) \
                or not isinstance(rule.get("Value", ""), str):
            raise _invalid("A filter rule is {\"Name\": \"prefix\" or \"suffix\", \"Value\": text}.", f"{at}/{index}")
        name = (rule.get("Name") or "").lower()
        if name not in ("prefix", "suffix"):
            raise _invalid("filter rule name must be either prefix or suffix", f"{at}/{index}")
        if name in seen:
            raise _invalid(f"Cannot specify more than one {name} rule in a filter.", at)
        seen.add(name)
        found.append({"Name": name, "Value": rule.get("Value") or ""})
    return found


def _configuration(configuration: dict, where: str, ids: set, target_member: str, target_arn: str) -> dict:
    """Returns a configuration's events, filter and Id checked (an Id made when none is given)."""
    events = configuration.get("Events") or []
    if not isinstance(events, list) or not events:
        raise _invalid("A notification configuration names at least one event (a list).", f"{where}/Events")
    for event in events:
        if not isinstance(event, str) or event not in EVENTS:
            raise _invalid(f"The event is not supported for notifications: {event}", f"{where}/Events")
    identifier = configuration.get("Id") or str(uuid.uuid4())
    if not isinstance(identifier, str):
        raise _invalid("Id is text.", f"{where}/Id")
    if identifier in ids:
        raise _invalid(f"Two configurations have the same Id {identifier!r}.", f"{where}/Id")
    ids.add(identifier)
    rules = _rules(configuration, where)
    entry = {"Id": identifier, target_member: target_arn, "Events": sorted(set(events))}
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return entry


def _bucket_arn(bucket: Bucket) -> str:
    return f"arn:aws:s3:::{bucket.name}"


def _target_of(configuration: dict) -> str:
    return configuration.get("LambdaFunctionArn") or configuration.get("StateMachineArn") or ""


def _names(arn: str, target: str) -> bool:
    """Returns whether the configuration's target `target` is `arn` or one of its versions or aliases."""
    return target == arn or target.startswith(f"{arn}:")


def _function_named(bucket: Bucket, arn: str) -> tuple[Function | None, str | None]:
    """Returns the bucket owner's function the ARN names (None when it names none) and its qualifier."""
    ref = parse_function(arn) if isinstance(arn, str) else None
    if ref is None or ref.account not in (None, account_id(bucket.owner)):
        return None, None
    return Function.objects.filter(owner=bucket.owner, name=ref.name).first(), ref.qualifier


def _still_disabled(previous: dict | None, entry: dict, exists: bool) -> dict | None:
    """Returns the entry kept disabled when the studio saves again a configuration it showed
    disabled (same Id and target) whose target is still deleted; else None."""
    if previous is None or not previous.get("Disabled") or exists or _target_of(previous) != _target_of(entry):
        return None
    return {**entry, "Disabled": previous["Disabled"]}


def _locked(bucket: Bucket) -> Bucket:
    return Bucket.objects.select_for_update().get(pk=bucket.pk)


@transaction.atomic
def set_notifications(bucket: Bucket, configurations: list[dict], *, grant: bool = False) -> list[dict]:
    """Replaces the bucket's function notifications with `configurations` once each names an
    event S3 has and a function of the bucket owner's whose policy lets S3 invoke it for this
    bucket; returns them as kept. Nothing is changed when one is refused.

    With `grant` (the studio's form) a function may be named by its name, the statement letting
    S3 invoke it is added when the policy lacks it, and a configuration the studio showed disabled
    stays so while its function is still deleted."""
    previous = {c["Id"]: c for c in _locked(bucket).notifications}
    kept, ids, refused, first = [], set(), [], None
    source_arn, owner_account = _bucket_arn(bucket), account_id(bucket.owner)
    for index, configuration in enumerate(configurations):
        where = f"/LambdaFunctionConfigurations/{index}"
        arn = configuration.get("LambdaFunctionArn") or ""
        if grant and isinstance(arn, str) and arn and not arn.startswith("arn:"):   # a name (and qualifier)
            ref = parse_function(arn)
            arn = function_arn(bucket.owner, ref.name, ref.qualifier) if ref is not None and ref.account is None else arn
        entry = _configuration(configuration, where, ids, "LambdaFunctionArn", arn)
        function, qualifier = _function_named(bucket, arn)
        if grant and (still := _still_disabled(previous.get(entry["Id"]), entry, function is not None)):
            kept.append(still)
            continue
        why = _refusal(bucket, arn, function, qualifier, grant, source_arn, owner_account)
        if why:
            refused.append((arn, why))
            first = first or f"{where}/LambdaFunctionArn"
        kept.append(entry)
    if refused:
        raise DestinationRefused(refused, first)
    Bucket.objects.filter(pk=bucket.pk).update(notifications=kept)
    bucket.notifications = kept
    return kept


def _refusal(bucket, arn, function, qualifier, grant, source_arn, owner_account) -> str:
    """Returns why S3 cannot use the function `arn` as a destination ("" when it can); with
    `grant`, first adds the statement that lets S3 invoke it."""
    if function is None:
        return f"{arn or 'Nothing'} is not a function of this bucket owner's account"
    if qualifier not in (None, "", "$LATEST") and version_named(function, qualifier) is None:
        return f"{arn} names no version or alias of the function {function.name}"
    if grant:
        allow_service(function, qualifier, S3_PRINCIPAL, source_arn=source_arn, source_account=owner_account,
                      statement_prefix=STUDIO_SID)
        return ""
    if not allows_service(function, qualifier, S3_PRINCIPAL, source_arn=source_arn, source_account=owner_account):
        return f"Not authorized to invoke function [{arn}]"
    return ""


@transaction.atomic
def set_machine_notifications(bucket: Bucket, configurations: list[dict]) -> list[dict]:
    """Replaces the state machines the bucket's changes start with `configurations`, each naming a
    state machine of the bucket owner's (`StateMachineArn`, or its name); returns them as kept. A
    configuration shown disabled stays so while its state machine is still deleted."""
    previous = {c["Id"]: c for c in _locked(bucket).machine_notifications}
    kept, ids = [], set()
    for index, configuration in enumerate(configurations):
        where = f"/{index}"
        named = configuration.get("StateMachineArn") or ""
        if not isinstance(named, str):
            raise _invalid("StateMachineArn is a state machine's ARN or name.", f"{where}/StateMachineArn")
        name = named.rsplit(":", 1)[-1] if named.startswith("arn:") else named
        machine = StateMachine.objects.filter(owner=bucket.owner, name=name).first() if name else None
        arn = state_machine_arn(bucket.owner, name) if name else ""
        entry_arn = named if named.startswith("arn:") else arn
        if machine is None:
            entry = _configuration(configuration, where, set(ids), "StateMachineArn", entry_arn)
            still = _still_disabled(previous.get(entry["Id"]), entry, False)
            if still is not None:
                ids.add(entry["Id"])
                kept.append(still)
                continue
        if machine is None or (named.startswith("arn:") and named != arn):
            raise _invalid(f"{named or 'Nothing'} is not a state machine of this bucket owner's account.",
                           f"{where}/StateMachineArn")
        kept.append(_configuration(configuration, where, ids, "StateMachineArn", arn))
    Bucket.objects.filter(pk=bucket.pk).update(machine_notifications=kept)
    bucket.machine_notifications = kept
    return kept


def public(configurations: list[dict]) -> list[dict]:
    """Returns the configurations as S3's API shows them (without Flowbench's Disabled)."""
    return [{k: v for k, v in c.items() if k != "Disabled"} for c in configurations]


def _retarget(owner, arn: str, change) -> int:
    """Applies `change` (configuration -> configuration or None: unchanged) to every configuration
    of the owner's buckets whose target is `arn` or one of its versions or aliases; returns how many
    changed."""
    changed = 0
    for bucket in Bucket.objects.select_for_update().filter(owner=owner).order_by("pk"):
        lists = {}
        for field in ("notifications", "machine_notifications"):
            entries = getattr(bucket, field)
            updated = [(change(c) if _names(arn, _target_of(c)) else None) or c for c in entries]
            if updated != entries:
                changed += sum(1 for a, b in zip(updated, entries) if a is not b)
                lists[field] = updated
        if lists:
            Bucket.objects.filter(pk=bucket.pk).update(**lists)
    return changed


def target_deleted(owner, arn: str, what: str) -> int:
    """Disables the owner's bucket notifications whose target is `arn` (the deleted `what`, or one
    of its versions or aliases), recording why and when; returns how many. Called in the
    deletion's transaction."""
    now = datetime.now(timezone.utc)
    disabled = {"Reason": f"Disabled on {now:%Y-%m-%d %H:%M:%S} UTC: its target, the {what} {arn}, was deleted.",
                "At": now.isoformat().replace("+00:00", "Z")}
    return _retarget(owner, arn, lambda c: None if c.get("Disabled") else {**c, "Disabled": disabled})


def target_created(owner, arn: str) -> int:
    """Enables again the owner's bucket notifications disabled because their target `arn` was
    deleted, now that a function or state machine of that name exists again; returns how many."""
    return _retarget(owner, arn, lambda c: {k: v for k, v in c.items() if k != "Disabled"} if c.get("Disabled")
                     else None)


def _wants(configuration: dict, event_name: str, key: str) -> bool:
    kind = event_name.partition(":")[0]
    if not any(e in (f"s3:{event_name}", f"s3:{kind}:*") for e in configuration["Events"]):
        return False
    for rule in ((configuration.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
        if rule["Name"] == "prefix" and not key.startswith(rule["Value"]):
            return False
        if rule["Name"] == "suffix" and not key.endswith(rule["Value"]):
            return False
    return True


def notify(bucket: Bucket, event_name: str, key: str, found: StoredObject | None) -> list[NotificationDelivery]:
    """Records and starts (after the commit) the deliveries the change `event_name` of `key` calls
    for; called inside the change's transaction."""
    functions, machines = Bucket.objects.filter(pk=bucket.pk).values_list(
        "notifications", "machine_notifications").first() or ([], [])
    when = datetime.now(timezone.utc)
    request_id = uuid.uuid4().hex.upper()[:16]
    deliveries = []
    for configuration in functions + machines:
        if not _wants(configuration, event_name, key):
            continue
        arn = configuration.get("LambdaFunctionArn") or configuration["StateMachineArn"]
        delivery = NotificationDelivery(bucket=bucket, configuration_id=configuration["Id"], event_name=event_name,
                                        key=key, target_arn=arn)
        if configuration.get("Disabled"):   # its target was deleted: nothing is started
            delivery.error = configuration["Disabled"]["Reason"]
            delivery.save()
            deliveries.append(delivery)
            continue
        try:
            with transaction.atomic():
                if "LambdaFunctionArn" in configuration:
                    delivery.invocation = _invoke(bucket, arn, event_record(
                        bucket, event_name, key, found, configuration["Id"], when=when, request_id=request_id,
                        principal=account_id(bucket.owner)))
                else:
                    delivery.execution = _start(bucket, arn, eventbridge_event(
                        bucket, event_name, key, found, when=when, request_id=request_id))
        except ApiError as error:   # the target is gone or cannot run: said on the delivery
            delivery.error = error.message
        delivery.save()
        deliveries.append(delivery)
    return deliveries


def _start(bucket: Bucket, arn: str, event: dict):
    from editor.services.executions import start_execution

    machine = StateMachine.objects.filter(owner=bucket.owner, name=arn.rsplit(":", 1)[-1]).first()
    if machine is None:
        raise ApiError("ResourceNotFound", f"The state machine {arn} no longer exists.", 404)
    return start_execution(bucket.owner, machine, event)


def _invoke(bucket: Bucket, arn: str, event: dict) -> Invocation:
    from editor.services.event_queue import alias_of, start_invocation

    function, version = _target(bucket, arn)
    source_arn = _bucket_arn(bucket)
    if not allows_service(function, parse_function(arn).qualifier, S3_PRINCIPAL, source_arn=source_arn,
                          source_account=account_id(bucket.owner)):
        raise ApiError("AccessDeniedException", f"The resource-based policy of {arn} does not let {S3_PRINCIPAL} "
                       f"invoke it for {source_arn} (add it with aws lambda add-permission).", 403)
    return start_invocation(function, event, source=Invocation.Source.BUCKET, version=version, alias=alias_of(arn))


def _target(bucket: Bucket, arn: str):
    """Returns (function, version) the configuration's ARN names now."""
    ref = parse_function(arn)
    function = Function.objects.select_related("deployed").filter(owner=bucket.owner, name=ref.name).first()
    if function is None:
        raise ApiError("ResourceNotFound", f"The function {arn} no longer exists.", 404)
    version = version_named(function, ref.qualifier)
    if version is None and ref.qualifier in (None, "", "$LATEST"):
        raise ApiError("ResourceConflict", f"{function.name} has nothing deployed yet.", 409)
    if version is None:
        raise ApiError("ResourceNotFound", f"The function version {arn} no longer exists.", 404)
    return function, version


def _filter_text(configuration: dict) -> str:
    rules = ((configuration.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    return " · ".join(f"{r['Name']}: {r['Value']}" for r in rules) or "every key"


def _triggers(owner, arn: str, field: str) -> list[dict]:
    from django.urls import reverse

    found = []
    for bucket in Bucket.objects.filter(owner=owner).only("name", field):
        for configuration in getattr(bucket, field):
            if not _names(arn, _target_of(configuration)):
                continue
            disabled = (configuration.get("Disabled") or {}).get("Reason", "")
            found.append({"kind": "s3", "title": "S3", "label": bucket.name,
                          "lines": [", ".join(configuration["Events"]), _filter_text(configuration)],
                          "detail": f"arn:aws:s3:::{bucket.name} · {configuration['Id']}",
                          "href": reverse("bucket", args=[bucket.name]), "disabled": disabled})
    return found


def triggers_for(function: Function) -> list[dict]:
    """Returns the function's bucket notification triggers for its page's overview
    (editor.services.triggers): one box per configuration naming it, disabled ones saying why."""
    return _triggers(function.owner, function_arn(function.owner, function.name), "notifications")


def machine_triggers(machine: StateMachine) -> list[dict]:
    """Returns the bucket notifications that start the state machine, as triggers_for's boxes."""
    return _triggers(machine.owner, state_machine_arn(machine.owner, machine.name), "machine_notifications")
