"""Runs every benchmark of the package in turn: `python -m bench [options of each]`."""

import importlib
import sys

BENCHMARKS = ("asl", "functions", "live", "load", "api", "starts", "http", "websocket", "logs")


def main(argv: list[str]) -> int:
    """Runs each benchmark in turn; returns the worst of their exit codes."""
    worst = 0
    for name in BENCHMARKS:
        print(f"== bench.{name}")
        worst = max(worst, importlib.import_module(f"bench.{name}").main(argv) or 0)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
