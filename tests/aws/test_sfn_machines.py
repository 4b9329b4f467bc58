"""Step Functions' state machines through the real boto3 and the AWS CLI against a running server:
create / describe / update / delete, versions, aliases, validation, tags, pagination, AWS's errors,
and Bob never finding Alice's machines whatever ARN he gives."""

from __future__ import annotations

import json

from tests.aws.sfn_support import FAIL, PASS, SAMPLE_ROLE, cli, code_of, create, role_arn, text, unique

SAMPLE_MACHINE = "youth-football-training"


def test_a_new_person_lists_the_seeds_sample_machine(aws, fresh):
    listed = aws(fresh, "stepfunctions").list_state_machines()["stateMachines"]
    assert [m["name"] for m in listed] == [SAMPLE_MACHINE]
    assert listed[0]["stateMachineArn"] == f"arn:aws:states:us-east-1:{fresh['account']}:stateMachine:{SAMPLE_MACHINE}"
    assert listed[0]["type"] == "STANDARD"


def test_a_machine_goes_through_create_describe_update_and_delete(aws, alice):
    sfn = aws(alice, "stepfunctions")
    name = unique()
    created = sfn.create_state_machine(name=name, definition=text(PASS), roleArn=role_arn(alice),
                                       loggingConfiguration={"level": "OFF"}, tags=[{"key": "team", "value": "u12"}])
    arn = created["stateMachineArn"]
    assert arn == f"arn:aws:states:us-east-1:{alice['account']}:stateMachine:{name}"
    assert "stateMachineVersionArn" not in created
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert (described["name"], described["status"], described["type"], described["roleArn"]) == (
        name, "ACTIVE", "STANDARD", role_arn(alice))
    assert json.loads(described["definition"]) == PASS
    assert described["loggingConfiguration"]["level"] == "OFF"

    changed = {"StartAt": "Only", "States": {"Only": {"Type": "Succeed"}}}
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=text(changed), publish=True,
                                       versionDescription="second")
    assert updated["stateMachineVersionArn"].startswith(arn + ":")
    assert updated["revisionId"] == sfn.describe_state_machine(stateMachineArn=arn)["revisionId"]
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == changed
    version = sfn.describe_state_machine(stateMachineArn=updated["stateMachineVersionArn"])
    assert (json.loads(version["definition"]), version["description"]) == (changed, "second")

    sfn.delete_state_machine(stateMachineArn=arn)
    assert code_of(lambda: sfn.describe_state_machine(stateMachineArn=arn)) == "StateMachineDoesNotExist"
    assert name not in [m["name"] for m in sfn.list_state_machines()["stateMachines"]]


def test_creating_again_is_idempotent_and_a_different_definition_is_refused(aws, alice):
    sfn = aws(alice, "stepfunctions")
    name = unique()
    first = sfn.create_state_machine(name=name, definition=text(PASS), roleArn=role_arn(alice))
    again = sfn.create_state_machine(name=name, definition=text(PASS), roleArn=role_arn(alice))
    assert again["stateMachineArn"] == first["stateMachineArn"]
    assert code_of(lambda: sfn.create_state_machine(name=name, definition=text(FAIL), roleArn=role_arn(alice))) \
        == "StateMachineAlreadyExists"


