"""Pages of roles, state machines and executions. Each page is a shell that one ES module fills
through the JSON API; the view only checks that what the URL names belongs to the signed-in user
(anything else is a 404 that does not say whether it exists)."""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render

from runtime.asl.choice_operators import page_table

CODEMIRROR = "vendor/codemirror/codemirror-6.0.2.js"


def _owned(model_name: str, **lookup):
    """Returns the record of `model_name` matching `lookup`, or raises Http404."""
    model = apps.get_model("editor", model_name)
    try:
        return model.objects.get(**lookup)
    except (model.DoesNotExist, ValidationError, ValueError):
        raise Http404(f"{model_name} not found") from None


def role_list(request):
    return render(request, "editor/role_list.html", {"page": "roles"})


def role_create(request):
    return render(request, "editor/role_create.html", {"page": "roles"})


def role_page(request, name):
    role = _owned("Role", owner=request.user, name=name)
    return render(request, "editor/role.html", {"page": "roles", "role": role, "codemirror": CODEMIRROR})


def machine_list(request):
    return render(request, "editor/machine_list.html", {"page": "machines"})


def machine_create(request):
    return render(request, "editor/machine_create.html", {"page": "machines"})


def machine_page(request, name):
    machine = _owned("StateMachine", owner=request.user, name=name)
    # The page's model builds Choice rules from the engine's own table of operators.
    from editor.services.accounts import account_id
    from editor.services.triggers import machine_triggers_of

    return render(request, "editor/machine.html",
                  {"page": "machines", "machine": machine, "codemirror": CODEMIRROR,
                   "choice_operators": page_table(), "account_id": account_id(request.user),
                   "triggers": machine_triggers_of(machine)})


def execution_list(request, name):
    machine = _owned("StateMachine", owner=request.user, name=name)
    return render(request, "editor/execution_list.html", {"page": "machines", "machine": machine})


def execution_page(request, execution_id):
    execution = _owned("Execution", id=execution_id, machine__owner=request.user)
    return render(request, "editor/execution.html",
                  {"page": "machines", "execution": execution, "machine": execution.machine,
                   "map_run": execution.map_run})


def map_run_page(request, execution_id, map_run_id):
    """A Distributed Map's run (the console's Map Run page): its figures and its children."""
    run = _owned("MapRun", id=map_run_id, execution_id=execution_id, execution__machine__owner=request.user)
    return render(request, "editor/map_run.html",
                  {"page": "machines", "run": run, "execution": run.execution, "machine": run.execution.machine})
