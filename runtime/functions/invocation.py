"""The result of one invocation (`Invocation`) and the log lines Lambda frames it with."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["Invocation", "FunctionError", "TooManyRequestsException", "SandboxUnavailable",
           "report_line", "service_error"]


class FunctionError(Exception):
    """Base of the errors the runner raises instead of running a function."""


class TooManyRequestsException(FunctionError):
    """The function already runs as many invocations as its concurrency allows (HTTP 429)."""

    error_type = "TooManyRequestsException"


class SandboxUnavailable(FunctionError):
    """The chosen sandbox does not work on this host, so no function runs; the message says
    why and what to do. Lambda calls a failure of its own service a ServiceException."""

    error_type = "ServiceException"


@dataclass
class Invocation:
    """What one invocation of a function did, as the Lambda console shows it.

    `payload` is the function's response decoded from JSON (a handler that returns raw bytes
    which are not JSON gives their text), or None when `error` is set. `error` is Lambda's error
    object `{"errorType", "errorMessage", "stackTrace"}`. `logs` is the whole log text from
    START to REPORT. Times are in milliseconds, memory in MB; `init_ms` is None when a warm
    worker ran the invocation.
    """

    request_id: str
    payload: Any = None
    error: dict | None = None
    logs: str = ""
    duration_ms: float = 0.0
    billed_ms: int = 0
    memory_mb: int = 128
    max_memory_mb: int = 0
    init_ms: float | None = None
    function_name: str = ""
    version: str = "$LATEST"
    runtime: str = ""                 # the runtime id that actually ran it (see runtimes.py)
    backend: str = ""                 # "bubblewrap" or "plain"
    raw_payload: bytes = b""          # the response bytes exactly as the function gave them
    timed_out: bool = False
    log_lines: list = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """Returns whether the function returned a response (no error)."""
        return self.error is None

    def to_dict(self) -> dict:
        """Returns the invocation as plain JSON-ready data (for storing or sending)."""
        return {"requestId": self.request_id, "payload": self.payload, "error": self.error,
                "logs": self.logs, "durationMs": self.duration_ms, "billedMs": self.billed_ms,
                "memoryMb": self.memory_mb, "maxMemoryMb": self.max_memory_mb,
                "initMs": self.init_ms, "functionName": self.function_name,
                "version": self.version, "runtime": self.runtime, "backend": self.backend}


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(inv: Invocation) -> str:
    """Returns Lambda's REPORT line for `inv` (Init Duration only after a cold start)."""
    line = (f"REPORT RequestId: {inv.request_id}\tDuration: {inv.duration_ms:.2f} ms\t"
            f"Billed Duration: {inv.billed_ms} ms\tMemory Size: {inv.memory_mb} MB\t"
            f"Max Memory Used: {inv.max_memory_mb} MB\t")
    if inv.init_ms is not None:
        line += f"Init Duration: {inv.init_ms:.2f} ms\t"
    return line


def billed(duration_ms: float) -> int:
    """Returns the billed duration: Lambda rounds up to the next millisecond."""
    return max(math.ceil(duration_ms), 1)


def timestamp() -> str:
    """Returns the current UTC time as Lambda writes it in log lines."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def runtime_error(request_id: str, error_type: str, detail: str) -> dict:
    """Returns the error object Lambda gives when the runtime itself failed, e.g.
    `Runtime.ExitError` "RequestId: ... Error: Runtime exited with error: exit status 1"."""
    return {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {detail}"}


def timeout_error(request_id: str, seconds: float) -> dict:
    """Returns the error object of an invocation that ran out of time."""
    return runtime_error(request_id, "Sandbox.Timedout",
                         f"Task timed out after {seconds:.2f} seconds")


def error_log_lines(error: dict, family: str, request_id: str) -> list[str]:
    """Returns the lines the AWS runtime of `family` logs for an error the handler raised."""
    if family == "python":
        lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
        if error.get("stackTrace"):
            lines.append("Traceback (most recent call last):")
            lines += "".join(error["stackTrace"]).rstrip("\n").split("\n")
        return lines
    if family == "ruby":
        return ["Error raised from handler method", json.dumps(error)]
    if family == "provided":
        return []   # a custom runtime logs its own errors, as on AWS
    return [f"{timestamp()}\t{request_id}\tERROR\tInvoke Error \t"
            f"{json.dumps(error, separators=(',', ':'))}"]


def service_error(exc: Exception) -> tuple[str, str]:
    """Returns (error type, message) of an error the runner raised instead of running a
    function, named as Lambda's API names it ("TooManyRequestsException", ...)."""
    return getattr(exc, "error_type", type(exc).__name__), str(exc)
