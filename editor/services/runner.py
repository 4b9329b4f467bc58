"""The process-wide FunctionRunner: created on first use, closed when the process exits.

Every invocation in this process goes through it, so warm workers are shared by the Test button,
the Invoke API and state machines.
"""

from __future__ import annotations

import atexit
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

_lock = threading.Lock()
_runner = None
_pool: ThreadPoolExecutor | None = None

RUNTIME_LABELS = {"python": "Python", "nodejs": "Node.js"}


def get_runner():
    """Returns the process's FunctionRunner, starting it on first use."""
    global _runner
    with _lock:
        if _runner is None:
            from runtime.functions import FunctionRunner

            runner = FunctionRunner()
            runner.__enter__()
            _runner = runner
            atexit.register(close_runner)
        return _runner


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
    [{"id": "python", "label": "Python", "version": "python3.11"}, ...]."""
    from runtime.functions import available_runtimes as installed

    found: dict[str, dict] = {}
    for runtime in installed():
        if runtime.family not in found:  # newest first within each family
            found[runtime.family] = {"id": runtime.family, "label": RUNTIME_LABELS.get(runtime.family, runtime.family),
                                     "version": runtime.id}
    return [found[family] for family in ("python", "nodejs") if family in found]


def sandbox_backend() -> str:
    """Returns the sandbox the runner uses: "bubblewrap" or "plain" (a process with limits)."""
    return get_runner().backend_name
