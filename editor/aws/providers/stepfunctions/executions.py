"""Executions: start (asynchronous and Express's synchronous), describe, list, stop, redrive, history."""

from __future__ import annotations


class ExecutionOperations:
    pass
