"""The seed document's football-training state machine, read from the seed itself."""

from __future__ import annotations

import json
from pathlib import Path

SEED_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "seed"

# The seed's placeholder Resources, in state order, become these functions' ARNs.
TRAINING_FUNCTIONS = {
    "공격 훈련": "attack-training",
    "패스 훈련": "passing-training",
    "수비 훈련": "defence-training",
    "프리킥 훈련": "free-kick-training",
    "볼 경합 훈련": "ball-contest-training",
}
ROUTES = {
    "공격수": ["공격 훈련", "볼 경합 훈련"],
    "미드필더": ["패스 훈련", "프리킥 훈련"],
    "수비수": ["수비 훈련", "볼 경합 훈련"],
}


def seed_definition_text() -> str:
    """Returns the state machine JSON exactly as the seed prints it (section 4.4)."""
    text = next(SEED_DIR.glob("000_*.txt")).read_text(encoding="utf-8")
    start = text.index("{", text.index("4.4"))
    depth = 0
    for end in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            return text[start:end + 1]
    raise ValueError("the seed's definition has no end")


def seed_definition(account: str = "123456789012", region: str = "us-east-1") -> dict:
    """Returns the seed's machine with each Task's placeholder Resource replaced by the ARN of its
    training function."""
    definition = json.loads(seed_definition_text())
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            state["Resource"] = (f"arn:aws:lambda:{region}:{account}:function:"
                                 f"{TRAINING_FUNCTIONS[name]}")
    return definition
