"""What Flowbench stores: functions (the draft you edit, the versions you deploy, the test events
you keep, every invocation), each person's AWS account and access keys, roles with their inline
policies, state machines with their versions, and executions with their history events."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.db import connection, models


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
    # The execution role the Lambda API gave it (CreateFunction's Role), shown on its Configuration.
    role = models.ForeignKey("Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="functions")
    # The AWS runtime id the Lambda API was given ("python3.12"), returned as given; "" when the
    # studio made the function (then the installed interpreter's id is reported).
    aws_runtime = models.CharField(max_length=32, blank=True, default="")
    tags = models.JSONField(default=dict, blank=True)
    # The layer versions it runs with, as ARNs, in the order they are extracted under /opt.
    layers = models.JSONField(default=list, blank=True)
    # Lambda's State: Pending while CreateFunction's dependencies install in the background,
    # Failed (with pip's or npm's message in `state_reason`) when they could not, else Active.
    state = models.CharField(max_length=16, default="Active")
    state_reason = models.TextField(blank=True, default="")
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
            "env": self.env, "network": self.network, "layers": self.layers,
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
    layers = models.JSONField(default=list, blank=True)
    # What installing its dependencies printed at Deploy (pip's or npm's output, or that the
    # package was cached); "" when it has none.
    install_log = models.TextField(blank=True, default="")
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
            "env": self.env, "network": self.network, "layers": self.layers,
        }


class FunctionUpdate(models.Model):
    """A Deploy whose dependencies install outside the request (the studio's Deploy, the Lambda
    API's CreateFunction and UpdateFunctionCode): Lambda's LastUpdateStatus of the function.

    It holds the snapshot (code and configuration) it deploys once pip or npm is done. An
    installer (a thread of the web process, or a Celery worker) holds it under a lease, as
    executions are held (editor.services.leases): a dead installer's update is taken up again
    when the lease runs out, and failed after `MAX_ATTEMPTS` installers died on it.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "InProgress"
        SUCCESSFUL = "Successful"
        FAILED = "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    # Why it failed: pip's or npm's message, or that its installers kept dying.
    reason = models.TextField(blank=True, default="")
    snapshot = models.JSONField()
    publish = models.BooleanField(default=False)
    log = models.TextField(blank=True, default="")
    version = models.ForeignKey(FunctionVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    runner = models.CharField(max_length=128, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["function"], condition=models.Q(status="InProgress"),
                                               name="one_update_in_progress_per_function")]
        indexes = [models.Index(fields=["status", "lease_until"], name="update_status_lease")]
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.function_id}:{self.status}"


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
        FUNCTION_URL = "function_url", "Function URL"
        HTTP_API = "http_api", "HTTP API"
        SCHEDULE = "schedule", "Schedule"
        BUCKET = "bucket", "Bucket notification"
        WEBSOCKET_API = "websocket_api", "WebSocket API"
        DESTINATION = "destination", "Asynchronous invocation's destination"

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
    # Invoke's ClientContext (what a mobile SDK says of its caller): the handler's context.client_context.
    client_context = models.JSONField(null=True, blank=True)
    # The alias it was invoked through ("" for none): its ARN is the handler's invoked_function_arn.
    alias = models.CharField(max_length=128, blank=True, default="")
    response = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    logs = models.TextField(blank=True, default="")
    # Set when a state machine's Task state made the call.
    execution = models.ForeignKey("Execution", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="invocations")
    state_name = models.CharField(max_length=80, blank=True, default="")
    # Lambda's asynchronous (Event) invocations are a durable queue (editor.services.event_queue):
    # `runner` names the process running an attempt ("" while queued or waiting for a retry),
    # `lease_until` says when it next needs attention (its runner's lease ends, a queued job is
    # presumed lost, a retry is due); `attempts` counts the attempts begun (the fencing token of
    # the current one), `function_errors` those that ended in the function's error or timeout.
    # A synchronous invocation's `lease_until` is the latest it can still be running (its caller
    # waits no longer): past it, a RUNNING one was abandoned by a process that went away.
    asynchronous = models.BooleanField(default=False)
    runner = models.CharField(max_length=128, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    function_errors = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "lease_until"], name="invocation_status_lease")]


