"""Step Functions' executions through the real boto3 and the AWS CLI against a running server:
StartExecution (idempotent as AWS), on a version and on an alias, StartSyncExecution for Express
machines (with the host prefix botocore gives it), DescribeExecution, ListExecutions and its
filters and pages, GetExecutionHistory, StopExecution, RedriveExecution, AWS's errors, and Bob
never finding Alice's executions."""

from __future__ import annotations

import json
import socket

import boto3
from botocore.config import Config

from tests.aws.sfn_support import FAIL, PASS, WAIT, cli, code_of, create, finished, text, unique

CONTEXT = {"StartAt": "Who", "States": {"Who": {"Type": "Pass", "End": True, "Parameters": {
    "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "machine.$": "$$.StateMachine.Id",
    "doubled.$": "States.MathAdd($.n, $.n)"}}}}


def test_an_execution_runs_and_its_history_reads_as_aws_writes_it(aws, alice):
    sfn = aws(alice, "stepfunctions")
    machine = create(sfn, alice)
    name = unique("run")
    started = sfn.start_execution(stateMachineArn=machine, name=name, input='{"who": "Ji-woo"}')
    arn = started["executionArn"]
    assert arn == machine.replace(":stateMachine:", ":execution:") + f":{name}"
    done = finished(sfn, arn)
    assert (done["status"], json.loads(done["output"]), json.loads(done["input"])) == (
        "SUCCEEDED", {"hello": "Ji-woo"}, {"who": "Ji-woo"})
    assert (done["name"], done["stateMachineArn"], done["redriveStatus"]) == (name, machine, "NOT_REDRIVABLE")
    assert "stateMachineVersionArn" not in done and done["stopDate"] >= done["startDate"]

    events = sfn.get_execution_history(executionArn=arn)["events"]
    assert [e["type"] for e in events] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                          "ExecutionSucceeded"]
    assert [e["id"] for e in events] == [1, 2, 3, 4]
    assert json.loads(events[0]["executionStartedEventDetails"]["input"]) == {"who": "Ji-woo"}
    assert events[1]["stateEnteredEventDetails"]["name"] == "Greet"
    assert json.loads(events[3]["executionSucceededEventDetails"]["output"]) == {"hello": "Ji-woo"}
    backwards = sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"]
    assert [e["id"] for e in backwards] == [4, 3, 2, 1]
    bare = sfn.get_execution_history(executionArn=arn, includeExecutionData=False)["events"]
    assert "input" not in bare[0]["executionStartedEventDetails"]
    assert "output" not in bare[3]["executionSucceededEventDetails"]
    first = sfn.get_execution_history(executionArn=arn, maxResults=3)
    rest = sfn.get_execution_history(executionArn=arn, maxResults=3, nextToken=first["nextToken"])
    assert [e["id"] for e in first["events"] + rest["events"]] == [1, 2, 3, 4] and "nextToken" not in rest

    definition = sfn.describe_state_machine_for_execution(executionArn=arn)
    assert json.loads(definition["definition"]) == PASS and definition["stateMachineArn"] == machine


def test_starting_again_is_idempotent_while_it_runs_and_stop_aborts_it(aws, alice):
    sfn = aws(alice, "stepfunctions")
    machine = create(sfn, alice, definition=WAIT)
    name = unique("nap")
    first = sfn.start_execution(stateMachineArn=machine, name=name, input='{"a": 1}')["executionArn"]
    assert sfn.start_execution(stateMachineArn=machine, name=name, input='{"a": 1}')["executionArn"] == first
    assert code_of(lambda: sfn.start_execution(stateMachineArn=machine, name=name, input='{"a": 2}')) \
        == "ExecutionAlreadyExists"
    assert sfn.describe_execution(executionArn=first)["status"] == "RUNNING"
    assert [e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")
            ["executions"]] == [first]

    stopped = sfn.stop_execution(executionArn=first, error="Coach.Said", cause="rain")
    assert stopped["stopDate"]
    done = finished(sfn, first)
    assert (done["status"], done["error"], done["cause"]) == ("ABORTED", "Coach.Said", "rain")
    assert sfn.get_execution_history(executionArn=first, reverseOrder=True)["events"][0]["type"] \
        == "ExecutionAborted"
    assert code_of(lambda: sfn.start_execution(stateMachineArn=machine, name=name, input='{"a": 1}')) \
        == "ExecutionAlreadyExists"
    assert sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"] == []


