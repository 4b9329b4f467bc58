"""Benchmarks of Flowbench's runtime: scripts that print figures, not tests (`python -m bench`)."""
