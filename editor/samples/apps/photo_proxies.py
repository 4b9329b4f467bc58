"""Photo proxies (the seed's app 3.1): a photo uploaded to the bucket under uploads/ starts a state
machine (the bucket's notification, delivered with EventBridge's event) that checks the object
(photo-check: HeadObject, an image of an accepted type and size?), then a Choice either makes a
smaller copy under proxies/ (photo-proxy: GetObject, a Pillow thumbnail, PutObject with metadata
naming its source) or ends in the failure state NotAPhoto.

Roles: photo-proxies-functions (trusts Lambda) may read uploads/ and write proxies/ of the bucket,
nothing else; photo-proxies-machine (trusts Step Functions) may invoke the two functions.
The bucket is photos-<account id>: bucket names are one namespace for everyone, as on S3.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from editor.models import Bucket, Function, Role, StateMachine
from editor.samples.apps import SampleApp, definition, function_files

ID = "photo-proxies"
MACHINE = "photo-proxies"
FUNCTION_ROLE = "photo-proxies-functions"
MACHINE_ROLE = "photo-proxies-machine"
CHECK, PROXY = "photo-check", "photo-proxy"
FUNCTIONS = (CHECK, PROXY)
UPLOADS, PROXIES = "uploads/", "proxies/"
NOTIFICATION_ID = "photo-proxies-uploads"


def bucket_name(user) -> str:
    from editor.services.accounts import account_id

    return f"photos-{account_id(user)}"


def _function_policy(bucket: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadUploads", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/{UPLOADS}*"},
        {"Sid": "WriteProxies", "Effect": "Allow", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/{PROXIES}*"}]}


def _machine_policy(user) -> dict:
    from editor.services.accounts import function_arn

    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "InvokeTheFunctions", "Effect": "Allow", "Action": "lambda:InvokeFunction",
         "Resource": [function_arn(user, name) for name in FUNCTIONS]
         + [function_arn(user, name) + ":*" for name in FUNCTIONS]}]}


def load(user) -> list[str]:
    """Creates what the user lacks of the app; returns the names it created."""
    from editor.services.accounts import region, state_machine_arn
    from editor.services.buckets import create_bucket
    from editor.services.notifications import set_machine_notifications
    from editor.services.samples import ensure_function, ensure_machine, ensure_role

    created = []
    name = bucket_name(user)
    with transaction.atomic():
        if not Role.objects.filter(owner=user, name=FUNCTION_ROLE).exists():
            created.append(FUNCTION_ROLE)
        function_role = ensure_role(user, FUNCTION_ROLE, trusted=["lambda"], policy=_function_policy(name),
                                    description=f"Photo proxies' functions: read {UPLOADS} and write {PROXIES} "
                                                f"of the bucket {name}.")
        if not Role.objects.filter(owner=user, name=MACHINE_ROLE).exists():
            created.append(MACHINE_ROLE)
        machine_role = ensure_role(user, MACHINE_ROLE, trusted=["states"], policy=_machine_policy(user),
                                   description="Photo proxies' state machine: invoke photo-check and photo-proxy.")
        if ensure_function(user, CHECK, files=function_files(ID, CHECK), role=function_role, timeout=30, memory=256,
                           description="Photo proxies: is the upload an image of an accepted type and size?"):
            created.append(CHECK)
        if ensure_function(user, PROXY, files=function_files(ID, PROXY), role=function_role, timeout=60, memory=512,
                           description="Photo proxies: a smaller copy of the photo under proxies/ (Pillow)."):
            created.append(PROXY)
        if ensure_machine(user, MACHINE, role=machine_role, definition=definition(ID),
                          description="Photo proxies: check an upload, then make its smaller copy."):
            created.append(MACHINE)
        bucket = Bucket.objects.filter(owner=user, name=name).first()
        if bucket is None:
            bucket = create_bucket(user, name, region())
            created.append(name)
        arn = state_machine_arn(user, MACHINE)
        kept = list(bucket.machine_notifications or [])
        if not any(c.get("StateMachineArn") == arn for c in kept):
            set_machine_notifications(bucket, kept + [{
                "Id": NOTIFICATION_ID, "StateMachineArn": arn, "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": UPLOADS}]}}}])
            created.append(f"{name}: {UPLOADS} -> {MACHINE}")
    return created


def resources(user) -> list[dict]:
    """The app's parts, each with its page when the user has it ("missing": True when not)."""
    name = bucket_name(user)
    functions = set(Function.objects.filter(owner=user, name__in=FUNCTIONS).values_list("name", flat=True))
    roles = set(Role.objects.filter(owner=user, name__in=(FUNCTION_ROLE, MACHINE_ROLE)).values_list("name", flat=True))
    has_machine = StateMachine.objects.filter(owner=user, name=MACHINE).exists()
    bucket = Bucket.objects.filter(owner=user, name=name).first()

    def part(kind, label, href, present, **more):
        return {"kind": kind, "name": label, "href": href if present else None, "missing": not present, **more}

    found = [
        part("bucket", name, reverse("bucket", args=[name]), bucket is not None,
             uploads=reverse("bucket", args=[name]) + f"?prefix={UPLOADS}",
             proxies=reverse("bucket", args=[name]) + f"?prefix={PROXIES}"),
        part("state machine", MACHINE, reverse("machine", args=[MACHINE]), has_machine),
        *[part("function", f, reverse("function", args=[f]), f in functions) for f in FUNCTIONS],
        *[part("role", r, reverse("role", args=[r]), r in roles) for r in (FUNCTION_ROLE, MACHINE_ROLE)],
    ]
    wired = bucket is not None and any(c.get("Id") == NOTIFICATION_ID for c in bucket.machine_notifications or [])
    found.append(part("notification", f"{UPLOADS}* created -> {MACHINE}", reverse("bucket", args=[name]), wired))
    return found


APP = SampleApp(
    id=ID, title="Photo proxies",
    summary="Upload a photo under uploads/ and a state machine checks it and writes a smaller copy under "
            "proxies/; anything that is not a photo ends in a clear failure.",
    template="samples/photo-proxies.html", load=load, resources=resources, functions=FUNCTIONS)