def test_a_failed_execution_says_why_and_can_be_redriven(aws, alice):
    sfn = aws(alice, "stepfunctions")
    machine = create(sfn, alice, definition=FAIL)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    done = finished(sfn, arn)
    assert (done["status"], done["error"], done["cause"], done["redriveStatus"]) == (
        "FAILED", "Custom.Boom", "on purpose", "REDRIVABLE")
    assert sfn.list_executions(stateMachineArn=machine, redriveFilter="REDRIVEN")["executions"] == []

    assert sfn.redrive_execution(executionArn=arn)["redriveDate"]
    again = finished(sfn, arn)
    assert (again["status"], again["redriveCount"]) == ("FAILED", 1)
    assert [e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine, redriveFilter="REDRIVEN")
            ["executions"]] == [arn]
    assert "ExecutionRedriven" in [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]

    fine = sfn.start_execution(stateMachineArn=create(sfn, alice), input='{"who": "x"}')["executionArn"]
    finished(sfn, fine)
    assert code_of(lambda: sfn.redrive_execution(executionArn=fine)) == "ExecutionNotRedrivable"


def test_versions_and_aliases_choose_what_runs_and_are_reported(aws, alice):
    sfn = aws(alice, "stepfunctions")
    machine = create(sfn, alice, publish=True)
    sfn.update_state_machine(stateMachineArn=machine, definition=text(FAIL), publish=True)
    alias = sfn.create_state_machine_alias(name="stable", routingConfiguration=[
        {"stateMachineVersionArn": f"{machine}:1", "weight": 100}])["stateMachineAliasArn"]

    latest = finished(sfn, sfn.start_execution(stateMachineArn=machine)["executionArn"])
    assert latest["status"] == "FAILED" and "stateMachineVersionArn" not in latest
    # The machine's own ARN runs its latest definition, published or not (as AWS's latest revision).
    sfn.update_state_machine(stateMachineArn=machine, definition=text(PASS))
    draft = finished(sfn, sfn.start_execution(stateMachineArn=machine, input='{"who": "d"}')["executionArn"])
    assert (draft["status"], json.loads(draft["output"])) == ("SUCCEEDED", {"hello": "d"})
    sfn.update_state_machine(stateMachineArn=machine, definition=text(FAIL))
    on_version = finished(sfn, sfn.start_execution(stateMachineArn=f"{machine}:1", input='{"who": "v1"}')
                          ["executionArn"])
    assert (on_version["status"], on_version["stateMachineVersionArn"]) == ("SUCCEEDED", f"{machine}:1")
    assert "stateMachineAliasArn" not in on_version
    on_alias = finished(sfn, sfn.start_execution(stateMachineArn=alias, input='{"who": "a"}')["executionArn"])
    assert (on_alias["status"], on_alias["stateMachineAliasArn"], on_alias["stateMachineVersionArn"]) == (
        "SUCCEEDED", alias, f"{machine}:1")

    assert {e["executionArn"] for e in sfn.list_executions(stateMachineArn=f"{machine}:1")["executions"]} == {
        on_version["executionArn"], on_alias["executionArn"]}
    assert [e["executionArn"] for e in sfn.list_executions(stateMachineArn=alias)["executions"]] == [
        on_alias["executionArn"]]
    assert code_of(lambda: sfn.start_execution(stateMachineArn=f"{machine}:9")) == "ResourceNotFound"

    # The weights decide: a version weighted 0 never runs.
    sfn.update_state_machine_alias(stateMachineAliasArn=alias, routingConfiguration=[
        {"stateMachineVersionArn": f"{machine}:1", "weight": 0}, {"stateMachineVersionArn": f"{machine}:2", "weight": 100}])
    runs = [finished(sfn, sfn.start_execution(stateMachineArn=alias)["executionArn"]) for _ in range(5)]
    assert {(r["status"], r["stateMachineVersionArn"]) for r in runs} == {("FAILED", f"{machine}:2")}


def test_list_executions_pages_newest_first(aws, alice):
    sfn = aws(alice, "stepfunctions")
    machine = create(sfn, alice)
    started = [sfn.start_execution(stateMachineArn=machine, input='{"who": 1}')["executionArn"] for _ in range(5)]
    for arn in started:
        finished(sfn, arn)
    pages = list(sfn.get_paginator("list_executions").paginate(stateMachineArn=machine,
                                                               PaginationConfig={"PageSize": 2}))
    assert [len(p["executions"]) for p in pages] == [2, 2, 1]
    assert [e["executionArn"] for p in pages for e in p["executions"]] == started[::-1]
    assert sfn.list_executions(stateMachineArn=machine, statusFilter="FAILED")["executions"] == []
    assert code_of(lambda: sfn.list_executions(stateMachineArn=machine, nextToken="nope")) == "InvalidToken"