class EventInvokeConfig(models.Model):
    """How Lambda handles a function's asynchronous invocations, per qualifier ($LATEST, a version
    number, an alias): PutFunctionEventInvokeConfig's retries and maximum event age (None means
    the default: 2 retries, 6 hours) and the functions it sends each event's outcome to."""

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="event_invoke_configs")
    qualifier = models.CharField(max_length=128)
    maximum_retry_attempts = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_event_age = models.PositiveIntegerField(null=True, blank=True)
    # {"OnSuccess": {"Destination": arn}, "OnFailure": {...}}: functions sent the invocation record.
    destination_config = models.JSONField(default=dict, blank=True)
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["function", "qualifier"], name="event_invoke_config_unique")]
        ordering = ["qualifier"]

    def __str__(self):
        return f"{self.function_id}:{self.qualifier}"


class SignInLink(models.Model):
    """A one-time sign-in link (the token is kept only as its SHA-256)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_sha256 = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Account(models.Model):
    """The AWS account a person is: every ARN of their functions, roles and state machines names
    its 12-digit id, and their access keys act as its root (editor.services.accounts)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="aws_account")
    account_id = models.CharField(max_length=12, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.account_id


class AccessKey(models.Model):
    """An access key of a person (at most two, as IAM allows): the id is public, the secret is kept
    encrypted with a key derived from SECRET_KEY (SigV4 needs it in clear to check a signature)."""

    class Status(models.TextChoices):
        ACTIVE = "Active", "Active"
        INACTIVE = "Inactive", "Inactive"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_keys")
    access_key_id = models.CharField(max_length=20, unique=True)
    secret_encrypted = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_service = models.CharField(max_length=64, blank=True, default="")
    last_used_region = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.access_key_id


class Role(models.Model):
    """An IAM role: who may assume it (`trusted`: "states", "lambda", its AssumeRolePolicyDocument)
    and its named inline policies (RolePolicy), whose statements together decide what it may do."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=64)
    role_id = models.CharField(max_length=21, unique=True)
    path = models.CharField(max_length=512, default="/")
    description = models.CharField(max_length=1000, blank=True, default="")
    trusted = models.JSONField(default=list)
    max_session_duration = models.PositiveIntegerField(default=3600)
    tags = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="role_name_unique_per_owner")]
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def policy(self) -> dict:
        """Returns the role's effective identity policy: every statement of its inline policies.
        Read in SQL of its own (40 µs; the ORM took 440, mostly building the query): every run of
        an execution and every request signed with the role's session reads it."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT document FROM {RolePolicy._meta.db_table} WHERE role_id = %s ORDER BY name",
                           [self.pk])
            # (JSON text on both backends: Django reads jsonb as text on PostgreSQL too)
            documents = [json.loads(text) if isinstance(text, (str, bytes)) else text
                         for (text,) in cursor.fetchall()]
        statements = []
        for document in documents:
            found = document.get("Statement", []) if isinstance(document, dict) else []
            statements.extend(found if isinstance(found, list) else [found])
        return {"Version": "2012-10-17", "Statement": statements}


