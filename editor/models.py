"""What Flowbench stores about functions: the draft you edit, the versions you deploy, the test
events you keep and every invocation. State machines join these in a later part."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Runtime(models.TextChoices):
    PYTHON = "python", "Python"
    NODEJS = "nodejs", "Node.js"


class Function(models.Model):
    """A function and its draft: the code and configuration being edited, not yet deployed.

    Deploy snapshots the draft into a FunctionVersion; `deployed` points at the snapshot that
    $LATEST (tests, the Invoke API, state machines) runs.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="functions")
    name = models.CharField(max_length=64)
    runtime = models.CharField(max_length=16, choices=Runtime.choices)
    description = models.CharField(max_length=256, blank=True, default="")
    handler = models.CharField(max_length=128)
    files = models.JSONField(default=dict)
    timeout = models.PositiveIntegerField(default=3)
    memory = models.PositiveIntegerField(default=128)
    env = models.JSONField(default=dict)
    network = models.BooleanField(default=False)
    reserved_concurrency = models.PositiveIntegerField(null=True, blank=True)
    deployed = models.ForeignKey("FunctionVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="function_name_unique_per_owner")]
        ordering = ["name"]

    def __str__(self):
        return self.name

    def draft_snapshot(self) -> dict:
        """Returns the draft's code and configuration in the shape a FunctionVersion stores."""
        return {
            "runtime": self.runtime, "handler": self.handler, "files": self.files,
            "description": self.description, "timeout": self.timeout, "memory": self.memory,
            "env": self.env, "network": self.network,
        }

    @property
    def has_undeployed_changes(self) -> bool:
        if self.deployed is None:
            return True
        return self.deployed.snapshot() != self.draft_snapshot()


class FunctionVersion(models.Model):
    """An immutable snapshot of code and configuration.

    Every Deploy makes one (`number` None: a $LATEST deployment); Publish version copies the
    deployed one into a numbered version (1, 2, ...) that never changes.
    """

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(null=True, blank=True)
    runtime = models.CharField(max_length=16, choices=Runtime.choices)
    handler = models.CharField(max_length=128)
    files = models.JSONField()
    description = models.CharField(max_length=256, blank=True, default="")
    timeout = models.PositiveIntegerField()
    memory = models.PositiveIntegerField()
    env = models.JSONField(default=dict)
    network = models.BooleanField(default=False)
    code_sha256 = models.CharField(max_length=64)
    code_size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["function", "number"], name="version_number_unique")]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.function.name}:{self.label}"

    @property
    def label(self) -> str:
        return "$LATEST" if self.number is None else str(self.number)

    def snapshot(self) -> dict:
        return {
            "runtime": self.runtime, "handler": self.handler, "files": self.files,
            "description": self.description, "timeout": self.timeout, "memory": self.memory,
            "env": self.env, "network": self.network,
        }


class TestEvent(models.Model):
    """A saved event for the Test button: a name and a JSON document."""

    __test__ = False  # not a pytest class

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="test_events")
    name = models.CharField(max_length=25)
    body = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["function", "name"], name="test_event_name_unique")]
        ordering = ["name"]


class Invocation(models.Model):
    """One run of a function, from the Test button, a state machine or the Invoke API."""

    class Source(models.TextChoices):
        TEST = "test", "Test"
        STATE_MACHINE = "state_machine", "State machine"
        API = "api", "Invoke API"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="invocations")
    version = models.ForeignKey(FunctionVersion, null=True, on_delete=models.SET_NULL, related_name="invocations")
    version_label = models.CharField(max_length=16, default="$LATEST")
    source = models.CharField(max_length=16, choices=Source.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    request_id = models.CharField(max_length=64, blank=True, default="")
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    billed_ms = models.PositiveIntegerField(null=True, blank=True)
    memory_mb = models.PositiveIntegerField()
    max_memory_mb = models.FloatField(null=True, blank=True)
    init_ms = models.FloatField(null=True, blank=True)
    request = models.JSONField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    logs = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]


class SignInLink(models.Model):
    """A one-time sign-in link (the token is kept only as its SHA-256)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_sha256 = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
