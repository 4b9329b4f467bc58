"""The pages' small helpers, tested in Node (node --test)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_the_page_helpers_pass_their_node_tests():
    assert shutil.which("node"), "Node.js is not installed"
    result = subprocess.run(["node", "--test", str(HERE / "ui.test.mjs")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