class RolePolicy(models.Model):
    """One named inline policy of a role (IAM's PutRolePolicy): an identity policy document."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="inline_policies")
    name = models.CharField(max_length=128)
    document = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["role", "name"], name="role_policy_name_unique")]
        ordering = ["name"]

    def __str__(self):
        return f"{self.role.name}/{self.name}"


class StateMachine(models.Model):
    """A state machine and its draft definition (text: it may be invalid JSON while edited)."""

    class Type(models.TextChoices):
        STANDARD = "STANDARD", "Standard"
        EXPRESS = "EXPRESS", "Express"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="state_machines")
    name = models.CharField(max_length=80)
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.STANDARD)
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="machines")
    description = models.CharField(max_length=256, blank=True, default="")
    definition = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What the AWS API stores beside the definition: tags ([{"key", "value"}], TagResource) and
    # the loggingConfiguration / tracingConfiguration it was given (kept and returned, not acted on).
    tags = models.JSONField(default=list)
    logging = models.JSONField(default=dict)
    tracing = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="machine_name_unique_per_owner")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class StateMachineVersion(models.Model):
    """An immutable, valid definition published from the draft, with the role it runs under."""

    machine = models.ForeignKey(StateMachine, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    type = models.CharField(max_length=8, choices=StateMachine.Type.choices, default=StateMachine.Type.STANDARD)
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    role_name = models.CharField(max_length=64)
    role_policy = models.JSONField(default=dict)
    description = models.CharField(max_length=256, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["machine", "number"], name="machine_version_unique")]
        ordering = ["-number"]


class StateMachineAlias(models.Model):
    """A name for one or two versions of a state machine (Step Functions' aliases): `routing` is
    [{"version": number, "weight": percent}], the weights adding up to 100; an execution started
    on the alias runs one of them, picked by weight."""

    machine = models.ForeignKey(StateMachine, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=256, blank=True, default="")
    routing = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["machine", "name"], name="machine_alias_unique")]
        ordering = ["name"]


class Execution(models.Model):
    """One run of a state machine version: its status and result; its history is ExecutionEvent."""

    class Status(models.TextChoices):
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"
        TIMED_OUT = "TIMED_OUT", "Timed out"
        ABORTED = "ABORTED", "Aborted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    machine = models.ForeignKey(StateMachine, on_delete=models.CASCADE, related_name="executions")
    version = models.ForeignKey(StateMachineVersion, on_delete=models.PROTECT, related_name="executions")
    name = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True)
    input = models.TextField()
    output = models.TextField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    cause = models.TextField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    transitions = models.PositiveIntegerField(default=0)
    redrive_count = models.PositiveIntegerField(default=0)
    redriven_at = models.DateTimeField(null=True, blank=True)
    # A stop asked while no thread of this process runs it (another worker, or a queued start).
    stop_requested = models.BooleanField(default=False)
    # Who runs it (editor.services.leases): the process holding the lease ("" for nobody), when
    # it next needs attention (the lease ends, a queued start is presumed lost, a parked Wait is
    # due) and the fencing token every checkpoint write must still hold.
    lease_owner = models.CharField(max_length=128, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.PositiveBigIntegerField(default=0)
    # How often a process took the execution up after the one running it stopped or died.
    takeovers = models.PositiveIntegerField(default=0)
    # What the start named (the AWS API's ARNs): "" the state machine itself, a version number,
    # or an alias's name; and whether StartSyncExecution started it (an Express caller waiting).
    qualifier = models.CharField(max_length=80, blank=True, default="")
    synchronous = models.BooleanField(default=False)
    # A nested execution (arn:aws:states:::states:startExecution) knows the execution that started
    # it, the Task state that did and, for `.sync`, the task token its end answers (TaskToken).
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    parent_state = models.CharField(max_length=80, blank=True, default="")
    parent_token = models.CharField(max_length=256, blank=True, default="")
    # A child execution of a Distributed Map (MapRun): the run it belongs to and its item's index.
    map_run = models.ForeignKey("MapRun", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    map_index = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["machine", "name"], name="execution_name_unique"),
                       models.UniqueConstraint(fields=["map_run", "map_index"], name="map_run_item_unique")]
        indexes = [models.Index(fields=["status", "lease_until"], name="execution_lease_due"),
                   # A Map Run's children by status: counted at every child's end (map_runs.advance).
                   models.Index(fields=["map_run", "status"], name="execution_map_run_status")]
        ordering = ["-started_at"]


class MapRunQuerySet(models.QuerySet):
    def described(self):
        """Leaves out the run's items and item processor (each up to 256 KiB), which only running
        it reads: what lists, descriptions and pages of runs load."""
        return self.defer("items", "definition")


class MapRun(models.Model):
    """A Distributed Map's run (AWS's Map Run): the parent execution's Map state starts one child
    execution per item, at most `max_concurrency` at once, and waits for the run's end on a task
    token (`token`), which the run answers with the children's outputs in item order, or with its
    failure once more items failed than it tolerates (editor.services.map_runs)."""

    class Status(models.TextChoices):
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"
        ABORTED = "ABORTED", "Aborted"

    id = models.UUIDField(primary_key=True)   # the last part of its ARN
    arn = models.CharField(max_length=2048)    # as the parent's MapRunStarted names it
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="map_runs")
    state_name = models.CharField(max_length=80)
    label = models.CharField(max_length=80)   # the Map's Label (40 at most), else its state's name
    token = models.CharField(max_length=256, unique=True)
    # The item processor as a state machine definition (JSON), each child's definition.
    definition = models.TextField()
    # The children's inputs, a JSON array in item order; `item_count` of them.
    items = models.TextField()
    item_count = models.PositiveIntegerField()
    max_concurrency = models.PositiveIntegerField(default=0)   # 0: no limit of its own
    # As the Map state gave them (DescribeMapRun shows them), and the failed children they allow.
    tolerated_failure_count = models.PositiveIntegerField(default=0)
    tolerated_failure_percentage = models.FloatField(default=0)
    tolerated_failures = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True)
    error = models.TextField(null=True, blank=True)
    cause = models.TextField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    objects = MapRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]


class ExecutionEvent(models.Model):
    """One history event, in AWS's GetExecutionHistory shape: `details` holds the <x>EventDetails key."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="events")
    event_id = models.PositiveIntegerField()
    type = models.CharField(max_length=64)
    timestamp = models.CharField(max_length=32)
    previous_event_id = models.PositiveIntegerField()
    details = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["execution", "event_id"], name="event_id_unique")]
        ordering = ["execution", "event_id"]

    def as_event(self) -> dict:
        return {"id": self.event_id, "previousEventId": self.previous_event_id, "timestamp": self.timestamp,
                "type": self.type, **self.details}


