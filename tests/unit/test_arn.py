"""runtime.arn: the one reader of function references and Task resources, and the ARN builders."""

from __future__ import annotations

import pytest

import runtime
from runtime import arn
from runtime.arn import (Activity, FunctionRef, Integration, execution_arn, function_arn, map_run_arn,
                         parse_function, parse_resource, state_machine_arn, state_machine_name)


@pytest.mark.parametrize("text, name, qualifier", [
    ("echo", "echo", None),
    ("echo:7", "echo", "7"),
    ("echo:$LATEST", "echo", "$LATEST"),
    ("echo:live", "echo", "live"),
    ("111111111111:function:echo", "echo", None),
    ("111111111111:function:echo:prod", "echo", "prod"),
    ("arn:aws:lambda:us-east-1:111111111111:function:echo", "echo", None),
    ("arn:aws:lambda:us-east-1:111111111111:function:echo:$LATEST", "echo", "$LATEST"),
    ("arn:aws-cn:lambda:cn-north-1:111111111111:function:echo:3", "echo", "3"),
])
def test_a_name_a_partial_arn_and_an_arn_give_the_function_and_its_qualifier(text, name,
                                                                              qualifier):
    found = parse_function(text)
    assert (found.name, found.qualifier) == (name, qualifier)


def test_a_full_arn_says_where_the_function_lives():
    assert parse_function("arn:aws:lambda:eu-west-1:111111111111:function:echo") == FunctionRef(
        "echo", None, "eu-west-1", "111111111111", "aws")


@pytest.mark.parametrize("text", ["", "has space", "echo:a:b", "echo:bad qualifier", None, 5,
                                  "arn:aws:lambda:us-east-1:111111111111:function:",
                                  "arn:aws:states:::lambda:invoke"])
def test_what_lambda_would_not_read_as_a_function_is_none(text):
    assert parse_function(text) is None


@pytest.mark.parametrize("text, expected", [
    ("arn:aws:states:::lambda:invoke", Integration("lambda", "invoke")),
    ("arn:aws:states:::lambda:invoke.waitForTaskToken",
     Integration("lambda", "invoke", ".waitForTaskToken")),
    ("arn:aws:states:::states:startExecution.sync:2",
     Integration("states", "startExecution", ".sync:2")),
    ("arn:aws:states:::aws-sdk:s3:getObject", Integration("aws-sdk", "s3:getObject")),
    ("arn:aws:states:us-east-1:111111111111:activity:review",
     Activity("review", "us-east-1", "111111111111")),
    ("arn:aws:lambda:us-east-1:111111111111:function:echo:2",
     FunctionRef("echo", "2", "us-east-1", "111111111111")),
])
def test_a_task_resource_is_a_function_an_integration_or_an_activity(text, expected):
    assert parse_resource(text) == expected


@pytest.mark.parametrize("text", ["echo", "arn:aws:sqs:us-east-1:1:queue", "arn:aws:states:::lambda",
                                  None, {"Resource": 1}])
def test_any_other_resource_is_none(text):
    assert parse_resource(text) is None


def test_the_builders_write_the_arns_aws_writes():
    assert function_arn("echo", "us-east-1", "111111111111") == \
        "arn:aws:lambda:us-east-1:111111111111:function:echo"
    assert function_arn("echo", "us-east-1", "111111111111", "3").endswith(":function:echo:3")
    assert state_machine_arn("flow", "us-east-1", "111111111111") == \
        "arn:aws:states:us-east-1:111111111111:stateMachine:flow"
    assert execution_arn("flow", "run", "us-east-1", "111111111111") == \
        "arn:aws:states:us-east-1:111111111111:execution:flow:run"
    assert execution_arn("flow", "run", "us-east-1", "111111111111", "x") == \
        "arn:aws:states:us-east-1:111111111111:express:flow:run:x"


def test_a_distributed_maps_children_run_the_state_machine_named_after_its_label():
    assert state_machine_name("flow") == "flow"
    assert state_machine_name("flow", "Fan") == "flow/Fan"
    assert state_machine_arn("flow", "us-east-1", "111111111111", "Fan") == \
        "arn:aws:states:us-east-1:111111111111:stateMachine:flow/Fan"
    assert execution_arn("flow", "child", "us-east-1", "111111111111", label="Fan") == \
        "arn:aws:states:us-east-1:111111111111:execution:flow/Fan:child"
    assert execution_arn("flow", "child", "us-east-1", "111111111111", "x", "Fan") == \
        "arn:aws:states:us-east-1:111111111111:express:flow/Fan:child:x"
    assert map_run_arn("flow", "Fan", "id", "us-east-1", "111111111111") == \
        "arn:aws:states:us-east-1:111111111111:mapRun:flow/Fan:id"


def test_a_built_function_arn_reads_back():
    assert parse_function(function_arn("echo", "us-east-1", "111111111111", "prod")) == FunctionRef(
        "echo", "prod", "us-east-1", "111111111111")


def test_the_runtime_package_exports_the_arn_names():
    assert sorted(arn.__all__) == sorted([
        "FunctionRef", "Integration", "Activity", "parse_function", "parse_resource",
        "function_arn", "state_machine_name", "state_machine_arn", "execution_arn", "map_run_arn"])
    assert sorted(runtime.__all__) == sorted(arn.__all__)
    for name in runtime.__all__:
        assert getattr(runtime, name) is getattr(arn, name)
