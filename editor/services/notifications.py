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
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from django.db import transaction

from editor.errors import ApiError
from editor.models import Bucket, Function, Invocation, NotificationDelivery, StateMachine, StoredObject
from editor.services.accounts import account_id, state_machine_arn
from editor.services.functions import version_named
from editor.services.notification_events import event_record, eventbridge_event
from runtime.arn import parse_function

__all__ = ["EVENTS", "set_notifications", "set_machine_notifications", "notify"]

EVENTS = frozenset({
    "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
})


def _invalid(message: str, field: str) -> ApiError:
    return ApiError("InvalidArgument", message, 400, field=field)


def _rules(configuration: dict, where: str) -> list[dict]:
    rules = (((configuration.get("Filter") or {}).get("Key") or {}).get("FilterRules")) or []
    seen = set()
    found = []
    for index, rule in enumerate(rules):
        name = (rule.get("Name") or "").lower()
        if name not in ("prefix", "suffix"):
            raise _invalid("filter rule name must be either prefix or suffix", f"{where}/Filter/Key/FilterRules/{index}")
        if name in seen:
            raise _invalid(f"Cannot specify more than one {name} rule in a filter.", f"{where}/Filter/Key/FilterRules")
        seen.add(name)
        found.append({"Name": name, "Value": rule.get("Value") or ""})
    return found


def _configuration(configuration: dict, where: str, ids: set, target_member: str, target_arn: str) -> dict:
    """Returns a configuration's events, filter and Id checked (an Id made when none is given)."""
    events = configuration.get("Events") or []
    if not events:
        raise _invalid("A notification configuration names at least one event.", f"{where}/Events")
    for event in events:
        if event not in EVENTS:
            raise _invalid(f"The event is not supported for notifications: {event}", f"{where}/Events")
    identifier = configuration.get("Id") or str(uuid.uuid4())
    if identifier in ids:
        raise _invalid(f"Two configurations have the same Id {identifier!r}.", f"{where}/Id")
    ids.add(identifier)
    rules = _rules(configuration, where)
    entry = {"Id": identifier, target_member: target_arn, "Events": sorted(set(events))}
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return entry


def set_notifications(bucket: Bucket, configurations: list[dict]) -> list[dict]:
    """Replaces the bucket's function notifications with `configurations` once each names an
    event S3 has and a function of the bucket owner's; returns them as kept."""
    kept, ids = [], set()
    owner_account = account_id(bucket.owner)
    for index, configuration in enumerate(configurations):
        where = f"/LambdaFunctionConfigurations/{index}"
        arn = configuration.get("LambdaFunctionArn") or ""
        ref = parse_function(arn)
        function = None
        if ref is not None and ref.account in (None, owner_account):
            function = Function.objects.filter(owner=bucket.owner, name=ref.name).first()
        if function is None:
            raise _invalid(f"Unable to validate the following destination configurations: {arn} is not a function "
                           f"of this bucket owner's account.", f"{where}/LambdaFunctionArn")
        kept.append(_configuration(configuration, where, ids, "LambdaFunctionArn", arn))
    Bucket.objects.filter(pk=bucket.pk).update(notifications=kept)
    bucket.notifications = kept
    return kept


def set_machine_notifications(bucket: Bucket, configurations: list[dict]) -> list[dict]:
    """Replaces the state machines the bucket's changes start with `configurations`, each naming a
    state machine of the bucket owner's (`StateMachineArn`, or its name); returns them as kept."""
    kept, ids = [], set()
    for index, configuration in enumerate(configurations):
        where = f"/{index}"
        named = configuration.get("StateMachineArn") or ""
        name = named.rsplit(":", 1)[-1] if named.startswith("arn:") else named
        machine = StateMachine.objects.filter(owner=bucket.owner, name=name).first() if name else None
        arn = state_machine_arn(bucket.owner, name) if machine is not None else ""
        if machine is None or (named.startswith("arn:") and named != arn):
            raise _invalid(f"{named or 'Nothing'} is not a state machine of this bucket owner's account.",
                           f"{where}/StateMachineArn")
        kept.append(_configuration(configuration, where, ids, "StateMachineArn", arn))
    Bucket.objects.filter(pk=bucket.pk).update(machine_notifications=kept)
    bucket.machine_notifications = kept
    return kept


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
