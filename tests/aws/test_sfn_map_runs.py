"""Distributed Map runs through the real boto3 client against the live server: ListMapRuns finds a
parent's runs (the ARNs its history names), DescribeMapRun counts their items, ListExecutions lists
a run's children (and a machine's own executions without them) under AWS's ARNs for them
(execution:MACHINE/LABEL:NAME, running the state machine MACHINE/LABEL), which find each child for
DescribeExecution (naming its run), GetExecutionHistory and DescribeStateMachineForExecution (its
Map's item processor, label and run) and are its context object's ids; UpdateMapRun raises a
running run's concurrency and lowers its tolerance; AWS's errors for malformed and unknown ARNs
(a child's under any other form), settings out of range and an ended run; Bob never finding
Alice's runs, and a role session reaching each operation only through its own action."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws.sfn_support import code_of, create, finished
from tests.aws.test_function_urls import session_of
from tests.integration.cluster import wait_until

DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}


def distributed(states: dict, start_at: str, **fields) -> dict:
    return {"Type": "Map", **fields, "ItemProcessor": {"ProcessorConfig": DISTRIBUTED, "StartAt": start_at,
                                                       "States": states}}


# Two Distributed Maps, one after the other: Fan (a Label, two children at a time) doubles each n,
# Again (no Label, no limit) keeps what Fan gave.
TWO_RUNS = {"StartAt": "Fan", "States": {
    "Fan": {**distributed({"Double": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, $.n)"},
                                      "End": True}}, "Double", Label="Fan", MaxConcurrency=2), "Next": "Again"},
    "Again": {**distributed({"Keep": {"Type": "Pass", "End": True}}, "Keep"), "End": True}}}
ITEMS = [{"n": n} for n in range(5)]
# Each child waits ten minutes, parked (nothing sleeps): it runs until it is stopped. One at a time,
# one failure tolerated.
HOLD = {"StartAt": "Each", "States": {"Each": {
    **distributed({"Nap": {"Type": "Wait", "Seconds": 600, "End": True}}, "Nap", MaxConcurrency=1,
                  ToleratedFailureCount=1), "End": True}}}


def counts(**given) -> dict:
    """DescribeMapRun's itemCounts (and executionCounts): zero but for `given`."""
    return {**dict.fromkeys(("pending", "running", "succeeded", "failed", "timedOut", "aborted", "total",
                             "resultsWritten", "failuresNotRedrivable", "pendingRedrive"), 0), **given}


def all_pages(call, key: str, **params) -> list:
    """Returns every item of a nextToken listing read two at a time."""
    found, token = [], None
    while True:
        page = call(**params, maxResults=2, **({"nextToken": token} if token else {}))
        found += page[key]
        token = page.get("nextToken")
        if token is None:
            return found


def child_arn(machine: str, label: str, name: str) -> str:
    """Returns the ARN AWS gives a Distributed Map's child: execution:MACHINE/LABEL:NAME."""
    return f"{machine.replace(':stateMachine:', ':execution:')}/{label}:{name}"


def refused(call) -> dict:
    """Returns the error of a call AWS refuses (its response, with the modeled members)."""
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


@pytest.fixture(scope="module")
def fan_out(aws, alice):
    """Alice's machine with two Distributed Maps, run to its end: (client, machine ARN, parent ARN,
    {"Fan": its run's ARN, "Again": its run's ARN} as the parent's history names them)."""
    sfn = aws(alice, "stepfunctions")
    machine = create(sfn, alice, definition=TWO_RUNS)
    parent = sfn.start_execution(stateMachineArn=machine, input=json.dumps(ITEMS))["executionArn"]
    done = finished(sfn, parent)
    assert done["status"] == "SUCCEEDED", done.get("cause")
    assert json.loads(done["output"]) == [{"n": 2 * n} for n in range(5)]
    started = [event["mapRunStartedEventDetails"]["mapRunArn"]
               for event in sfn.get_execution_history(executionArn=parent)["events"]
               if event["type"] == "MapRunStarted"]
    return sfn, machine, parent, dict(zip(("Fan", "Again"), started))