class TaskToken(models.Model):
    """A task token: what a `.waitForTaskToken` Task (or a `.sync` start of a nested execution)
    waits for. The engine issues one per attempt of the Task (`$$.Task.Token`); SendTaskSuccess /
    SendTaskFailure (or the child execution's end, for `.sync`) store the answer here, from any
    process, and the execution is dispatched to take it (editor.services.task_tokens)."""

    class Status(models.TextChoices):
        WAITING = "WAITING", "Waiting"      # no answer yet
        ANSWERED = "ANSWERED", "Answered"   # an answer the execution has not taken yet
        CLOSED = "CLOSED", "Closed"         # taken, timed out, or its execution ended

    class Kind(models.TextChoices):
        CALLBACK = "callback", "Callback"   # answered with SendTaskSuccess / SendTaskFailure
        CHILD = "child", "Child execution"  # answered by the end of the execution it started (.sync)

    token = models.CharField(max_length=256, unique=True)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="task_tokens")
    state_name = models.CharField(max_length=80)
    entered_event_id = models.PositiveIntegerField()
    attempt = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CALLBACK)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    # The answer: SUCCEEDED with `output` (JSON text), or FAILED with `error` and `cause`.
    outcome = models.CharField(max_length=10, blank=True, default="")
    output = models.TextField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    cause = models.TextField(null=True, blank=True)
    heartbeat_seconds = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_deadline = models.DateTimeField(null=True, blank=True)
    timeout_deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["execution", "entered_event_id", "attempt"],
                                               name="task_token_unique_per_attempt")]
        ordering = ["created_at", "id"]


