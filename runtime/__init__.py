"""Flowbench's runtime: the States Language engine (`asl`), the function runner (`functions`) and
the bridge between them (`tasks`). Pure Python; it imports nothing from Django or `editor`."""