def test_bad_input_gets_aws_errors_and_creates_nothing(aws, alice):
    sfn = aws(alice, "stepfunctions")
    name = unique()
    broken = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
    try:
        sfn.create_state_machine(name=name, definition=text(broken), roleArn=role_arn(alice))
    except sfn.exceptions.InvalidDefinition as refused:
        assert "MISSING_TRANSITION_TARGET" in str(refused) and "/States/A/Next" in str(refused)
    else:
        raise AssertionError("an invalid definition was accepted")
    assert code_of(lambda: sfn.create_state_machine(name="has space", definition=text(PASS),
                                                    roleArn=role_arn(alice))) == "InvalidName"
    assert code_of(lambda: sfn.create_state_machine(name=name, definition=text(PASS),
                                                    roleArn="not-an-arn")) == "InvalidArn"
    assert code_of(lambda: sfn.create_state_machine(name=name, definition=text(PASS),
                                                    roleArn=f"arn:aws:iam::{alice['account']}:role/none")) \
        == "AccessDeniedException"
    assert code_of(lambda: sfn.create_state_machine(
        name=name, definition=text(PASS), roleArn=role_arn(alice), loggingConfiguration={"level": "ALL"})) \
        == "InvalidLoggingConfiguration"
    assert code_of(lambda: sfn.create_state_machine(name=name, definition=text(PASS), roleArn=role_arn(alice),
                                                    versionDescription="no publish")) == "ValidationException"
    unchecked = aws(alice, "stepfunctions", validate=False)
    assert code_of(lambda: unchecked.create_state_machine(name=name, definition=text(PASS))) \
        == "ValidationException"
    assert name not in [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert code_of(lambda: sfn.describe_state_machine(
        stateMachineArn=f"arn:aws:states:us-east-1:{alice['account']}:execution:x:y")) == "InvalidArn"
    assert code_of(lambda: sfn.update_state_machine(
        stateMachineArn=f"arn:aws:states:us-east-1:{alice['account']}:stateMachine:{SAMPLE_MACHINE}")) \
        == "MissingRequiredParameter"


def test_versions_are_published_listed_described_and_deleted(aws, alice):
    sfn = aws(alice, "stepfunctions")
    draft = create(sfn, alice)
    assert sfn.list_state_machine_versions(stateMachineArn=draft)["stateMachineVersions"] == []
    revision = sfn.describe_state_machine(stateMachineArn=draft)["revisionId"]
    assert sfn.publish_state_machine_version(stateMachineArn=draft, revisionId=revision)[
        "stateMachineVersionArn"] == f"{draft}:1"
    assert sfn.describe_state_machine(stateMachineArn=f"{draft}:1")["revisionId"] == revision

    arn = create(sfn, alice, publish=True, versionDescription="first")
    one = f"{arn}:1"
    assert sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == one   # unchanged
    sfn.update_state_machine(stateMachineArn=arn, definition=text(FAIL))
    sfn.update_state_machine(stateMachineArn=arn, definition=text(PASS))
    sfn.update_state_machine(stateMachineArn=arn, definition=text(FAIL))   # drafts publish nothing
    assert len(sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]) == 1
    two = sfn.publish_state_machine_version(stateMachineArn=arn, description="fails")["stateMachineVersionArn"]
    assert two == f"{arn}:2"
    assert [v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=arn)
            ["stateMachineVersions"]] == [two, one]
    assert sfn.describe_state_machine(stateMachineArn=one)["description"] == "first"
    assert code_of(lambda: sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="stale")) \
        == "ConflictException"
    sfn.delete_state_machine_version(stateMachineVersionArn=two)
    assert [v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=arn)
            ["stateMachineVersions"]] == [one]
    assert code_of(lambda: sfn.describe_state_machine(stateMachineArn=two)) == "ResourceNotFound"


def test_aliases_route_to_versions_and_guard_them(aws, alice):
    sfn = aws(alice, "stepfunctions")
    arn = create(sfn, alice, publish=True)
    sfn.update_state_machine(stateMachineArn=arn, definition=text(FAIL), publish=True)
    alias = sfn.create_state_machine_alias(name="prod", description="live", routingConfiguration=[
        {"stateMachineVersionArn": f"{arn}:1", "weight": 100}])["stateMachineAliasArn"]
    assert alias == f"{arn}:prod"
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert (described["name"], described["description"], described["routingConfiguration"]) == (
        "prod", "live", [{"stateMachineVersionArn": f"{arn}:1", "weight": 100}])
    assert json.loads(sfn.describe_state_machine(stateMachineArn=alias)["definition"]) == PASS
    sfn.update_state_machine_alias(stateMachineAliasArn=alias, routingConfiguration=[
        {"stateMachineVersionArn": f"{arn}:1", "weight": 30}, {"stateMachineVersionArn": f"{arn}:2", "weight": 70}])
    assert len(sfn.describe_state_machine_alias(stateMachineAliasArn=alias)["routingConfiguration"]) == 2
    assert [a["stateMachineAliasArn"] for a in sfn.list_state_machine_aliases(stateMachineArn=arn)
            ["stateMachineAliases"]] == [alias]
    assert code_of(lambda: sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:2")) \
        == "ConflictException"
    assert code_of(lambda: sfn.create_state_machine_alias(name="bad", routingConfiguration=[
        {"stateMachineVersionArn": f"{arn}:1", "weight": 60}])) == "ValidationException"
    assert code_of(lambda: sfn.create_state_machine_alias(name="prod", routingConfiguration=[
        {"stateMachineVersionArn": f"{arn}:2", "weight": 100}])) == "ConflictException"
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    assert sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"] == []
    assert code_of(lambda: sfn.describe_state_machine_alias(stateMachineAliasArn=alias)) == "ResourceNotFound"


def test_validation_reports_the_engines_diagnostics(aws, alice):
    sfn = aws(alice, "stepfunctions")
    fine = sfn.validate_state_machine_definition(definition=text(PASS))
    assert (fine["result"], fine["diagnostics"], fine["truncated"]) == ("OK", [], False)
    broken = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}
    found = sfn.validate_state_machine_definition(definition=text(broken), type="STANDARD")
    assert found["result"] == "FAIL" and found["truncated"] is False
    assert found["diagnostics"][0] == {"severity": "ERROR", "code": "MISSING_TRANSITION_TARGET",
                                       "message": "Missing 'Next' target: B", "location": "/States/A/Next"}
    assert sfn.validate_state_machine_definition(definition="{bad")["diagnostics"][0]["code"] \
        == "INVALID_JSON_DESCRIPTION"
    two = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "X"}, "B": {"Type": "Pass", "Next": "Y"}}}
    limited = sfn.validate_state_machine_definition(definition=text(two), maxResults=1)
    assert len(limited["diagnostics"]) == 1 and limited["truncated"] is True


