"""State machines, their versions and aliases, validation and tags."""

from __future__ import annotations


class MachineOperations:
    pass
