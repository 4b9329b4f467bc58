"""The seed's examples: the Attack on Titan team picker (Node.js) and one Python function per drill
of the youth football training state machine. Loaded on first run and by `manage.py load_samples`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _read(*parts: str) -> str:
    return HERE.joinpath(*parts).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Sample:
    id: str
    title: str
    description: str
    runtime: str
    handler: str
    files: dict
    test_events: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    timeout: int = 3
    memory: int = 128


TEAM_PICKER = Sample(
    id="team-picker", title="Attack on Titan team picker",
    description="13 Attack on Titan characters: 4 random teams of 3, 1 left out",
    runtime="nodejs", handler="index.handler", files={"index.js": _read("team-picker", "index.js")},
    test_events={"draw": {"round": 1}},
)

_TRAININGS = [
    ("attack", "attack-training", "공격 훈련", "공격수"),
    ("passing", "passing-training", "패스 훈련", "미드필더"),
    ("defence", "defence-training", "수비 훈련", "수비수"),
    ("free-kick", "free-kick-training", "프리킥 훈련", "미드필더"),
    ("ball-contest", "ball-contest-training", "볼 경합 훈련", "공격수"),
]

TRAININGS = [
    Sample(
        id=function_name, title=f"{korean} ({drill} training)",
        description=f"{korean}: youth football training, {drill} drill",
        runtime="python", handler="training.lambda_handler",
        files={"training.py": _read("training", "training.py")}, env={"DRILL": drill},
        test_events={"player": {"TraningType": position, "player": "민준"}},
    )
    for drill, function_name, korean, position in _TRAININGS
]

ALL = [TEAM_PICKER, *TRAININGS]
BY_ID = {sample.id: sample for sample in ALL}
