"""Celery jobs: thin calls into services, named "jobs" so that "task" keeps its States Language
meaning. With the default thread executor they run eagerly in the calling process."""

from __future__ import annotations

import uuid

from celery import shared_task
from celery.signals import worker_ready

from editor.models import Invocation


@shared_task(name="flowbench.invoke_function", ignore_result=True)
def invoke_function_job(invocation_id: str) -> None:
    """Runs a pending invocation (a Test or an Invoke the web process recorded) in this worker's
    sandbox; its lines and its end reach the page and the waiting request through the layer."""
    from editor.services.invocations import run_invocation

    invocation = (Invocation.objects.select_related("function", "version")
                  .filter(pk=uuid.UUID(invocation_id), status=Invocation.Status.RUNNING).first())
    if invocation is not None:
        run_invocation(invocation.function, invocation.version, invocation)


@shared_task(name="flowbench.run_execution", ignore_result=True)
def run_execution_job(execution_id: str) -> None:
    """Advances one RUNNING execution from its last checkpoint, if this worker can take its lease
    (another may hold it: then this job ends at once)."""
    from editor.services.executor import run_guarded

    run_guarded(uuid.UUID(execution_id))


@worker_ready.connect
def start_lease_keeper(**_):
    """A worker sweeps for executions whose lease ran out (a dead worker's) from its start on,
    whether or not a job comes to it."""
    from editor.services.leases import keeper

    keeper().start()
