"""Sandbox backends that run function workers: bubblewrap namespaces, or a plain process."""

from .base import InitFailed, Sandbox, SandboxSettings, WorkerReply
from .bubblewrap import BubblewrapSandbox, bubblewrap_path, bubblewrap_problem, bubblewrap_works
from .cgroups import CgroupHost, find_cgroups
from .plain import PlainSandbox

__all__ = ["Sandbox", "SandboxSettings", "WorkerReply", "InitFailed", "PlainSandbox",
           "BubblewrapSandbox", "bubblewrap_path", "bubblewrap_problem", "bubblewrap_works",
           "BACKENDS", "CgroupHost", "find_cgroups", "sandbox_problem"]

BACKENDS = {"bubblewrap": BubblewrapSandbox, "plain": PlainSandbox}


def sandbox_problem(backend: str) -> str | None:
    """Returns why functions cannot run in `backend` on this host (what to do included), or
    None when they can."""
    if backend != "bubblewrap":
        return None
    problem = bubblewrap_problem()
    if problem is None:
        return None
    return (f"Functions cannot run: the bubblewrap sandbox does not work on this host "
            f"({problem}). Install bubblewrap (apt-get install bubblewrap) and allow "
            "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on "
            "Ubuntu 24.04 and later also kernel.apparmor_restrict_unprivileged_userns=0), or "
            "choose the plain backend explicitly with FLOWBENCH_SANDBOX=plain, which isolates "
            "functions far less.")
