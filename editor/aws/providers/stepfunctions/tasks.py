"""Task tokens: the answers a .waitForTaskToken task waits for."""

from __future__ import annotations


class TaskOperations:
    pass