def test_list_map_runs_finds_the_runs_and_describe_map_run_counts_their_items(fan_out):
    sfn, machine, parent, runs = fan_out
    name = machine.rsplit(":", 1)[1]
    assert f":mapRun:{name}/Fan:" in runs["Fan"] and f":mapRun:{name}/Again:" in runs["Again"]
    listed = sfn.list_map_runs(executionArn=parent)["mapRuns"]
    # The newest first, under the ARNs the history gave them, each naming the state machine its
    # children run (MACHINE/LABEL).
    assert [run["mapRunArn"] for run in listed] == [runs["Again"], runs["Fan"]]
    assert [run["stateMachineArn"] for run in listed] == [f"{machine}/Again", f"{machine}/Fan"]
    assert all(run["executionArn"] == parent and run["stopDate"] >= run["startDate"] for run in listed)
    assert [run["mapRunArn"] for run in all_pages(sfn.list_map_runs, "mapRuns", executionArn=parent)] \
        == [runs["Again"], runs["Fan"]]

    fan = sfn.describe_map_run(mapRunArn=runs["Fan"])
    assert (fan["mapRunArn"], fan["executionArn"], fan["status"]) == (runs["Fan"], parent, "SUCCEEDED")
    assert (fan["maxConcurrency"], fan["toleratedFailureCount"], fan["toleratedFailurePercentage"],
            fan["redriveCount"]) == (2, 0, 0.0, 0)
    assert fan["itemCounts"] == fan["executionCounts"] == counts(succeeded=5, total=5, resultsWritten=5)
    assert fan["stopDate"] >= fan["startDate"]
    again = sfn.describe_map_run(mapRunArn=runs["Again"])
    assert (again["status"], again["maxConcurrency"], again["itemCounts"]["succeeded"]) == ("SUCCEEDED", 0, 5)


def test_list_executions_lists_a_runs_children_and_a_machine_only_its_own(fan_out):
    sfn, machine, parent, runs = fan_out
    children = {}
    for label, run in runs.items():
        listed = sfn.list_executions(mapRunArn=run)["executions"]
        assert {(c["mapRunArn"], c["itemCount"], c["status"], c["stateMachineArn"]) for c in listed} \
            == {(run, 1, "SUCCEEDED", f"{machine}/{label}")}
        # Each child's ARN names the state machine it runs: execution:MACHINE/LABEL:NAME.
        assert all(c["executionArn"] == child_arn(machine, label, c["name"]) for c in listed)
        children[label] = [c["executionArn"] for c in listed]
        assert sorted(c["executionArn"] for c in all_pages(sfn.list_executions, "executions", mapRunArn=run)) \
            == sorted(children[label])
        assert len(sfn.list_executions(mapRunArn=run, statusFilter="SUCCEEDED")["executions"]) == 5
        assert sfn.list_executions(mapRunArn=run, statusFilter="FAILED")["executions"] == []
    # Exactly each run's children: one per item, each with its item as its input, naming its run.
    for label, items in (("Fan", range(5)), ("Again", range(0, 10, 2))):
        described = [sfn.describe_execution(executionArn=arn) for arn in children[label]]
        assert sorted(json.loads(d["input"])["n"] for d in described) == list(items)
        assert {d["mapRunArn"] for d in described} == {runs[label]}
    assert "mapRunArn" not in sfn.describe_execution(executionArn=parent)
    # The machine's own listing leaves the ten children out, as AWS does.
    own = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [e["executionArn"] for e in own] == [parent] and "mapRunArn" not in own[0]
    assert code_of(lambda: sfn.list_executions(stateMachineArn=machine, mapRunArn=runs["Fan"])) \
        == "ValidationException"
    assert code_of(lambda: sfn.list_executions()) == "ValidationException"


