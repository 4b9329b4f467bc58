"""Loads the seed's samples for one user: the functions (deployed, with a test event each), the sample
role and the youth football training state machine (published as version 1)."""

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


def welcome(user) -> list[str]:
    """Gives a new person what the first one gets: the sample functions, the sample role and the
    sample state machine, and their AWS account; returns the names it created (none when they have
    them all)."""
    from editor.services.accounts import ensure_account

    ensure_account(user)
    return load_samples(user) + load_sample_machine(user)


def load_sample_apps(user) -> list[str]:
    """Loads the seed's three apps (editor.samples.apps) the user lacks; returns what it created."""
    from editor.samples.apps import all_apps

    return [name for app in all_apps() for name in app.load(user)]


def ensure_role(user, name: str, *, trusted: list[str], policy: dict, description: str):
    """Returns the user's role of that name, creating it with the trust and `policy` as its one
    inline policy when the user has none (a role the user already has is left as it is)."""
    from editor.models import Role
    from editor.services.roles import create_role

    role = Role.objects.filter(owner=user, name=name).first()
    if role is None:
        role = create_role(user, {"name": name, "trusted": trusted, "description": description, "policy": policy})
    return role


SAMPLE_ROLE = "flowbench-sample-role"
SAMPLE_MACHINE = "youth-football-training"


def load_sample_machine(user) -> list[str]:
    """Creates the sample role and the seed's state machine (version 1) when the user lacks them."""
    from editor.models import Role, StateMachine
    from editor.samples import machines as templates
    from editor.services.machines import publish_version, template_definition
    from editor.services.roles import create_role

    created = []
    with transaction.atomic():
        role = Role.objects.filter(owner=user, name=SAMPLE_ROLE).first()
        if role is None:
            role = create_role(user, {"name": SAMPLE_ROLE, "trusted": ["states"],
                                      "description": "Lets the sample state machines invoke your functions."})
            created.append(SAMPLE_ROLE)
        if not StateMachine.objects.filter(owner=user, name=SAMPLE_MACHINE).exists():
            machine = StateMachine.objects.create(
                owner=user, name=SAMPLE_MACHINE, type="STANDARD", role=role,
                description=templates.BY_ID["seed"].definition["Comment"],
                definition=template_definition(user, "seed"))
            publish_version(machine)
            created.append(SAMPLE_MACHINE)
    return created


# -- the building blocks of the sample apps (editor.samples.apps) -----------------------------------

def ensure_function(user, name: str, *, files: dict, role=None, handler: str = "lambda_function.lambda_handler",
                    description: str = "", timeout: int = 3, memory: int = 128, network: bool = False,
                    env: dict | None = None) -> bool:
    """Creates the user's Python function `name` and deploys it unless the user has one of that
    name (left as it is); returns whether it created it. A function whose requirements.txt is not
    in the package cache is Pending until its install ends, in the background (as the Lambda API's
    CreateFunction): its installer starts when the caller's transaction commits."""
    from editor.services.deploys import start_deploy

    if Function.objects.filter(owner=user, name=name).exists():
        return False
    function = Function.objects.create(owner=user, name=name, runtime="python", handler=handler, files=dict(files),
                                       description=description, timeout=timeout, memory=memory, network=network,
                                       env=dict(env or {}), role=role, state="Active")
    start_deploy(function)
    return True


def ensure_machine(user, name: str, *, role, definition: str, description: str = "") -> bool:
    """Creates the user's Standard state machine `name` with `definition` (its "{arn}" replaced by
    the user's function ARN prefix) and publishes it as version 1, unless the user has one of that
    name; returns whether it created it."""
    from editor.models import StateMachine
    from editor.services.accounts import function_arn
    from editor.services.machines import publish_version

    if StateMachine.objects.filter(owner=user, name=name).exists():
        return False
    machine = StateMachine.objects.create(owner=user, name=name, type="STANDARD", role=role, description=description,
                                          definition=definition.replace("{arn}", function_arn(user, "")))
    publish_version(machine)
    return True


def installing(user, names) -> list[str]:
    """Returns which of the user's functions `names` wait for their packages to install."""
    from editor.models import FunctionUpdate

    return sorted(FunctionUpdate.objects.filter(function__owner=user, function__name__in=list(names),
                                                status=FunctionUpdate.Status.IN_PROGRESS)
                  .values_list("function__name", flat=True))


def failed(user, names) -> list[str]:
    """Returns which of the user's functions `names` have nothing deployed because their packages
    failed to install (State Failed: Deploy them again once PyPI is reachable)."""
    return sorted(Function.objects.filter(owner=user, name__in=list(names), state="Failed", deployed__isnull=True)
                  .values_list("name", flat=True))


def finish_app_installs(user, out) -> None:
    """Waits for the packages of the user's sample app functions to install (pip, from PyPI),
    writing to `out` (a command's stdout) what it installs and how each ended: a command that loaded the apps (prepare,
    load_samples --apps) calls it, since its installer threads would otherwise stop with it. In the
    distributed mode the workers install them; it only says so."""
    from django.conf import settings

    from editor.models import FunctionUpdate
    from editor.samples.apps import all_apps
    from editor.services.deploys import join_installers

    names = installing(user, [name for app in all_apps() for name in app.functions])
    if not names:
        return
    if settings.FLOWBENCH_EXECUTOR == "celery":
        out.write(f"The workers install the packages of {', '.join(names)} once they run.")
        return
    out.write(f"Installing the packages of {', '.join(names)} (pip, from PyPI)...")
    out.flush()
    join_installers()
    for name in names:
        update = FunctionUpdate.objects.filter(function__owner=user, function__name=name).order_by(
            "-created_at").first()
        if update.status == FunctionUpdate.Status.SUCCESSFUL:
            out.write(f"    {name}: installed and deployed.")
        else:
            out.write(f"    {name}: {update.status}: {update.reason or 'still installing (the web server goes on)'}")
