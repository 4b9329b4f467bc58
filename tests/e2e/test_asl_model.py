"""The Design mode's model and the position-tracking JSON parser, tested in Node (node --test)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from runtime.asl.choice_operators import page_table

HERE = Path(__file__).resolve().parent


def test_the_asl_model_and_json_positions_pass_their_node_tests(tmp_path):
    # Node.js is a requirement of Flowbench (Node.js functions), installed by `make test`.
    assert shutil.which("node"), "Node.js is not installed"
    # The model gets its Choice operators from the engine's table, as the machine page gives them.
    table = tmp_path / "choice-operators.json"
    table.write_text(json.dumps(page_table()), encoding="utf-8")
    result = subprocess.run(["node", "--test", str(HERE / "asl-model.test.mjs")],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "CHOICE_OPERATORS_JSON": str(table)})
    assert result.returncode == 0, result.stdout + result.stderr
