"""Sandbox backends that run function workers: bubblewrap namespaces, or a plain process."""

from .base import InitFailed, Sandbox, SandboxSettings, WorkerReply
from .bubblewrap import BubblewrapSandbox, bubblewrap_path, bubblewrap_works
from .plain import PlainSandbox

__all__ = ["Sandbox", "SandboxSettings", "WorkerReply", "InitFailed", "PlainSandbox",
           "BubblewrapSandbox", "bubblewrap_path", "bubblewrap_works", "BACKENDS"]

BACKENDS = {"bubblewrap": BubblewrapSandbox, "plain": PlainSandbox}