def test_tags_are_added_listed_and_removed(aws, alice):
    sfn = aws(alice, "stepfunctions")
    arn = create(sfn, alice, tags=[{"key": "team", "value": "u12"}])
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "coach", "value": "Kim"}, {"key": "team", "value": "u14"}])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "team", "value": "u14"}, {"key": "coach", "value": "Kim"}]
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "coach", "value": "Kim"}]
    assert code_of(lambda: sfn.tag_resource(resourceArn=arn, tags=[{"key": f"k{i}", "value": "v"}
                                                                   for i in range(50)])) == "TooManyTags"
    missing = arn + "-gone"
    assert code_of(lambda: sfn.list_tags_for_resource(resourceArn=missing)) == "ResourceNotFound"


def test_listing_pages_with_next_token(aws, fresh):
    sfn = aws(fresh, "stepfunctions")
    names = sorted([SAMPLE_MACHINE] + [create(sfn, fresh).rsplit(":", 1)[1] for _ in range(4)])
    seen, token = [], None
    while True:
        found = sfn.list_state_machines(maxResults=2, **({"nextToken": token} if token else {}))
        assert len(found["stateMachines"]) <= 2
        seen += [m["name"] for m in found["stateMachines"]]
        token = found.get("nextToken")
        if not token:
            break
    assert seen == names
    paged = [m["name"] for p in sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 3})
             for m in p["stateMachines"]]
    assert paged == names
    assert code_of(lambda: sfn.list_state_machines(nextToken="garbage!")) == "InvalidToken"


def test_bob_never_finds_alices_machines(aws, alice, bob):
    arn = create(aws(alice, "stepfunctions"), alice, publish=True)
    theirs = aws(bob, "stepfunctions")
    assert code_of(lambda: theirs.describe_state_machine(stateMachineArn=arn)) == "StateMachineDoesNotExist"
    assert code_of(lambda: theirs.describe_state_machine(stateMachineArn=f"{arn}:1")) == "StateMachineDoesNotExist"
    assert code_of(lambda: theirs.delete_state_machine(stateMachineArn=arn)) == "StateMachineDoesNotExist"
    assert code_of(lambda: theirs.update_state_machine(stateMachineArn=arn, definition=text(FAIL))) \
        == "StateMachineDoesNotExist"
    assert code_of(lambda: theirs.list_tags_for_resource(resourceArn=arn)) == "ResourceNotFound"
    assert code_of(lambda: theirs.start_execution(stateMachineArn=arn)) == "StateMachineDoesNotExist"
    assert arn not in [m["stateMachineArn"] for m in theirs.list_state_machines()["stateMachines"]]
    # Bob's own ARN with Alice's name: his account has no such machine either.
    mine = arn.replace(alice["account"], bob["account"])
    assert code_of(lambda: theirs.describe_state_machine(stateMachineArn=mine)) == "StateMachineDoesNotExist"


def test_the_aws_cli_creates_lists_and_describes_a_machine(server, alice):
    name = unique("cli")
    code, created, err = cli(server, alice, "stepfunctions", "create-state-machine", "--name", name,
                             "--definition", text(PASS), "--role-arn", role_arn(alice), "--publish")
    assert code == 0, err
    assert created["stateMachineVersionArn"] == created["stateMachineArn"] + ":1"
    code, listed, err = cli(server, alice, "stepfunctions", "list-state-machines")
    assert code == 0, err
    assert name in [m["name"] for m in listed["stateMachines"]]
    code, described, err = cli(server, alice, "stepfunctions", "describe-state-machine", "--state-machine-arn",
                               created["stateMachineArn"])
    assert code == 0 and json.loads(described["definition"]) == PASS, err
    code, _, err = cli(server, alice, "stepfunctions", "describe-state-machine", "--state-machine-arn",
                       created["stateMachineArn"] + "-nope")
    assert code != 0 and "StateMachineDoesNotExist" in err
    assert SAMPLE_ROLE in role_arn(alice)
