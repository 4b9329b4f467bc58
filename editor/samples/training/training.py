"""One drill of the youth football training system (축구 유소년 자동 훈련 시스템).

Each training function of the state machine runs this module with its own DRILL setting; the player
passes through, with the drill appended to the list of what they have done.
"""

import json
import os

DRILLS = {
    "attack": {"name": "공격 훈련", "minutes": 40, "focus": ["finishing", "runs in behind", "1v1 attacking"]},
    "passing": {"name": "패스 훈련", "minutes": 35, "focus": ["short passing", "switching play", "first touch"]},
    "defence": {"name": "수비 훈련", "minutes": 40, "focus": ["jockeying", "tackling", "defensive shape"]},
    "free-kick": {"name": "프리킥 훈련", "minutes": 25, "focus": ["technique over the wall", "placement"]},
    "ball-contest": {"name": "볼 경합 훈련", "minutes": 30, "focus": ["aerial duels", "shielding", "second balls"]},
}


def lambda_handler(event, context):
    drill_id = os.environ["DRILL"]
    drill = DRILLS[drill_id]
    player = event if isinstance(event, dict) else {"input": event}
    done = list(player.get("trainings", []))
    done.append({"drill": drill["name"], "minutes": drill["minutes"], "focus": drill["focus"]})
    total = sum(item["minutes"] for item in done)
    print(json.dumps({"drill": drill["name"], "position": player.get("TraningType"), "minutes": drill["minutes"]},
                     ensure_ascii=False))
    return {**player, "trainings": done, "totalMinutes": total, "lastDrill": drill["name"]}
