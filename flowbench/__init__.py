"""The Flowbench Django project: settings, URLs, the ASGI application and the Celery app."""

# Loaded with the project so `shared_task` jobs bind to this app and its settings.
from flowbench.celery import app as celery_app

__all__ = ["celery_app"]
