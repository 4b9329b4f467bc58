"""The Celery app. Executions run on threads by default; FLOWBENCH_EXECUTOR=celery sends them here.

Jobs live in `editor.jobs` as `shared_task`s, so `editor/` never imports this module.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowbench.settings")

app = Celery("flowbench")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["editor"], related_name="jobs")