def test_bad_starts_get_aws_errors(server, aws, alice):
    sfn = aws(alice, "stepfunctions")
    machine = create(sfn, alice)
    assert code_of(lambda: sfn.start_execution(stateMachineArn=machine, input="{not json")) \
        == "InvalidExecutionInput"
    assert code_of(lambda: sfn.start_execution(stateMachineArn=machine, name="bad name")) == "InvalidName"
    assert code_of(lambda: sfn.start_execution(stateMachineArn=machine, input=json.dumps(
        {"big": "x" * (256 * 1024)}))) in ("ValidationException", "InvalidExecutionInput")
    assert code_of(lambda: sfn.start_execution(stateMachineArn=machine + "-gone")) == "StateMachineDoesNotExist"
    assert code_of(lambda: sfn.start_execution(stateMachineArn="arn:aws:lambda:us-east-1:1:function:f")) \
        == "InvalidArn"
    gone = machine.replace(":stateMachine:", ":execution:") + ":nobody"
    assert code_of(lambda: sfn.describe_execution(executionArn=gone)) == "ExecutionDoesNotExist"
    assert code_of(lambda: sfn.describe_execution(executionArn=machine)) == "InvalidArn"
    assert code_of(lambda: sfn.list_executions()) == "ValidationException"
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []   # none started: all refused
    assert sfn.list_state_machine_versions(stateMachineArn=machine)["stateMachineVersions"] == []
    # (With an address for endpoint, botocore's "sync-" host prefix is turned off, as the README says.)
    direct = boto3.session.Session(aws_access_key_id=alice["key"], aws_secret_access_key=alice["secret"],
                                   region_name="us-east-1").client(
        "stepfunctions", endpoint_url=server["base"], config=Config(inject_host_prefix=False))
    assert code_of(lambda: direct.start_sync_execution(stateMachineArn=machine)) == "StateMachineTypeNotSupported"