class FunctionAlias(models.Model):
    """A name for one published version of a function (Lambda's alias: `prod` -> version 3)."""

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=128)
    # (editor.services.functions.delete_version refuses a version an alias points to.)
    version = models.ForeignKey(FunctionVersion, on_delete=models.CASCADE, related_name="aliases")
    description = models.CharField(max_length=256, blank=True, default="")
    revision = models.UUIDField(default=uuid.uuid4)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["function", "name"], name="alias_name_unique")]
        ordering = ["name"]

    def __str__(self):
        return f"{self.function.name}:{self.name}"


class RoleSession(models.Model):
    """Temporary credentials of a role (STS's assumed-role session): what a function's invocations
    sign their AWS calls with. The secret is kept encrypted as an access key's is (SigV4 needs it in
    clear); the session token only as its SHA-256, since it is only ever compared."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="sessions")
    name = models.CharField(max_length=64)
    access_key_id = models.CharField(max_length=20, unique=True)
    secret_encrypted = models.TextField()
    token_sha256 = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.role.name}/{self.name}"


class Layer(models.Model):
    """A Lambda layer of a user: a name whose versions hold zips extracted under /opt.

    `next_version` only grows: as on Lambda, a deleted version's number is never given again."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=140)
    next_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="layer_name_unique_per_owner")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class LayerVersion(models.Model):
    """One immutable version of a layer: its zip and what it says of itself.

    A deleted version (`deleted`) is gone from every listing and lookup, and functions that
    already list it keep running with it, as on Lambda."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    description = models.CharField(max_length=256, blank=True, default="")
    license_info = models.CharField(max_length=512, blank=True, default="")
    compatible_runtimes = models.JSONField(default=list, blank=True)
    compatible_architectures = models.JSONField(default=list, blank=True)
    content = models.BinaryField()
    code_sha256 = models.CharField(max_length=64)
    code_size = models.PositiveIntegerField()
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["layer", "version"], name="layer_version_unique")]
        ordering = ["layer__name", "-version"]

    def __str__(self):
        return f"{self.layer.name}:{self.version}"


class FunctionUrl(models.Model):
    """A function URL (Lambda's FunctionUrlConfig): an HTTP address on the studio's own that
    invokes $LATEST, or the version an alias points at, with each request as its event.

    `url_id` is the address's own part (AWS's `<url-id>`); `qualifier` is "" for $LATEST or the
    alias's name, and the URL goes with its alias. `cors` holds Lambda's Cors member as given."""

    class AuthType(models.TextChoices):
        NONE = "NONE", "None (public)"
        AWS_IAM = "AWS_IAM", "AWS_IAM (signed)"

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="urls")
    qualifier = models.CharField(max_length=128, blank=True, default="")
    alias = models.ForeignKey(FunctionAlias, null=True, blank=True, on_delete=models.CASCADE, related_name="urls")
    url_id = models.CharField(max_length=32, unique=True)
    auth_type = models.CharField(max_length=8, choices=AuthType.choices)
    cors = models.JSONField(default=dict, blank=True)
    invoke_mode = models.CharField(max_length=16, default="BUFFERED")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["function", "qualifier"], name="function_url_unique_per_qualifier")]
        ordering = ["function", "qualifier"]

    def __str__(self):
        return f"{self.function.name}{':' + self.qualifier if self.qualifier else ''} -> {self.url_id}"


class FunctionPermission(models.Model):
    """One statement of a function's resource-based policy (Lambda's AddPermission): who may call
    an action on the function (or on one of its aliases or versions, `qualifier`). The statement
    is kept in the policy's own JSON shape, as GetPolicy returns it."""

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="permissions")
    qualifier = models.CharField(max_length=128, blank=True, default="")
    statement_id = models.CharField(max_length=100)
    statement = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["function", "qualifier", "statement_id"],
                                               name="function_permission_sid_unique")]
        ordering = ["created_at", "id"]


