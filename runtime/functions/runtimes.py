"""The language runtimes installed on this host, named as AWS Lambda names them.

Ids follow Lambda: `python3.11`, `nodejs20.x`, `ruby3.1`, `provided.al2023`. A family name (`python`, `nodejs`) picks the
newest installed version. An id of a version that is not installed (the conformance corpus asks
for `python3.12`) runs on the newest installed version of the same family, and the invocation
reports the id it actually used: a host cannot grow an interpreter on demand, and refusing would
make every recorded case unrunnable. Only interpreters under /usr are used, because the sandbox
binds /usr read-only and nothing else of the host (a pyenv under /root would expose /root).

Ruby comes from the Debian package (`/usr/bin/ruby`); its id names the installed version
(`ruby3.1` on Debian 12), and AWS's ids (`ruby3.3`, `ruby3.4`) run on it. The custom runtimes
(`provided.al2023`, `provided.al2`) run the function's own `bootstrap` executable; their worker
is runtime_api.py (under the system Python) which serves that bootstrap the Lambda Runtime API
inside the sandbox.
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
    "ruby": "install Ruby 3 under /usr (Debian/Ubuntu: apt-get install ruby)",
    "provided": "install Python 3 under /usr (Debian/Ubuntu: apt-get install python3): it serves "
                "the Runtime API to the bootstrap",
}
DEFAULT_HANDLERS = {"python": "lambda_function.lambda_handler", "nodejs": "index.handler",
                    "ruby": "function.handler", "provided": "function.handler"}
# The custom runtimes' ids, as Lambda has them (the OS part means nothing here: the sandbox
# gives every runtime this host's /usr).
PROVIDED_IDS = ("provided.al2023", "provided.al2")


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


def _ruby_runtimes() -> list[Runtime]:
    for directory in SEARCH_DIRS:
        path = os.path.join(directory, "ruby")
        if not os.access(path, os.X_OK):
            continue
        try:
            out = subprocess.run([path, "--disable-gems", "-e", "print RUBY_VERSION"],
                                 capture_output=True, text=True, timeout=10,
                                 env={"PATH": "/usr/bin:/bin"}).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        match = re.match(r"(\d+)\.(\d+)\.", out.strip())
        if match and int(match.group(1)) >= 3:
            major, minor = int(match.group(1)), int(match.group(2))
            return [Runtime(f"ruby{major}.{minor}", "ruby", (major, minor), path,
                            os.path.join(BOOTSTRAP_DIR, "ruby_worker.rb"))]
    return []


def _provided_runtimes(python: list[Runtime]) -> list[Runtime]:
    """The custom runtimes, served by the newest system Python (none without one)."""
    if not python:
        return []
    newest = max(python, key=lambda r: r.version)
    return [Runtime(runtime_id, "provided", (2023,) if runtime_id.endswith("2023") else (2,),
                    newest.executable, os.path.join(BOOTSTRAP_DIR, "runtime_api.py"))
            for runtime_id in PROVIDED_IDS]


@lru_cache(maxsize=1)
def available_runtimes() -> tuple[Runtime, ...]:
    """Returns the runtimes installed on this host, newest first within each family (probed
    once per process)."""
    python = _python_runtimes()
    runtimes = python + _node_runtimes() + _ruby_runtimes() + _provided_runtimes(python)
    return tuple(sorted(runtimes, key=lambda r: (r.family, tuple(-v for v in r.version))))


def resolve_runtime(runtime_id: str) -> Runtime:
    """Returns the installed runtime that runs `runtime_id` (an id or a family name).

    Raises RuntimeNotAvailable when the id is unknown or its family is not installed.
    """
    match = re.fullmatch(r"(python)(3(?:\.\d+)?)?|(nodejs)(\d+\.x)?|(node)|(ruby)(3(?:\.\d+)?)?"
                         r"|(provided)(\.al2023|\.al2)?", runtime_id or "")
    if not match:
        raise RuntimeNotAvailable(
            f"Runtime {runtime_id!r} is not supported: use python, python3.N, nodejs, nodejsN.x, "
            "ruby, ruby3.N, provided.al2023 or provided.al2")
    family = ("python" if match.group(1) else "ruby" if match.group(6)
              else "provided" if match.group(8) else "nodejs")
    installed = [r for r in available_runtimes() if r.family == family]
    if not installed:
        raise RuntimeNotAvailable(
            f"Runtime {runtime_id} needs {family} on this host: {INSTALL_HINTS[family]}")
    for runtime in installed:
        if runtime.id == runtime_id:
            return runtime
    return installed[0]
