"""EventBridge Scheduler through the real boto3 against a running server: every operation, AWS's
errors (ValidationException naming the member and, for cron, the field and character;
ConflictException; ResourceNotFoundException), targets and roles checked, one person never seeing
another's schedules, and schedules that fire on the server's own clock: a function gets an
Invocation, a state machine an Execution with the input."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.aws import lambda_kit
from tests.integration.cluster import ApiClient, wait_until
from tests.live_server import new_person

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["lambda:InvokeFunction", "states:StartExecution"], "Resource": "*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


@pytest.fixture(scope="module")
def crew(aws, server):
    """A person with an echo function, a state machine and a role allowed to start both."""
    person = new_person(server["env"], f"sched-{uuid.uuid4().hex[:6]}")
    function = lambda_kit.create(aws, person)
    iam = aws(person, "iam")
    role = iam.create_role(RoleName="scheduler-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="scheduler-role", PolicyName="start", PolicyDocument=POLICY)
    machine = aws(person, "stepfunctions").create_state_machine(
        name="scheduled", definition=PASS, roleArn=f"arn:aws:iam::{person['account']}:role/flowbench-sample-role"
    )["stateMachineArn"]
    return {**person, "function": function["FunctionArn"], "function_name": function["FunctionName"],
            "role": role, "machine": machine}


def target(crew, kind="function", **more):
    return {"Arn": crew[kind], "RoleArn": crew["role"], **more}


def error_of(call) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    found = caught.value.response
    return found["ResponseMetadata"]["HTTPStatusCode"], found["Error"]["Code"], found["Error"]["Message"]


def name(prefix="s") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_a_schedule_goes_through_create_get_list_update_and_delete(aws, crew):
    client = aws(crew, "scheduler")
    first = name("crud")
    created = client.create_schedule(
        Name=first, ScheduleExpression="cron(0 9 ? * MON-FRI *)", ScheduleExpressionTimezone="Europe/Paris",
        Description="weekday mornings", FlexibleTimeWindow={"Mode": "OFF"},
        StartDate=datetime(2030, 1, 1, tzinfo=timezone.utc), EndDate=datetime(2031, 1, 1, tzinfo=timezone.utc),
        Target=target(crew, Input='{"hello": "world"}', RetryPolicy={"MaximumRetryAttempts": 2,
                                                                      "MaximumEventAgeInSeconds": 600}))
    arn = f"arn:aws:scheduler:us-east-1:{crew['account']}:schedule/default/{first}"
    assert created["ScheduleArn"] == arn
    got = client.get_schedule(Name=first)
    assert (got["Arn"], got["GroupName"], got["State"], got["ScheduleExpressionTimezone"], got["Description"]) == (
        arn, "default", "ENABLED", "Europe/Paris", "weekday mornings")
    assert got["Target"] == target(crew, Input='{"hello": "world"}',
                                   RetryPolicy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600})
    assert got["StartDate"] == datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert got["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert got["ActionAfterCompletion"] == "NONE"

    second = name("crud")
    client.create_schedule(Name=second, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
                           State="DISABLED", Target=target(crew, "machine"))
    listed = client.list_schedules(NamePrefix="crud-")["Schedules"]
    assert {s["Name"] for s in listed} == {first, second}
    assert [s["Name"] for s in client.list_schedules(NamePrefix="crud-", State="DISABLED")["Schedules"]] == [second]
    page = client.list_schedules(NamePrefix="crud-", MaxResults=1)
    assert len(page["Schedules"]) == 1 and page["NextToken"]
    rest = client.list_schedules(NamePrefix="crud-", MaxResults=1, NextToken=page["NextToken"])
    assert {page["Schedules"][0]["Name"], rest["Schedules"][0]["Name"]} == {first, second}
    assert listed[0]["Target"]["Arn"] in (crew["function"], crew["machine"])
    paginated = [s["Name"] for p in client.get_paginator("list_schedules").paginate(NamePrefix="crud-",
                                                                                  PaginationConfig={"PageSize": 1})
                 for s in p["Schedules"]]
    assert sorted(paginated) == sorted([first, second])

    # UpdateSchedule replaces everything: what it leaves out goes back to its default.
    client.update_schedule(Name=first, ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow={"Mode": "OFF"},
                           Target=target(crew, "machine"))
    updated = client.get_schedule(Name=first)
    assert (updated["ScheduleExpression"], updated["Target"], updated.get("Description"), updated.get("StartDate"),
            updated["ScheduleExpressionTimezone"]) == ("rate(5 minutes)", target(crew, "machine"), None, None, "UTC")

    client.delete_schedule(Name=first)
    client.delete_schedule(Name=second)
    status, code, _ = error_of(lambda: client.get_schedule(Name=first))
    assert (status, code) == (404, "ResourceNotFoundException")
    assert client.list_schedules(NamePrefix="crud-")["Schedules"] == []


def test_the_errors_are_awss(aws, crew):
    client = aws(crew, "scheduler")
    taken = name("dup")
    client.create_schedule(Name=taken, ScheduleExpression="rate(1 day)", FlexibleTimeWindow={"Mode": "OFF"},
                           Target=target(crew))
    status, code, _ = error_of(lambda: client.create_schedule(
        Name=taken, ScheduleExpression="rate(1 day)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target(crew)))
    assert (status, code) == (409, "ConflictException")

    def create(**members):
        arguments = {"Name": name("bad"), "ScheduleExpression": "rate(1 day)", "FlexibleTimeWindow": {"Mode": "OFF"},
                     "Target": target(crew), **members}
        return error_of(lambda: client.create_schedule(**arguments))

    status, code, message = create(ScheduleExpression="cron(0 9 ? * 8 *)")
    assert (status, code) == (400, "ValidationException")
    assert "ScheduleExpression" in message and "field 5 (day-of-week)" in message and "character 14" in message
    _, code, message = create(ScheduleExpression="cron(0 9 * * MON *)")
    assert code == "ValidationException" and "'?'" in message
    _, code, message = create(ScheduleExpression="rate(5 fortnights)")
    assert code == "ValidationException" and "fortnights" in message
    _, code, message = create(ScheduleExpressionTimezone="Mars/Olympus")
    assert code == "ValidationException" and "ScheduleExpressionTimezone" in message
    _, code, message = create(Target=target(crew, Input="{not json"))
    assert code == "ValidationException" and "Target.Input" in message and "line 1" in message
    _, code, message = create(FlexibleTimeWindow={"Mode": "FLEXIBLE"})
    assert code == "ValidationException" and "MaximumWindowInMinutes" in message
    _, code, message = create(Target=target(crew, RoleArn=f"arn:aws:iam::{crew['account']}:role/nobody"))
    assert code == "ValidationException" and "Target.RoleArn" in message
    _, code, message = create(StartDate=datetime(2031, 1, 1, tzinfo=timezone.utc),
                              EndDate=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert code == "ValidationException" and "EndDate" in message
    _, code, message = create(StartDate=datetime.now(timezone.utc) - timedelta(minutes=10))
    assert code == "ValidationException" and "cannot be earlier than 5 minutes ago" in message
    status, code, _ = error_of(lambda: client.update_schedule(
        Name=name("missing"), ScheduleExpression="rate(1 day)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target(crew)))
    assert (status, code) == (404, "ResourceNotFoundException")
    status, code, _ = error_of(lambda: client.get_schedule(Name=taken, GroupName="no-such-group"))
    assert (status, code) == (404, "ResourceNotFoundException")
    status, code, _ = error_of(lambda: client.delete_schedule(Name=name("missing")))
    assert (status, code) == (404, "ResourceNotFoundException")
    client.delete_schedule(Name=taken)


def test_a_role_that_does_not_allow_the_target_is_refused(aws, crew):
    iam = aws(crew, "iam")
    narrow = name("narrow")
    arn = iam.create_role(RoleName=narrow, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName=narrow, PolicyName="only-lambda", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}))
    status, code, message = error_of(lambda: aws(crew, "scheduler").create_schedule(
        Name=name(), ScheduleExpression="rate(1 day)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": crew["machine"], "RoleArn": arn}))
    assert (status, code) == (400, "ValidationException")
    assert "states:StartExecution" in message


def test_another_persons_schedules_and_targets_stay_out_of_reach(aws, crew, bob):
    mine = name("private")
    aws(crew, "scheduler").create_schedule(Name=mine, ScheduleExpression="rate(1 day)",
                                           FlexibleTimeWindow={"Mode": "OFF"}, Target=target(crew))
    theirs = aws(bob, "scheduler")
    assert mine not in [s["Name"] for s in theirs.list_schedules()["Schedules"]]
    assert error_of(lambda: theirs.get_schedule(Name=mine))[1] == "ResourceNotFoundException"
    assert error_of(lambda: theirs.delete_schedule(Name=mine))[1] == "ResourceNotFoundException"
    bobs_role = f"arn:aws:iam::{bob['account']}:role/flowbench-sample-role"
    _, code, message = error_of(lambda: theirs.create_schedule(
        Name=name(), ScheduleExpression="rate(1 day)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": crew["function"], "RoleArn": bobs_role}))
    assert code == "ValidationException" and "Target.Arn" in message
    assert aws(crew, "scheduler").get_schedule(Name=mine)["Name"] == mine
    aws(crew, "scheduler").delete_schedule(Name=mine)


def test_schedule_groups_hold_schedules_and_go_with_them(aws, crew):
    client = aws(crew, "scheduler")
    group = name("team")
    assert client.create_schedule_group(Name=group)["ScheduleGroupArn"] == (
        f"arn:aws:scheduler:us-east-1:{crew['account']}:schedule-group/{group}")
    assert error_of(lambda: client.create_schedule_group(Name=group))[1] == "ConflictException"
    names = [g["Name"] for g in client.list_schedule_groups()["ScheduleGroups"]]
    assert "default" in names and group in names
    assert client.get_schedule_group(Name=group)["State"] == "ACTIVE"
    inside = name("grouped")
    arn = client.create_schedule(Name=inside, GroupName=group, ScheduleExpression="rate(1 day)",
                                 FlexibleTimeWindow={"Mode": "OFF"}, Target=target(crew))["ScheduleArn"]
    assert arn.endswith(f":schedule/{group}/{inside}")
    assert [s["Name"] for s in client.list_schedules(GroupName=group)["Schedules"]] == [inside]
    assert error_of(lambda: client.get_schedule(Name=inside))[1] == "ResourceNotFoundException"   # not in default
    client.delete_schedule_group(Name=group)
    assert error_of(lambda: client.get_schedule(Name=inside, GroupName=group))[1] == "ResourceNotFoundException"
    assert error_of(lambda: client.delete_schedule_group(Name="default"))[1] == "ValidationException"


def test_unsigned_requests_to_the_schedulers_paths_get_awss_refusal_and_the_page_is_the_studios(server):
    refused = httpx.get(f"{server['base']}/schedules")
    assert refused.status_code == 403
    assert refused.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    page = httpx.get(f"{server['base']}/scheduler/")
    assert page.status_code == 302 and "/login/" in page.headers["location"]


def _soon(seconds: int) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


def test_a_schedule_fires_a_state_machine_with_its_input(aws, crew):
    client = aws(crew, "scheduler")
    once = name("once")
    client.create_schedule(Name=once, ScheduleExpression=f"at({_soon(3)})", FlexibleTimeWindow={"Mode": "OFF"},
                           ActionAfterCompletion="DELETE", Target=target(crew, "machine", Input='{"from": "schedule"}'))
    sfn = aws(crew, "stepfunctions")
    def mine():
        return [e for e in sfn.list_executions(stateMachineArn=crew["machine"])["executions"]
                if e["name"].startswith(f"{once}-")]   # the schedule's executions are named after it

    started = wait_until(mine, 30, "the schedule's execution")
    assert len(started) == 1
    described = sfn.describe_execution(executionArn=started[0]["executionArn"])
    assert json.loads(described["input"]) == {"from": "schedule"}
    # DELETE after completion: the one-time schedule is gone once it fired.
    wait_until(lambda: once not in [s["Name"] for s in client.list_schedules()["Schedules"]], 10,
               "the fired at() schedule to be deleted")


def test_a_schedule_invokes_a_function_and_the_studio_shows_the_fire(aws, crew, server):
    client = aws(crew, "scheduler")
    once = name("invoke")
    client.create_schedule(Name=once, ScheduleExpression=f"at({_soon(3)})", FlexibleTimeWindow={"Mode": "OFF"},
                           Target=target(crew, Input='{"tick": true}'))
    studio = ApiClient(server["base"], crew["name"]).sign_in(crew["link"])
    try:
        def fired():
            found = studio.ok("GET", f"/api/schedules/default/{once}")
            return found["fires"] and found

        wait_until(fired, 30, "the schedule's fire")
        # Read again: the schedule and its fires are two reads, and the first one seen may have
        # read the schedule just before the fire committed.
        shown = studio.ok("GET", f"/api/schedules/default/{once}")
        fire = shown["fires"][0]
        assert fire["error"] is None and fire["invocation"]
        assert shown["next_runs"] == []
        invocation = wait_until(lambda: (lambda i: i["status"] != "running" and i)(studio.ok(
            "GET", f"/api/functions/{crew['function_name']}/invocations/{fire['invocation']}")), 60,
            "the scheduled invocation to end")
        assert invocation["status"] == "succeeded", invocation
        assert json.loads(json.dumps(invocation["request"])) == {"tick": True}
    finally:
        studio.close()


def test_the_aws_cli_creates_lists_and_deletes_a_schedule(server, crew):
    from tests.aws.sfn_support import cli

    called = name("cli")
    code, created, error = cli(server, crew, "scheduler", "create-schedule", "--name", called,
                               "--schedule-expression", "cron(15 10 ? * 6L 2030-2032)",
                               "--schedule-expression-timezone", "Asia/Seoul",
                               "--flexible-time-window", "Mode=OFF",
                               "--target", json.dumps(target(crew, Input='{"via": "cli"}')))
    assert code == 0, error
    assert created["ScheduleArn"].endswith(f":schedule/default/{called}")
    code, listed, error = cli(server, crew, "scheduler", "list-schedules", "--name-prefix", called)
    assert code == 0, error
    assert [s["Name"] for s in listed["Schedules"]] == [called]
    code, _, error = cli(server, crew, "scheduler", "create-schedule", "--name", name("cli"),
                         "--schedule-expression", "cron(15 10 ? * 6L)", "--flexible-time-window", "Mode=OFF",
                         "--target", json.dumps(target(crew)))
    assert code != 0 and "ValidationException" in error and "6 fields" in error
    code, _, error = cli(server, crew, "scheduler", "delete-schedule", "--name", called)
    assert code == 0, error
