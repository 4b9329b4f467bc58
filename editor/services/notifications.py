"""Bucket notifications: functions invoked asynchronously when objects are created or removed, with
S3's event record, as S3's LambdaFunctionConfigurations describe them.

    set_notifications(bucket, [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
                                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}])
    notify(bucket, "ObjectCreated:Put", key, stored_object)   # inside the change's transaction

notify records each delivery and its Invocation in the transaction that changes the object, so a
change and its deliveries commit together (a rolled back change delivers nothing, a committed one
is delivered once); the invocation starts after the commit, as Lambda's Event invocations do.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from urllib.parse import quote_plus

from django.db import transaction

from editor.errors import ApiError
from editor.models import Bucket, Function, Invocation, NotificationDelivery, StoredObject
from editor.services.accounts import account_id
from editor.services.functions import version_named
from runtime.arn import parse_function

__all__ = ["EVENTS", "set_notifications", "notify", "event_record"]

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


def set_notifications(bucket: Bucket, configurations: list[dict]) -> list[dict]:
    """Replaces the bucket's function notifications with `configurations` once each names an
    event S3 has and a function of the bucket owner's; returns them as kept."""
    kept = []
    ids = set()
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
        entry = {"Id": identifier, "LambdaFunctionArn": arn, "Events": sorted(set(events))}
        if rules:
            entry["Filter"] = {"Key": {"FilterRules": rules}}
        kept.append(entry)
    Bucket.objects.filter(pk=bucket.pk).update(notifications=kept)
    bucket.notifications = kept
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


def event_record(bucket: Bucket, event_name: str, key: str, found: StoredObject | None, configuration_id: str,
                 *, when: datetime, request_id: str, principal: str) -> dict:
    """Returns S3's event (Records with one record) for the change of `key`."""
    sequencer = f"{time.time_ns():016X}"
    described = {"key": quote_plus(key, safe="/"), "sequencer": sequencer}
    if found is not None:
        described.update({"size": found.size, "eTag": found.etag.strip('"')})
    owner = {"principalId": account_id(bucket.owner)}
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": bucket.region,
        "eventTime": when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventName": event_name, "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": request_id},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": configuration_id,
               "bucket": {"name": bucket.name, "ownerIdentity": owner, "arn": f"arn:aws:s3:::{bucket.name}"},
               "object": described},
    }]}


def notify(bucket: Bucket, event_name: str, key: str, found: StoredObject | None) -> list[NotificationDelivery]:
    """Records and starts (after the commit) the deliveries the change `event_name` of `key` calls
    for; called inside the change's transaction."""
    from editor.services.invocations import start_invocation

    configurations = Bucket.objects.filter(pk=bucket.pk).values_list("notifications", flat=True).first() or []
    deliveries = []
    when = datetime.now(timezone.utc)
    request_id = uuid.uuid4().hex.upper()[:16]
    for configuration in configurations:
        if not _wants(configuration, event_name, key):
            continue
        arn = configuration["LambdaFunctionArn"]
        delivery = NotificationDelivery(bucket=bucket, configuration_id=configuration["Id"], event_name=event_name,
                                        key=key, function_arn=arn)
        event = event_record(bucket, event_name, key, found, configuration["Id"], when=when, request_id=request_id,
                             principal=account_id(bucket.owner))
        try:
            with transaction.atomic():
                function, version = _target(bucket, arn)
                delivery.invocation = start_invocation(function, event, source=Invocation.Source.BUCKET,
                                                       version=version, alias=_alias_of(arn))
        except ApiError as error:   # the function is gone or has nothing deployed: said on the delivery
            delivery.error = error.message
        delivery.save()
        deliveries.append(delivery)
    return deliveries


def _alias_of(arn: str) -> str:
    ref = parse_function(arn)
    qualifier = ref.qualifier if ref is not None else None
    return qualifier if qualifier and qualifier != "$LATEST" and not qualifier.isdigit() else ""


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