class HttpApi(models.Model):
    """An API Gateway HTTP API (apigatewayv2's Api, ProtocolType HTTP): routes to integrations,
    served on the studio's address under its stages."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="http_apis")
    api_id = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=128)
    protocol_type = models.CharField(max_length=16, default="HTTP")
    description = models.CharField(max_length=1024, blank=True, default="")
    route_selection_expression = models.CharField(max_length=256, default="$request.method $request.path")
    cors = models.JSONField(default=dict, blank=True)
    version = models.CharField(max_length=64, blank=True, default="")
    disable_execute_api_endpoint = models.BooleanField(default=False)
    tags = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.name} ({self.api_id})"


class ApiIntegration(models.Model):
    """Where an HTTP API's route sends its requests: a function (AWS_PROXY, payload format 2.0 or
    1.0), or an AWS service's action (AWS_PROXY with `integration_subtype`, such as
    StepFunctions-StartExecution: `request_parameters` map the request to the action's members,
    done as the role `credentials_arn` names)."""

    api = models.ForeignKey(HttpApi, on_delete=models.CASCADE, related_name="integrations")
    integration_id = models.CharField(max_length=7)
    integration_type = models.CharField(max_length=16, default="AWS_PROXY")
    integration_uri = models.CharField(max_length=2048, blank=True, default="")
    integration_subtype = models.CharField(max_length=64, blank=True, default="")
    credentials_arn = models.CharField(max_length=2048, blank=True, default="")
    request_parameters = models.JSONField(default=dict, blank=True)
    integration_method = models.CharField(max_length=16, blank=True, default="POST")
    payload_format_version = models.CharField(max_length=8, default="2.0")
    timeout_ms = models.PositiveIntegerField(default=30000)
    description = models.CharField(max_length=1024, blank=True, default="")
    managed = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api", "integration_id"], name="api_integration_id_unique")]
        ordering = ["id"]


class ApiRoute(models.Model):
    """A route of an HTTP API: its key ("GET /items/{id}", "ANY /{proxy+}", "$default") and the
    integration it targets ("integrations/<id>")."""

    api = models.ForeignKey(HttpApi, on_delete=models.CASCADE, related_name="routes")
    route_id = models.CharField(max_length=7)
    route_key = models.CharField(max_length=512)
    target = models.CharField(max_length=128, blank=True, default="")
    authorization_type = models.CharField(max_length=16, default="NONE")
    operation_name = models.CharField(max_length=128, blank=True, default="")
    managed = models.BooleanField(default=False)
    # WebSocket APIs: a route with a route response ($default) is two-way, its function's result
    # is sent back to the client.
    route_response_selection_expression = models.CharField(max_length=256, blank=True, default="")
    route_response_id = models.CharField(max_length=7, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api", "route_id"], name="api_route_id_unique"),
                       models.UniqueConstraint(fields=["api", "route_key"], name="api_route_key_unique")]
        ordering = ["id"]


class ApiDeployment(models.Model):
    """A deployment of an HTTP API: its routes and integrations as they were when it was made
    (`snapshot`: {"routes": [...], "integrations": {id: {...}}}), which the stages pointing at it serve."""

    api = models.ForeignKey(HttpApi, on_delete=models.CASCADE, related_name="deployments")
    deployment_id = models.CharField(max_length=10)
    description = models.CharField(max_length=1024, blank=True, default="")
    auto_deployed = models.BooleanField(default=False)
    snapshot = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api", "deployment_id"], name="api_deployment_id_unique")]
        ordering = ["created_at", "id"]


class ApiStage(models.Model):
    """A stage of an HTTP API: "$default" serves at the API's root, another name under /<name>/;
    it serves its `deployment` (an AutoDeploy stage is deployed again on every change)."""

    api = models.ForeignKey(HttpApi, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=128)
    auto_deploy = models.BooleanField(default=False)
    deployment = models.ForeignKey(ApiDeployment, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="stages")
    description = models.CharField(max_length=1024, blank=True, default="")
    stage_variables = models.JSONField(default=dict, blank=True)
    managed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api", "name"], name="api_stage_name_unique")]
        ordering = ["name"]


class ScheduleGroup(models.Model):
    """A group of schedules (EventBridge Scheduler's): every user has `default`, made on first use."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedule_groups")
    name = models.CharField(max_length=64)
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="schedule_group_unique_per_owner")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class Schedule(models.Model):
    """A schedule: when (`expression` read in `timezone`, between the start and end dates) it
    starts its target (a function, invoked asynchronously, or a state machine's execution) with
    `target_input`.

    `next_fire_at` is the next tick still to fire (None: none is left, or it is disabled); a firer
    claims a tick by moving it on with a compare-and-set (editor.services.schedule_firing)."""

    class State(models.TextChoices):
        ENABLED = "ENABLED", "Enabled"
        DISABLED = "DISABLED", "Disabled"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedules")
    group = models.ForeignKey(ScheduleGroup, on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=512, blank=True, default="")
    expression = models.CharField(max_length=256)
    timezone = models.CharField(max_length=64, default="UTC")
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.ENABLED)
    flexible_mode = models.CharField(max_length=8, default="OFF")
    flexible_minutes = models.PositiveIntegerField(null=True, blank=True)
    target_arn = models.CharField(max_length=1600)
    target_role_arn = models.CharField(max_length=1600)
    target_input = models.TextField(null=True, blank=True)
    retry_policy = models.JSONField(default=dict, blank=True)
    action_after_completion = models.CharField(max_length=8, default="NONE")
    next_fire_at = models.DateTimeField(null=True, blank=True)
    # Why Flowbench disabled it (its target was deleted, ...): shown on the Schedules page.
    disabled_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "name"], name="schedule_name_unique_per_group")]
        indexes = [models.Index(fields=["state", "next_fire_at"], name="schedule_due")]
        ordering = ["group__name", "name"]

    def __str__(self):
        return f"{self.group.name}/{self.name}"