def test_each_child_is_found_by_its_arn_and_runs_its_maps_item_processor(fan_out):
    sfn, machine, parent, runs = fan_out
    name = machine.rsplit(":", 1)[1]
    for label, run in runs.items():
        processor = TWO_RUNS["States"][label]["ItemProcessor"]
        for child in sfn.list_executions(mapRunArn=run)["executions"]:
            arn = child["executionArn"]
            described = sfn.describe_execution(executionArn=arn)
            assert (described["executionArn"], described["stateMachineArn"], described["name"], described["status"],
                    described["mapRunArn"]) == (arn, f"{machine}/{label}", child["name"], "SUCCEEDED", run)
            events = sfn.get_execution_history(executionArn=arn)["events"]
            assert (events[0]["type"], events[-1]["type"]) == ("ExecutionStarted", "ExecutionSucceeded")
            # The state machine it ran: the Map's item processor, as the Map's label names it.
            ran = sfn.describe_state_machine_for_execution(executionArn=arn)
            assert (ran["stateMachineArn"], ran["name"], ran["label"], ran["mapRunArn"]) \
                == (f"{machine}/{label}", f"{name}/{label}", label, run)
            definition = json.loads(ran["definition"])
            assert (definition["StartAt"], definition["States"]) == (processor["StartAt"], processor["States"])
            assert ran["roleArn"].endswith(":role/flowbench-sample-role") and ran["revisionId"]
    own = sfn.describe_state_machine_for_execution(executionArn=parent)
    assert (own["stateMachineArn"], own["name"], json.loads(own["definition"])) == (machine, name, TWO_RUNS)
    assert "label" not in own and "mapRunArn" not in own


def test_a_child_has_one_arn_and_malformed_ones_are_invalid(fan_out):
    sfn, machine, parent, runs = fan_out
    child = sfn.list_executions(mapRunArn=runs["Fan"])["executions"][0]
    arn, name = child["executionArn"], child["name"]
    executions = machine.replace(":stateMachine:", ":execution:")
    by_arn = (sfn.describe_execution, sfn.get_execution_history, sfn.describe_state_machine_for_execution,
              sfn.stop_execution, sfn.redrive_execution, sfn.list_map_runs)
    # Found by its own ARN only: a finished child stops no further, and is not redrivable.
    assert sfn.stop_execution(executionArn=arn)["stopDate"] >= child["startDate"]
    assert code_of(lambda: sfn.redrive_execution(executionArn=arn)) == "ExecutionNotRedrivable"
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    assert sfn.list_map_runs(executionArn=arn)["mapRuns"] == []
    # Not under the form of the machine's own executions, nor another label; the parent has no
    # label. A Map state's name may hold '/', so more slashes read as a label no run has.
    for other in (f"{executions}:{name}", child_arn(machine, "Again", name),
                  child_arn(machine, "Fan", parent.rsplit(":", 1)[1]), child_arn(machine, "Fan/x", name)):
        for call in by_arn:
            assert code_of(lambda: call(executionArn=other)) == "ExecutionDoesNotExist", (call, other)
    # An empty or overlong label, no name, a label after the machine's colon: no execution's ARN.
    for bad in (f"{executions}/:{name}", child_arn(machine, "L" * 81, name), f"{executions}/Fan",
                f"{executions}:x/Fan:{name}"):
        for call in by_arn:
            assert code_of(lambda: call(executionArn=bad)) == "InvalidArn", (call, bad)


def test_an_unlabelled_maps_children_are_named_after_its_state_and_their_context_says_so(aws, alice):
    """No Label: the state's name labels the run, ':' and '/' included; the children's
    $$.Execution.Id and $$.StateMachine.Id are the ARNs the API lists them by."""
    sfn = aws(alice, "stepfunctions")
    state = "Split: a/b"
    ids = {"Ids": {"Type": "Pass", "End": True, "Parameters": {"id.$": "$$.Execution.Id",
                                                                "machine.$": "$$.StateMachine.Id"}}}
    machine = create(sfn, alice, definition={"StartAt": state, "States": {state: {**distributed(ids, "Ids"),
                                                                                  "End": True}}})
    parent = sfn.start_execution(stateMachineArn=machine, input=json.dumps([1, 2, 3]))["executionArn"]
    done = finished(sfn, parent)
    assert done["status"] == "SUCCEEDED", done.get("cause")
    [run] = sfn.list_map_runs(executionArn=parent)["mapRuns"]
    assert run["stateMachineArn"] == f"{machine}/{state}"
    children = sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]
    assert sorted(c["executionArn"] for c in children) == sorted(child_arn(machine, state, c["name"]) for c in children)
    assert sorted((c["executionArn"], c["stateMachineArn"]) for c in children) \
        == sorted((ran["id"], ran["machine"]) for ran in json.loads(done["output"]))
    for child in children:
        assert sfn.describe_state_machine_for_execution(executionArn=child["executionArn"])["label"] == state