def test_start_sync_execution_returns_the_express_result_and_context(server, aws, alice, monkeypatch):
    # botocore sends StartSyncExecution to "sync-" + the endpoint's host: let that name reach the
    # server as a DNS name with that prefix would (the router must take the prefixed Host).
    resolve = socket.getaddrinfo

    def prefixed(host, *args, **kwargs):
        return resolve(host.removeprefix("sync-") if isinstance(host, str) else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", prefixed)
    sfn = boto3.session.Session(aws_access_key_id=alice["key"], aws_secret_access_key=alice["secret"],
                                region_name="us-east-1").client(
        "stepfunctions", endpoint_url=server["base"], config=Config(retries={"max_attempts": 1}))
    machine = create(sfn, alice, definition=CONTEXT, type="EXPRESS")
    name = unique("quick")
    result = sfn.start_sync_execution(stateMachineArn=machine, name=name, input='{"n": 21}')
    assert result["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-requestid")
    assert result["status"] == "SUCCEEDED"
    arn = result["executionArn"]
    assert arn.startswith(machine.replace(":stateMachine:", ":express:") + f":{name}:")
    assert json.loads(result["output"]) == {"id": arn, "name": name, "machine": machine, "doubled": 42}
    assert json.loads(result["input"]) == {"n": 21}
    assert result["billingDetails"]["billedDurationInMilliseconds"] >= 100
    assert result["billingDetails"]["billedMemoryUsedInMB"] == 64
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    assert "input" not in sfn.start_sync_execution(stateMachineArn=machine, input='{"n": 1}',
                                                   includedData="METADATA_ONLY")

    failing = create(sfn, alice, definition=FAIL, type="EXPRESS")
    failed = sfn.start_sync_execution(stateMachineArn=failing)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Custom.Boom", "on purpose")
    started = sfn.start_execution(stateMachineArn=machine, input='{"n": 2}')["executionArn"]
    assert ":express:" in started
    assert json.loads(finished(sfn, started)["output"])["id"] == started


def test_bob_never_finds_alices_executions(aws, alice, bob):
    mine = aws(alice, "stepfunctions")
    machine = create(mine, alice)
    arn = mine.start_execution(stateMachineArn=machine, input='{"who": "a"}')["executionArn"]
    finished(mine, arn)
    theirs = aws(bob, "stepfunctions")
    for call in (theirs.describe_execution, theirs.get_execution_history, theirs.stop_execution,
                 theirs.redrive_execution, theirs.describe_state_machine_for_execution):
        assert code_of(lambda: call(executionArn=arn)) == "ExecutionDoesNotExist"
    assert code_of(lambda: theirs.list_executions(stateMachineArn=machine)) == "StateMachineDoesNotExist"
    assert code_of(lambda: theirs.describe_execution(executionArn=arn.replace(alice["account"], bob["account"]))) \
        == "ExecutionDoesNotExist"


def test_the_aws_cli_starts_describes_and_reads_the_history(server, alice):
    code, made, err = cli(server, alice, "stepfunctions", "create-state-machine", "--name", unique("cli"),
                          "--definition", text(PASS), "--role-arn",
                          f"arn:aws:iam::{alice['account']}:role/flowbench-sample-role")
    assert code == 0, err
    code, started, err = cli(server, alice, "stepfunctions", "start-execution", "--state-machine-arn",
                             made["stateMachineArn"], "--input", '{"who": "cli"}')
    assert code == 0, err
    arn = started["executionArn"]
    while True:   # the live server's answer is the only way to learn the end
        code, described, err = cli(server, alice, "stepfunctions", "describe-execution", "--execution-arn", arn)
        assert code == 0, err
        if described["status"] != "RUNNING":
            break
    assert json.loads(described["output"]) == {"hello": "cli"}
    code, history, err = cli(server, alice, "stepfunctions", "get-execution-history", "--execution-arn", arn,
                             "--reverse-order")
    assert code == 0, err
    assert history["events"][0]["type"] == "ExecutionSucceeded"
    code, _, err = cli(server, alice, "stepfunctions", "start-sync-execution", "--state-machine-arn",
                       made["stateMachineArn"])
    assert code != 0 and "StateMachineTypeNotSupported" in err


def test_deleting_a_machine_stops_its_running_executions_first(aws, alice):
    sfn = aws(alice, "stepfunctions")
    machine = create(sfn, alice, definition=WAIT)
    running = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    assert sfn.describe_execution(executionArn=running)["status"] == "RUNNING"
    sfn.delete_state_machine(stateMachineArn=machine)
    assert code_of(lambda: sfn.describe_execution(executionArn=running)) == "ExecutionDoesNotExist"
    assert code_of(lambda: sfn.describe_state_machine(stateMachineArn=machine)) == "StateMachineDoesNotExist"


def test_the_studio_shows_what_the_api_started(server, aws, alice):
    from tests.aws.test_iam_sts_live import studio

    sfn = aws(alice, "stepfunctions")
    machine = create(sfn, alice)
    name = machine.rsplit(":", 1)[1]
    arn = sfn.start_execution(stateMachineArn=machine, name="from-boto3", input='{"who": "api"}')["executionArn"]
    finished(sfn, arn)
    pages = studio(server, alice)
    shown = pages.get(f"/api/state-machines/{name}/executions").json()["executions"]
    assert [(e["name"], e["status"]) for e in shown] == [("from-boto3", "SUCCEEDED")]
    detail = pages.get(f"/api/executions/{shown[0]['id']}").json()
    assert json.loads(detail["output"]) == {"hello": "api"}
    events = pages.get(f"/api/executions/{shown[0]['id']}/events").json()
    history = sfn.get_execution_history(executionArn=arn)["events"]
    assert len(events["events"]) == len(history)


def test_the_seeds_machine_runs_its_functions_and_its_history_has_their_events(aws, fresh):
    sfn = aws(fresh, "stepfunctions")
    machine = f"arn:aws:states:us-east-1:{fresh['account']}:stateMachine:youth-football-training"
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"TraningType": "공격수"},
                                                                        ensure_ascii=False))["executionArn"]
    done = finished(sfn, arn, within=120)
    assert done["status"] == "SUCCEEDED", done
    events = sfn.get_execution_history(executionArn=arn)["events"]
    scheduled = [e for e in events if e["type"] == "LambdaFunctionScheduled"]
    assert len(scheduled) == 2
    details = scheduled[0]["lambdaFunctionScheduledEventDetails"]
    assert details["resource"] == f"arn:aws:lambda:us-east-1:{fresh['account']}:function:attack-training"
    assert json.loads(details["input"]) == {"TraningType": "공격수"}
    assert [e["type"] for e in events].count("LambdaFunctionSucceeded") == 2
    bare = sfn.get_execution_history(executionArn=arn, includeExecutionData=False)["events"]
    assert "input" not in next(e for e in bare if e["type"] == "LambdaFunctionScheduled")[
        "lambdaFunctionScheduledEventDetails"]


def test_a_page_of_executions_is_not_shifted_by_executions_started_meanwhile(aws, alice):
    import base64

    sfn = aws(alice, "stepfunctions")
    machine = create(sfn, alice)
    older = [sfn.start_execution(stateMachineArn=machine, input='{"who": 1}')["executionArn"] for _ in range(4)]
    first = sfn.list_executions(stateMachineArn=machine, maxResults=2)
    newer = sfn.start_execution(stateMachineArn=machine, input='{"who": 2}')["executionArn"]
    rest = sfn.list_executions(stateMachineArn=machine, maxResults=2, nextToken=first["nextToken"])
    listed = [e["executionArn"] for e in first["executions"] + rest["executions"]]
    assert listed == older[::-1] and newer not in listed
    forged = base64.urlsafe_b64encode(b'{"after": ["not a date", "x"]}').decode()
    assert code_of(lambda: sfn.list_executions(stateMachineArn=machine, nextToken=forged)) == "InvalidToken"
    for arn in older + [newer]:
        finished(sfn, arn)
