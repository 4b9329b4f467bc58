"""Each person is an AWS account of their own: a stable 12-digit id that every ARN of their
functions, roles, state machines and executions names, given when first needed.

    account_id(user)          -> "402836719245" (created on first use, then never changes)
    function_arn(user, "f")   -> "arn:aws:lambda:us-east-1:402836719245:function:f"
    role_arn(user, "r")       -> "arn:aws:iam::402836719245:role/r"
    execution_arn(execution)  -> "arn:aws:states:us-east-1:402836719245:execution:flow:run"

An execution's ARNs, and the names its context object (`$$`) gives it, are made here for the API,
the console and the engine alike (runtime.arn writes them): an Express execution's ends in its id,
and a Distributed Map's child runs the state machine MACHINE/LABEL, its Map Run's label
(execution:MACHINE/LABEL:NAME, stateMachine:MACHINE/LABEL), as AWS names them.

The first administrator's account is FLOWBENCH_ACCOUNT_ID (123456789012 unless set), so the ARNs
an install showed before accounts were per person stay the administrator's; everyone else gets a
random id.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction

from editor.models import Account, Execution
from runtime.arn import execution_arn as _execution_arn
from runtime.arn import function_arn as _function_arn
from runtime.arn import state_machine_arn as _state_machine_arn
from runtime.arn import state_machine_name

__all__ = ["account_id", "ensure_account", "region", "function_arn", "role_arn", "state_machine_arn",
           "execution_arn", "execution_machine_arn", "execution_machine_name", "execution_context",
           "user_of_account"]


def region() -> str:
    """Returns the region every ARN of this install names."""
    return settings.FLOWBENCH_REGION


def _user_id(user) -> int:
    return user if isinstance(user, int) else user.pk


def ensure_account(user) -> Account:
    """Returns the person's Account, creating it with a fresh id when they have none yet."""
    found = Account.objects.filter(user_id=_user_id(user)).first()
    if found is not None:
        return found
    from django.contrib.auth import get_user_model

    person = user if not isinstance(user, int) else get_user_model().objects.get(pk=user)
    wanted = settings.FLOWBENCH_ACCOUNT_ID if person.is_superuser else None
    for _attempt in range(20):
        number = wanted or f"{secrets.randbelow(10 ** 12):012d}"
        wanted = None
        try:
            with transaction.atomic():
                return Account.objects.create(user=person, account_id=number)
        except IntegrityError:
            # Another thread gave this person an account meanwhile, or the id is taken: look again.
            found = Account.objects.filter(user_id=person.pk).first()
            if found is not None:
                return found
    raise RuntimeError("could not find a free account id")   # 20 collisions in 10^12: never


def account_id(user) -> str:
    """Returns the 12-digit account id of `user` (a user or a user's primary key)."""
    return ensure_account(user).account_id


def user_of_account(number: str):
    """Returns the user whose account id is `number`, or None."""
    found = Account.objects.select_related("user").filter(account_id=number).first()
    return found.user if found is not None else None


def function_arn(user, name: str, qualifier: str | None = None) -> str:
    """Returns the ARN of `user`'s function `name` (and of its version or alias `qualifier`)."""
    return _function_arn(name, region(), account_id(user), qualifier)


def role_arn(user, name: str, path: str = "/") -> str:
    """Returns the ARN of `user`'s role `name` (IAM ARNs name no region)."""
    return f"arn:aws:iam::{account_id(user)}:role{path}{name}"


def state_machine_arn(user, name: str) -> str:
    return _state_machine_arn(name, region(), account_id(user))


def _label(execution: Execution) -> str | None:
    """The label of the Distributed Map that started `execution` (its Map Run's), else None."""
    return execution.map_run.label if execution.map_run_id is not None else None


def _express_id(execution: Execution) -> str | None:
    return str(execution.id) if execution.version.type == "EXPRESS" else None


def execution_arn(execution: Execution, account: str | None = None) -> str:
    """Returns the ARN of `execution`; `account` is its owner's account id when the caller has it."""
    return _execution_arn(execution.machine.name, execution.name, region(),
                          account or account_id(execution.machine.owner_id), _express_id(execution),
                          _label(execution))


def execution_machine_name(execution: Execution) -> str:
    """Returns the name of the state machine `execution` runs (MACHINE/LABEL for a Map Run's child)."""
    return state_machine_name(execution.machine.name, _label(execution))


def execution_machine_arn(execution: Execution, account: str | None = None) -> str:
    """Returns the ARN of the state machine `execution` runs (unqualified: a version or alias it was
    started through is not named)."""
    return _state_machine_arn(execution.machine.name, region(), account or account_id(execution.machine.owner_id),
                              _label(execution))


def execution_context(execution: Execution, account: str) -> dict:
    """Returns the names runtime.asl's context object gives `execution` (StateMachine.run's
    `context`): the ARNs it builds from them are execution_arn's and execution_machine_arn's."""
    return {"stateMachineName": execution.machine.name, "executionName": execution.name, "region": region(),
            "accountId": account, "expressId": _express_id(execution), "mapRunLabel": _label(execution)}
