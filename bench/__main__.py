"""Runs every benchmark of the package in turn: `python -m bench [options of each]`."""

import importlib
import importlib.util
import sys

BENCHMARKS = ("asl", "functions")


def main(argv: list[str]) -> int:
    """Runs each benchmark module present; returns the worst of their exit codes."""
    worst = 0
    for name in BENCHMARKS:
        if importlib.util.find_spec(f"bench.{name}") is None:
            continue
        print(f"== bench.{name}")
        worst = max(worst, importlib.import_module(f"bench.{name}").main(argv) or 0)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
