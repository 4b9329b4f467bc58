"""Starting points for a new state machine, and the seed's youth football training machine.

Every template is a definition that validates; Task resources name the install's account and
region through `{arn}` (the function ARN prefix), filled in when a machine is created from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from editor.samples import HERE

SEED_ACCOUNT_PREFIX = "arn:aws:lambda:us-east-1:123456789012:function:"


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    description: str
    definition: dict


def _seed() -> dict:
    return json.loads(HERE.joinpath("state-machines", "youth-football-training.json").read_text(encoding="utf-8"))


def seed_text() -> str:
    """Returns the seed machine's definition text exactly as shipped (Korean names, `$.TraningType`)."""
    return HERE.joinpath("state-machines", "youth-football-training.json").read_text(encoding="utf-8")


TEMPLATES = [
    Template("blank", "Blank", "One Pass state: start from nothing.", {
        "Comment": "A blank state machine",
        "StartAt": "Pass",
        "States": {"Pass": {"Type": "Pass", "End": True}},
    }),
    Template("hello-world", "Hello world", "Pass, Wait and Succeed, with a result and a path.", {
        "Comment": "Hello world",
        "StartAt": "Greeting",
        "States": {
            "Greeting": {"Type": "Pass", "Result": {"message": "Hello from Flowbench!"},
                         "ResultPath": "$.greeting", "Next": "Wait a second"},
            "Wait a second": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }),
    Template("choice", "Choice", "Branch on a value of the input, with a default.", {
        "Comment": "Choose a branch from the input",
        "StartAt": "Which size?",
        "States": {
            "Which size?": {"Type": "Choice", "Choices": [
                {"Variable": "$.size", "NumericGreaterThan": 10, "Next": "Large"},
                {"Variable": "$.size", "NumericLessThanEquals": 10, "Next": "Small"},
            ], "Default": "Unknown"},
            "Large": {"Type": "Pass", "Result": "large", "ResultPath": "$.verdict", "End": True},
            "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.verdict", "End": True},
            "Unknown": {"Type": "Fail", "Error": "UnknownSize", "Cause": "The input has no numeric size."},
        },
    }),
    Template("parallel", "Parallel", "Two branches on the same input; the result is both outputs.", {
        "Comment": "Run two branches at once",
        "StartAt": "Both",
        "States": {
            "Both": {"Type": "Parallel", "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "Result": "left", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "Result": "right", "End": True}}},
            ], "End": True},
        },
    }),
    Template("map", "Map", "Run the same steps for every item of a list.", {
        "Comment": "Process every item",
        "StartAt": "Each item",
        "States": {
            "Each item": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 4,
                          "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Double",
                                            "States": {"Double": {"Type": "Pass", "Parameters": {
                                                "value.$": "States.MathAdd($, $)"}, "End": True}}},
                          "End": True},
        },
    }),
    Template("retry-and-catch", "Retry and catch", "A Task that retries twice, then falls back.", {
        "Comment": "Call a function; retry its failures, then catch them",
        "StartAt": "Call function",
        "States": {
            "Call function": {
                "Type": "Task", "Resource": "{arn}hello",
                "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 2,
                           "BackoffRate": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handle failure"}],
                "Next": "Done",
            },
            "Handle failure": {"Type": "Pass", "Result": "handled", "ResultPath": "$.recovered", "End": True},
            "Done": {"Type": "Succeed"},
        },
    }),
    Template("seed", "Youth football training", "The seed's 축구 유소년 자동 훈련 시스템: a Choice on "
             "$.TraningType and one Task per drill.", _seed()),
]

BY_ID = {template.id: template for template in TEMPLATES}
