"""Loads the seed's sample functions (deployed, with a test event each) for one user."""

from __future__ import annotations

from django.db import transaction

from editor import samples
from editor.models import Function, TestEvent
from editor.services.functions import deploy_function
from editor.services.runner import available_runtimes


def load_samples(user) -> list[str]:
    """Creates the samples the user does not have yet; returns the names it created.

    Samples whose runtime is not installed are left out (they can be loaded once it is).
    """
    installed = {r["id"] for r in available_runtimes()}
    created = []
    for sample in samples.ALL:
        if sample.runtime not in installed or Function.objects.filter(owner=user, name=sample.id).exists():
            continue
        with transaction.atomic():
            function = Function.objects.create(
                owner=user, name=sample.id, runtime=sample.runtime, handler=sample.handler,
                files=dict(sample.files), description=sample.description, timeout=sample.timeout,
                memory=sample.memory, env=dict(sample.env))
            for name, body in sample.test_events.items():
                TestEvent.objects.create(function=function, name=name, body=body)
            deploy_function(function)
        created.append(sample.id)
    return created
