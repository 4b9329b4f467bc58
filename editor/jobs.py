"""Celery jobs: thin calls into services, named "jobs" so that "task" keeps its States Language
meaning. Services send them by name (`flowbench.run_execution`, `flowbench.invoke_function`,
`flowbench.install_packages`),
so nothing in editor/services imports this module. The worker's start and stop hooks live with
the Celery app (flowbench/celery.py)."""

from __future__ import annotations

import uuid

from celery import shared_task

from editor.models import Invocation


@shared_task(name="flowbench.invoke_function", ignore_result=True)
def invoke_function_job(invocation_id: str) -> None:
    """Runs a pending invocation (a Test or an Invoke the web process recorded) in this worker's
    sandbox; its lines and its end reach the page and the waiting request through the layer. An
    asynchronous one runs only if this worker can claim it (editor.services.event_queue)."""
    from editor.services import event_queue
    from editor.services.invocations import run_invocation

    invocation = (Invocation.objects.select_related("function", "version")
                  .filter(pk=uuid.UUID(invocation_id), status=Invocation.Status.RUNNING).first())
    if invocation is None:
        return
    if invocation.asynchronous:
        event_queue.run_queued(invocation.pk)
    else:
        run_invocation(invocation.function, invocation.version, invocation)


@shared_task(name="flowbench.run_execution", ignore_result=True)
def run_execution_job(execution_id: str) -> None:
    """Advances one RUNNING execution from its last checkpoint, if this worker can take its lease
    (another may hold it: then this job ends at once)."""
    from editor.services.executor import get_executor

    get_executor().run(uuid.UUID(execution_id))


@shared_task(name="flowbench.fire_schedules", ignore_result=True)
def fire_schedules_job() -> None:
    """Fires every schedule tick that is due (Celery beat sends this job every second in the
    distributed mode; whichever worker takes it, each tick fires once)."""
    from editor.services.schedule_firing import fire_due

    fire_due()


@shared_task(name="flowbench.install_packages", ignore_result=True)
def install_packages_job(update_id: str) -> None:
    """Installs the dependencies of a Deploy in progress (pip or npm in this worker's sandbox),
    then deploys it; another live installer holding it makes this job end at once."""
    from editor.services.deploys import run_update

    run_update(uuid.UUID(update_id))
