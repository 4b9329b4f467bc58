"""The Flowbench Django project: settings, URLs, the ASGI application and the Celery app."""