class ScheduleFire(models.Model):
    """One tick of a schedule that fired: when it was due and when it fired, the target, and what
    it started (the invocation or the execution) or why it could not. At most one row a tick; the
    row outlives its schedule (an at() schedule deleted after it fired keeps its history)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="fires")
    group_name = models.CharField(max_length=64)
    schedule_name = models.CharField(max_length=64)
    tick_at = models.DateTimeField()
    fired_at = models.DateTimeField()
    target_arn = models.CharField(max_length=1600)
    invocation = models.ForeignKey(Invocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    execution = models.ForeignKey(Execution, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True, default="")
    # How many times the target's start was attempted, and when the next attempt is due (the
    # schedule's RetryPolicy, after a start that failed inside Flowbench); None: no more attempts.
    attempts = models.PositiveIntegerField(default=1)
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schedule", "tick_at"], name="schedule_fire_once_per_tick")]
        indexes = [models.Index(fields=["retry_at"], name="schedule_fire_retry_due")]
        ordering = ["-tick_at"]


class Bucket(models.Model):
    """A bucket of a user (S3's API). Bucket names are one namespace for everyone, as S3's are
    (virtual-host addressing names a bucket in the Host header, before any user is known)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="buckets")
    name = models.CharField(max_length=63, unique=True)
    region = models.CharField(max_length=32)
    # S3's LambdaFunctionConfigurations as PutBucketNotificationConfiguration last set them
    notifications = models.JSONField(default=list, blank=True)
    # state machines started with the EventBridge event of a change, set from the studio
    machine_notifications = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class StoredObject(models.Model):
    """One object of a bucket: its key, what S3 says of it (size, ETag, content type, user
    metadata) and `blob`, the name of its bytes in the object storage (editor.services.object_store).
    A blob is written in full before the row names it, so an object is never seen half written."""

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="stored_objects")
    key = models.CharField(max_length=1024)
    size = models.BigIntegerField()
    etag = models.CharField(max_length=80)
    content_type = models.CharField(max_length=256, default="binary/octet-stream")
    headers = models.JSONField(default=dict, blank=True)    # Content-Disposition, Cache-Control, ...
    metadata = models.JSONField(default=dict, blank=True)   # x-amz-meta-*, names in lower case
    blob = models.CharField(max_length=200)
    last_modified = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "key"], name="object_key_unique_per_bucket")]
        ordering = ["key"]

    def __str__(self):
        return f"{self.bucket.name}/{self.key}"


