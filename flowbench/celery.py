"""The Celery app. Executions run on threads by default; FLOWBENCH_EXECUTOR=celery sends them here.

Jobs live in `editor.jobs` as `shared_task`s, so `editor/` never imports this module. A worker
takes up its work when it is ready and hands its running executions back when it is told to stop
(flowbench.lifecycle), so another worker continues them at once.
"""

import logging
import os
import threading

from celery import Celery
from celery.signals import task_received, worker_ready, worker_shutting_down

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowbench.settings")

app = Celery("flowbench")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["editor"], related_name="jobs")


@worker_ready.connect
def _worker_started(sender=None, **_):
    """A worker sweeps for executions whose lease ran out (a dead worker's) from its start on,
    whether or not a job comes to it; it says at start what it is."""
    from flowbench import lifecycle

    controller = getattr(sender, "controller", None)
    lifecycle.started(name=f"worker {getattr(sender, 'hostname', '?')}",
                      threads=getattr(controller, "concurrency", None))


@worker_shutting_down.connect
def _worker_stopping(**_):
    """Celery's warm shutdown waits for the jobs running: each execution job ends as soon as its
    run is handed back. The hand-back runs on a thread of its own (this is a signal handler)."""
    from flowbench import lifecycle

    threading.Thread(target=lifecycle.stopping, name="flowbench-stop").start()


@task_received.connect
def _job_received(request=None, **_):
    """A worker takes jobs ahead of running them: it holds each execution it took under its own
    lease until a thread runs it, so that its death never strands one (editor.services.leases)."""
    if request is not None and request.task_name == "flowbench.run_execution":
        from django.db import connection

        from editor.services.executor import get_executor

        try:
            get_executor().reserve(request.args[0])
        except Exception:   # the sweep still finds the execution: only slower
            logging.getLogger("flowbench").exception("could not reserve execution %s", request.args[0])
        finally:
            connection.close()