def test_update_map_run_raises_a_running_runs_concurrency_and_lowers_its_tolerance(aws, alice):
    sfn = aws(alice, "stepfunctions")
    machine = create(sfn, alice, definition=HOLD)
    parent = sfn.start_execution(stateMachineArn=machine, input=json.dumps(list(range(6))))["executionArn"]
    run = wait_until(lambda: sfn.list_map_runs(executionArn=parent)["mapRuns"], 60, "the Map Run")[0]["mapRunArn"]

    def running(n: int) -> list:
        return wait_until(lambda: len(found := sfn.list_executions(mapRunArn=run, statusFilter="RUNNING")
                                      ["executions"]) == n and found, 60, f"{n} children running")

    running(1)
    described = sfn.describe_map_run(mapRunArn=run)
    assert (described["status"], described["maxConcurrency"], described["toleratedFailureCount"]) == ("RUNNING", 1, 1)
    assert described["itemCounts"] == counts(pending=5, running=1, total=6) and "stopDate" not in described

    sfn.update_map_run(mapRunArn=run, maxConcurrency=3)
    three = running(3)
    described = sfn.describe_map_run(mapRunArn=run)
    assert (described["maxConcurrency"], described["itemCounts"]) == (3, counts(pending=3, running=3, total=6))

    # A tolerance past any count of items (AWS's model allows 64 bits) is stored as the largest
    # count every database holds, which means the same.
    sfn.update_map_run(mapRunArn=run, toleratedFailureCount=2**40)
    assert sfn.describe_map_run(mapRunArn=run)["toleratedFailureCount"] == 2**31 - 1

    # A stopped child is a failure the run tolerates: the next item takes its place.
    stopped = three[0]["executionArn"]
    sfn.stop_execution(executionArn=stopped)
    wait_until(lambda: sfn.describe_map_run(mapRunArn=run)["itemCounts"]
               == counts(pending=2, running=3, aborted=1, total=6), 60, "a fourth child in the stopped one's place")
    assert [e["executionArn"] for e in sfn.list_executions(mapRunArn=run, statusFilter="ABORTED")["executions"]] \
        == [stopped]

    # Tolerating no failure now, the run fails at once and stops its children; so does the parent.
    sfn.update_map_run(mapRunArn=run, toleratedFailureCount=0)
    assert sfn.describe_map_run(mapRunArn=run)["status"] == "FAILED"
    assert finished(sfn, parent)["status"] == "FAILED"
    wait_until(lambda: sfn.list_executions(mapRunArn=run, statusFilter="RUNNING")["executions"] == [], 60,
               "the children to stop")
    ended = sfn.describe_map_run(mapRunArn=run)
    assert ended["itemCounts"] == counts(pending=2, aborted=4, total=6) and ended["stopDate"] >= ended["startDate"]
    assert ended["toleratedFailureCount"] == 0

    late = refused(lambda: sfn.update_map_run(mapRunArn=run, maxConcurrency=6))
    assert (late["Error"]["Code"], late.get("reason")) == ("ValidationException", "CANNOT_UPDATE_COMPLETED_MAP_RUN")
    assert sfn.describe_map_run(mapRunArn=run)["maxConcurrency"] == 3