class MultipartUpload(models.Model):
    """A multipart upload under way: the object it will make, and its parts (UploadedPart)."""

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="uploads")
    upload_id = models.CharField(max_length=64, unique=True)
    key = models.CharField(max_length=1024)
    content_type = models.CharField(max_length=256, default="binary/octet-stream")
    headers = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    initiated = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "initiated"]


class UploadedPart(models.Model):
    """One part of a multipart upload; uploading a part number again replaces it."""

    upload = models.ForeignKey(MultipartUpload, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    size = models.BigIntegerField()
    etag = models.CharField(max_length=80)
    blob = models.CharField(max_length=200)
    last_modified = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upload", "number"], name="part_number_unique_per_upload")]
        ordering = ["number"]


class NotificationDelivery(models.Model):
    """One event a bucket's notification delivered: which change, to which configuration, and
    the asynchronous invocation or the execution it started (recorded with the change, in its
    transaction, so each change is delivered once), or why none was started."""

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="deliveries")
    configuration_id = models.CharField(max_length=256)
    event_name = models.CharField(max_length=64)
    key = models.CharField(max_length=1024)
    target_arn = models.CharField(max_length=256)   # the function or state machine notified
    invocation = models.ForeignKey("Invocation", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    execution = models.ForeignKey("Execution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class BlobChunk(models.Model):
    """A piece of a blob kept in the database (FLOWBENCH_OBJECT_STORAGE=database, the store every
    process of the distributed mode reaches without another service)."""

    name = models.CharField(max_length=200)
    index = models.PositiveIntegerField()
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "index"], name="blob_chunk_unique")]


class WebSocketConnection(models.Model):
    """A client connected to a WebSocket API's stage, on the web process `server` (whose Channels
    group ws-connection.<connection_id> reaches it). Removed when it disconnects."""

    connection_id = models.CharField(max_length=32, unique=True)
    api = models.ForeignKey(HttpApi, on_delete=models.CASCADE, related_name="connections")
    stage = models.CharField(max_length=128)
    source_ip = models.CharField(max_length=64, blank=True, default="")
    user_agent = models.CharField(max_length=512, blank=True, default="")
    server = models.CharField(max_length=128)
    connected_at = models.DateTimeField()
    last_active_at = models.DateTimeField()

    class Meta:
        ordering = ["connected_at", "id"]


class WebSocketMessage(models.Model):
    """A message of a WebSocket API's last minutes, as its studio page lists them: a client's
    (in), one sent to a client (out), a connect or a disconnect. Older ones are pruned."""

    class Direction(models.TextChoices):
        IN = "in", "In"
        OUT = "out", "Out"
        CONNECT = "connect", "Connect"
        DISCONNECT = "disconnect", "Disconnect"

    api = models.ForeignKey(HttpApi, on_delete=models.CASCADE, related_name="socket_messages")
    connection_id = models.CharField(max_length=32)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    route_key = models.CharField(max_length=128, blank=True, default="")
    size = models.PositiveIntegerField(default=0)
    excerpt = models.CharField(max_length=512, blank=True, default="")
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
