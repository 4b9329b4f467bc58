"""The Design mode's model and the position-tracking JSON parser, tested in Node (node --test)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_the_asl_model_and_json_positions_pass_their_node_tests():
    # Node.js is a requirement of Flowbench (Node.js functions), installed by `make test`.
    assert shutil.which("node"), "Node.js is not installed"
    result = subprocess.run(["node", "--test", str(HERE / "asl-model.test.mjs")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