def test_bad_map_run_arns_and_settings_get_awss_errors(fan_out, aws, alice):
    sfn, machine, parent, runs = fan_out
    unknown = f"{runs['Fan'].rsplit(':', 1)[0]}:{uuid.uuid4()}"
    assert code_of(lambda: sfn.describe_map_run(mapRunArn="not-an-arn")) == "InvalidArn"
    assert code_of(lambda: sfn.describe_map_run(mapRunArn=parent)) == "InvalidArn"
    assert code_of(lambda: sfn.describe_map_run(mapRunArn=runs["Fan"].rsplit("/", 1)[0])) == "InvalidArn"
    assert code_of(lambda: sfn.list_map_runs(executionArn=runs["Fan"])) == "InvalidArn"
    assert code_of(lambda: sfn.describe_map_run(mapRunArn=unknown)) == "ResourceNotFound"
    assert code_of(lambda: sfn.update_map_run(mapRunArn=unknown, maxConcurrency=1)) == "ResourceNotFound"
    assert code_of(lambda: sfn.list_executions(mapRunArn=unknown)) == "ResourceNotFound"
    assert code_of(lambda: sfn.list_map_runs(executionArn=f"{parent}x")) == "ExecutionDoesNotExist"

    unchecked = aws(alice, "stepfunctions", validate=False)
    for setting, value in (("maxConcurrency", -1), ("toleratedFailurePercentage", 101.0),
                           ("toleratedFailureCount", -1)):
        error = refused(lambda: unchecked.update_map_run(mapRunArn=runs["Fan"], **{setting: value}))["Error"]
        assert error["Code"] == "ValidationException" and f"at '{setting}' failed to satisfy" in error["Message"]
    late = refused(lambda: sfn.update_map_run(mapRunArn=runs["Fan"], maxConcurrency=1))
    assert (late["Error"]["Code"], late.get("reason")) == ("ValidationException", "CANNOT_UPDATE_COMPLETED_MAP_RUN")
    assert sfn.describe_map_run(mapRunArn=runs["Fan"])["maxConcurrency"] == 2


def test_bob_never_finds_alices_map_runs(fan_out, aws, alice, bob):
    sfn, machine, parent, runs = fan_out
    theirs = aws(bob, "stepfunctions")
    # Alice's ARN, and the same run under Bob's own account.
    for arn in (runs["Fan"], runs["Fan"].replace(f":{alice['account']}:", f":{bob['account']}:")):
        assert code_of(lambda: theirs.describe_map_run(mapRunArn=arn)) == "ResourceNotFound"
        assert code_of(lambda: theirs.update_map_run(mapRunArn=arn, maxConcurrency=9)) == "ResourceNotFound"
        assert code_of(lambda: theirs.list_executions(mapRunArn=arn)) == "ResourceNotFound"
    assert code_of(lambda: theirs.list_map_runs(executionArn=parent)) == "ExecutionDoesNotExist"
    assert sfn.describe_map_run(mapRunArn=runs["Fan"])["maxConcurrency"] == 2


def test_a_role_session_reaches_each_map_run_operation_only_through_its_own_action(server, fan_out, aws, alice):
    sfn, machine, parent, runs = fan_out
    run = runs["Fan"]

    def client(policy: list) -> object:
        found = session_of(server, aws, alice, {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": action, "Resource": resource} for action, resource in policy]})
        session = boto3.session.Session(aws_access_key_id=found["key"], aws_secret_access_key=found["secret"],
                                        aws_session_token=found["token"], region_name="us-east-1")
        return session.client("stepfunctions", endpoint_url=server["base"], config=Config(retries={"max_attempts": 1}))

    def denied(call) -> bool:
        return refused(call)["Error"]["Code"] == "AccessDeniedException"

    reader = client([("states:DescribeMapRun", run), ("states:ListMapRuns", parent)])
    assert reader.describe_map_run(mapRunArn=run)["status"] == "SUCCEEDED"
    assert len(reader.list_map_runs(executionArn=parent)["mapRuns"]) == 2
    assert denied(lambda: reader.list_executions(mapRunArn=run))
    assert denied(lambda: reader.update_map_run(mapRunArn=run, maxConcurrency=1))

    lister = client([("states:ListExecutions", run), ("states:UpdateMapRun", run)])
    assert len(lister.list_executions(mapRunArn=run)["executions"]) == 5
    # Allowed to update, it meets the run's own refusal: the run has ended.
    assert refused(lambda: lister.update_map_run(mapRunArn=run, maxConcurrency=1)).get("reason") \
        == "CANNOT_UPDATE_COMPLETED_MAP_RUN"
    assert denied(lambda: lister.describe_map_run(mapRunArn=run))
    assert denied(lambda: lister.list_map_runs(executionArn=parent))
