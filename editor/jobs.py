"""Celery jobs: thin calls into services, named "jobs" so that "task" keeps its States Language
meaning. With the default thread executor they run eagerly in the calling process."""

from __future__ import annotations

import uuid

from celery import shared_task
from celery.signals import worker_ready

from editor.models import Function, Invocation
from editor.services.invocations import invoke_function


@shared_task(name="flowbench.invoke_function")
def invoke_function_job(function_id: int, event, invocation_id: str | None = None,
                        source: str = Invocation.Source.API) -> str:
    """Runs the function's deployed version with `event`; returns the invocation id."""
    function = Function.objects.select_related("deployed").get(pk=function_id)
    invocation = invoke_function(function, event, source=source,
                                 invocation_id=uuid.UUID(invocation_id) if invocation_id else None)
    return str(invocation.id)


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
