"""The process-wide FunctionRunner: created on first use, closed when the process exits.

Every invocation in this process goes through it, so warm workers are shared by the Test button,
the Invoke API and state machines. Its sandbox is settings.FLOWBENCH_SANDBOX: where bubblewrap does
not work and plain was not chosen, no function runs (`check_sandbox` refuses, and a Task fails
with Lambda.ServiceException), never silently a weaker sandbox.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from editor.errors import ApiError

logger = logging.getLogger("flowbench.sandbox")
_lock = threading.Lock()
_runner = None
_pool: ThreadPoolExecutor | None = None

RUNTIME_LABELS = {"python": "Python", "nodejs": "Node.js", "ruby": "Ruby",
                  "provided.al2023": "Custom runtime on Amazon Linux 2023",
                  "provided.al2": "Custom runtime on Amazon Linux 2"}
# The studio's runtime ids, in the Create form's order. A custom runtime is one id per AWS id (the
# studio keeps which one the function asked for); the others are a family, its newest version.
STUDIO_RUNTIMES = ("python", "nodejs", "ruby", "provided.al2023", "provided.al2")


def get_runner():
    """Returns the process's FunctionRunner, starting it on first use (and saying in the log which
    sandbox it runs functions in)."""
    global _runner
    with _lock:
        if _runner is not None:
            return _runner
        from runtime.functions import FunctionRunner
        from runtime.functions.sdk import installed_sdk

        sdks = {family: installed_sdk(settings.FLOWBENCH_SDK_CACHE, family) for family in ("python", "nodejs")}
        for family in [family for family, where in sdks.items() if where is None]:
            logger.warning("the AWS SDK is not installed for %s functions: run manage.py prepare", family)
            del sdks[family]
        runner = _runner = FunctionRunner(backend=settings.FLOWBENCH_SANDBOX,
                                          capacity=settings.FLOWBENCH_FUNCTIONS_PER_PROCESS,
                                          region=settings.FLOWBENCH_REGION,
                                          sdk_dirs=sdks,
                                          api_url=settings.FLOWBENCH_BASE_URL,
                                          standby=settings.FLOWBENCH_STANDBY_WORKERS)
        runner.__enter__()
        atexit.register(close_runner)
    level = (logging.ERROR if runner.unavailable else
             logging.WARNING if runner.backend_name == "plain" else logging.INFO)
    logger.log(level, sandbox_summary())
    return runner


def prestart_standby_workers() -> None:
    """Has standby workers started for a new function of each installed runtime as the studio
    creates it (128 MB, network off), so the first Test of a new function is not a sandbox start;
    other shapes get theirs after their first cold start (runtime/functions/standby.py)."""
    from runtime.functions import FunctionSpec

    runner = get_runner()
    if runner.unavailable or not settings.FLOWBENCH_STANDBY_WORKERS:
        return
    for runtime in available_runtimes():
        if runtime["id"] in ("python", "nodejs", "ruby"):
            runner.prestart(FunctionSpec(name="standby", runtime=runtime["version"], network=False))


def get_pool() -> ThreadPoolExecutor:
    """Returns the thread pool that invocations run on (off the event loop and the request thread)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=getattr(settings, "FLOWBENCH_THREADS", 8),
                                       thread_name_prefix="flowbench-invoke")
        return _pool


def close_runner() -> None:
    """Stops every worker of the process's runner (at exit, or between tests)."""
    global _runner
    with _lock:
        runner, _runner = _runner, None
    if runner is not None:
        runner.close()


def available_runtimes() -> list[dict]:
    """Returns the runtime families installed on this machine, newest version of each:
    [{"id": "python", "label": "Python", "version": "python3.11"}, ..., {"id": "provided.al2023",
    ...}]."""
    from runtime.functions import available_runtimes as installed

    found: dict[str, dict] = {}
    for runtime in installed():
        key = runtime.id if runtime.family == "provided" else runtime.family
        if key not in found:  # newest first within each family
            found[key] = {"id": key, "label": RUNTIME_LABELS.get(key, key), "version": runtime.id}
    return [found[key] for key in STUDIO_RUNTIMES if key in found]


def sandbox_backend() -> str:
    """Returns the sandbox functions run in: "bubblewrap", "plain" (chosen by the administrator:
    a process with limits), or "unavailable" (bubblewrap does not work here: nothing runs)."""
    runner = get_runner()
    return "unavailable" if runner.unavailable else runner.backend_name


def sandbox_summary() -> str:
    """Returns one line saying which sandbox runs functions here and what holds their resources,
    or why none runs (for `prepare` and the server's log)."""
    runner = get_runner()
    if runner.unavailable:
        return runner.unavailable
    if runner.backend_name == "plain":
        who = ("each under a user id of its own" if os.geteuid() == 0 else
               "under this server's own user, so they can read everything it can")
        return (f"Functions run in the plain sandbox (FLOWBENCH_SANDBOX=plain): processes with limits, "
                f"not isolated from this machine's files, {who}; {runner.containment}.")
    return f"Functions run in the bubblewrap sandbox; {runner.containment}."


def check_sandbox() -> None:
    """Raises ApiError (503 SandboxUnavailable, saying how to fix it) when no function can run in
    this process."""
    runner = get_runner()
    if runner.unavailable:
        raise ApiError("SandboxUnavailable", runner.unavailable, status=503)


def retire_function(name: str, namespace: str, version: str | None = None) -> None:
    """Stops the warm workers of function `name` in `namespace` (of one `version` label, or all):
    it was deleted or redeployed. Only this process's runner is reached (Celery workers' go when
    idle)."""
    with _lock:
        runner = _runner
    if runner is not None:
        runner.retire(name, namespace, version)


SDK_NAMES = {"python": ("Python", "boto3"), "nodejs": ("Node.js", "@aws-sdk/client-*")}


def install_function_sdks() -> str:
    """Installs the AWS SDKs that functions import (once per pinned recipe); returns lines saying
    where they are, or why functions have none."""
    from runtime.functions.sdk import SdkInstallFailed, install_sdk

    said = []
    for family, (language, sdk) in SDK_NAMES.items():
        try:
            where = install_sdk(settings.FLOWBENCH_SDK_CACHE, family)
        except (SdkInstallFailed, OSError, subprocess.SubprocessError) as exc:
            said.append(f"{language} functions cannot import {sdk}: {exc}")
        else:
            said.append(f"{language} functions import {sdk} from {where} (read-only).")
    return "\n".join(said)
