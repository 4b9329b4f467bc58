"""What a function is: its runtime, handler, code and configuration (`FunctionSpec`)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

__all__ = ["FunctionSpec", "InvalidFunctionSpec", "file_content"]


def file_content(value) -> tuple[bytes, bool]:
    """Returns (bytes, executable) of one code file as a spec holds it: text (str), bytes, or the
    stored form of a file that is binary or executable, {"base64": ...} or {"text": ...} with
    "executable": true when its mode has the x bit (a custom runtime's `bootstrap`)."""
    if isinstance(value, str):
        return value.encode(), False
    if isinstance(value, dict):
        if "base64" in value:
            data = base64.b64decode(value["base64"])
        else:
            data = str(value.get("text", "")).encode()
        return data, bool(value.get("executable"))
    return bytes(value), False


class InvalidFunctionSpec(ValueError):
    """A FunctionSpec holds a value Lambda would refuse (bad name, path, timeout or memory)."""


@dataclass(frozen=True)
class FunctionSpec:
    """One version of a function, as deployed: everything a worker needs to run it.

    `files` maps relative paths (subdirectories allowed, e.g. "lib/util.py") to their text,
    bytes, or stored form (see `file_content`: binary, executable). `version` is the Lambda version ("$LATEST" or "1", "2", ...); together with a hash of
    the code and configuration it names the warm workers, so a redeploy never reuses old ones.
    `timeout` is in seconds, `memory` in MB (as Lambda: 128..10240), `tmp_mb` the size of /tmp.
    `packages` is the host path of the version's installed dependencies (runtime.functions.
    packages: `python/` or `nodejs/node_modules/` inside), mounted read-only; "" for none.
    `layers` the host path of its layers merged (runtime.functions.layers), mounted read-only
    at /opt where the sandbox can; "" for none.
    `namespace` keeps apart functions that share a name but not an owner (two users' "hello"):
    it is part of the workers' identity and of the concurrency count, and the function never
    sees it (its name, ARN and log group are its own `name`).
    """

    name: str
    runtime: str = "python"
    handler: str = ""
    files: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    timeout: float = 3
    memory: int = 128
    version: str = "$LATEST"
    network: bool = True
    reserved_concurrency: int | None = None
    tmp_mb: int = 512
    namespace: str = ""
    # The execution role's identity (its ARN or id: a role's workers are its own) and what gives
    # a new worker that role's temporary credentials: a callable returning (environment
    # variables, expiry as a Unix time), called at each cold start; a worker is replaced before
    # they expire (runner.py).
    role: str = ""
    credentials: Callable[[], tuple[dict, float]] | None = field(default=None, compare=False, repr=False)
    packages: str = ""
    layers: str = ""

    def __post_init__(self):
        if not self.name or "/" in self.name or ":" in self.name:
            raise InvalidFunctionSpec(f"Invalid function name {self.name!r}")
        if "/" in self.namespace or ":" in self.namespace:
            raise InvalidFunctionSpec(f"Invalid function namespace {self.namespace!r}")
        if not 0 < self.timeout <= 900:
            raise InvalidFunctionSpec("Timeout must be between 1 second and 900 seconds")
        if not 128 <= self.memory <= 10240:
            raise InvalidFunctionSpec("MemorySize must be between 128 MB and 10240 MB")
        if self.reserved_concurrency is not None and self.reserved_concurrency < 0:
            raise InvalidFunctionSpec("ReservedConcurrentExecutions must be 0 or more")
        for path in self.files:
            parts = path.split("/")
            if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
                raise InvalidFunctionSpec(f"Invalid code file path {path!r}")
        for key in self.env:
            if not key or "=" in key or "\0" in key:
                raise InvalidFunctionSpec(f"Invalid environment variable name {key!r}")

    @cached_property
    def code_sha256(self) -> str:
        """Returns the hex SHA-256 of the code files, stable across dict order."""
        digest = hashlib.sha256()
        for path in sorted(self.files):
            data, executable = file_content(self.files[path])
            digest.update(path.encode() + (b"\0x" if executable else b"\0") +
                          str(len(data)).encode() + b"\0" + data)
        return digest.hexdigest()

    @property
    def function_key(self) -> str:
        """Returns the identity of the function (all its versions): its namespace and name."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @cached_property
    def version_key(self) -> str:
        """Returns the identity of this version's warm workers: namespace, name, version and a
        hash of the code and of every setting a running worker depends on."""
        config = json.dumps([self.runtime, self.handler, self.env, self.timeout, self.memory,
                             self.network, self.tmp_mb, self.role, self.packages, self.layers], sort_keys=True, default=str)
        digest = hashlib.sha256((self.code_sha256 + config).encode()).hexdigest()[:16]
        return f"{self.function_key}:{self.version}:{digest}"
