"""The Design mode's model and the position-tracking JSON parser, tested in Node (node --test)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_asl_model_and_json_positions_pass_their_node_tests():
    result = subprocess.run(["node", "--test", str(HERE / "asl-model.test.mjs")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
