"""The language runtimes installed on this host, named as AWS Lambda names them.

Ids follow Lambda: `python3.11`, `nodejs20.x`. A family name (`python`, `nodejs`) picks the
newest installed version. An id of a version that is not installed (the conformance corpus asks
for `python3.12`) runs on the newest installed version of the same family, and the invocation
reports the id it actually used: a host cannot grow an interpreter on demand, and refusing would
make every recorded case unrunnable. Only interpreters under /usr are used, because the sandbox
binds /usr read-only and nothing else of the host (a pyenv under /root would expose /root).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Runtime", "RuntimeNotAvailable", "available_runtimes", "resolve_runtime"]

BOOTSTRAP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap")
SEARCH_DIRS = ("/usr/bin", "/usr/local/bin")
INSTALL_HINTS = {
    "python": "install Python 3 under /usr (Debian/Ubuntu: apt-get install python3)",
    "nodejs": "install Node.js 18 or newer under /usr (Debian/Ubuntu: apt-get install nodejs)",
}
DEFAULT_HANDLERS = {"python": "lambda_function.lambda_handler", "nodejs": "index.handler"}


class RuntimeNotAvailable(Exception):
    """The requested runtime's language is not installed on this host (message says what to
    install), or the id is not a runtime Flowbench knows."""

    error_type = "InvalidRuntimeException"


@dataclass(frozen=True)
class Runtime:
    """An installed runtime: Lambda id, family, interpreter path and its worker bootstrap."""

    id: str
    family: str
    version: tuple
    executable: str
    bootstrap: str

    @property
    def default_handler(self) -> str:
        """Returns Lambda's default handler for this family."""
        return DEFAULT_HANDLERS[self.family]


def _python_runtimes() -> list[Runtime]:
    found = {}
    for directory in SEARCH_DIRS:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            match = re.fullmatch(r"python3\.(\d+)", name)
            path = os.path.join(directory, name)
            if match and os.access(path, os.X_OK) and name not in found:
                found[name] = Runtime(name, "python", (3, int(match.group(1))), path,
                                      os.path.join(BOOTSTRAP_DIR, "python_worker.py"))
    return list(found.values())


def _node_runtimes() -> list[Runtime]:
    for directory in SEARCH_DIRS:
        path = os.path.join(directory, "node")
        if not os.access(path, os.X_OK):
            continue
        try:
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10,
                                 env={"PATH": "/usr/bin:/bin"}).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        match = re.match(r"v(\d+)\.", out.strip())
        if match and int(match.group(1)) >= 18:
            major = int(match.group(1))
            return [Runtime(f"nodejs{major}.x", "nodejs", (major,), path,
                            os.path.join(BOOTSTRAP_DIR, "node_worker.cjs"))]
    return []


@lru_cache(maxsize=1)
def available_runtimes() -> tuple[Runtime, ...]:
    """Returns the runtimes installed on this host, newest first within each family (probed
    once per process)."""
    runtimes = _python_runtimes() + _node_runtimes()
    return tuple(sorted(runtimes, key=lambda r: (r.family, tuple(-v for v in r.version))))


def resolve_runtime(runtime_id: str) -> Runtime:
    """Returns the installed runtime that runs `runtime_id` (an id or a family name).

    Raises RuntimeNotAvailable when the id is unknown or its family is not installed.
    """
    match = re.fullmatch(r"(python)(3(?:\.\d+)?)?|(nodejs)(\d+\.x)?|(node)", runtime_id or "")
    if not match:
        raise RuntimeNotAvailable(
            f"Runtime {runtime_id!r} is not supported: use python, python3.N, nodejs or nodejsN.x")
    family = "python" if match.group(1) else "nodejs"
    installed = [r for r in available_runtimes() if r.family == family]
    if not installed:
        raise RuntimeNotAvailable(
            f"Runtime {runtime_id} needs {family} on this host: {INSTALL_HINTS[family]}")
    for runtime in installed:
        if runtime.id == runtime_id:
            return runtime
    return installed[0]
