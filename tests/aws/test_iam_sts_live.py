"""STS and IAM through the real boto3 against a running server: every operation, AWS's error codes,
Marker/MaxItems pagination, what the studio shows of it, and Bob never seeing Alice's roles."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.aws.conftest import TRUST_STATES

INVOKE_ALL = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}


def code_of(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def unique(prefix="role"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


_studios: dict[str, httpx.Client] = {}


def studio(server, person) -> httpx.Client:
    """Returns an HTTP client signed in to the studio as `person` (their one-time link, used once)."""
    if person["name"] not in _studios:
        client = httpx.Client(base_url=server["base"], follow_redirects=True)
        client.get(person["link"]).raise_for_status()
        _studios[person["name"]] = client
    return _studios[person["name"]]


def test_get_caller_identity_names_the_callers_own_account(aws, alice, bob):
    me = aws(alice, "sts").get_caller_identity()
    assert (me["Account"], me["Arn"], me["UserId"]) == (alice["account"], f"arn:aws:iam::{alice['account']}:root",
                                                       alice["account"])
    assert aws(bob, "sts").get_caller_identity()["Account"] == bob["account"] != alice["account"]


def test_a_role_goes_through_every_iam_operation_and_the_studio_shows_each_step(server, aws, alice):
    iam = aws(alice, "iam")
    name = unique()
    created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_STATES, Description="made by boto3",
                              Tags=[{"Key": "team", "Value": "축구"}])["Role"]
    assert created["Arn"] == f"arn:aws:iam::{alice['account']}:role/{name}"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    assert created["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "states.amazonaws.com"}
    got = iam.get_role(RoleName=name)["Role"]
    assert (got["Description"], got["Tags"], got["MaxSessionDuration"]) == (
        "made by boto3", [{"Key": "team", "Value": "축구"}], 3600)

    iam.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps(INVOKE_ALL))
    iam.put_role_policy(RoleName=name, PolicyName="deny-delete", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "lambda:DeleteFunction", "Resource": "*"}]}))
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["deny-delete", "invoke"]
    assert iam.get_role_policy(RoleName=name, PolicyName="invoke")["PolicyDocument"] == INVOKE_ALL
    both = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ' \
           '["states.amazonaws.com", "lambda.amazonaws.com"]}, "Action": "sts:AssumeRole"}]}'
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=both)

    shown = studio(server, alice).get(f"/api/roles/{name}").json()
    assert shown["trusted"] == ["states", "lambda"]
    assert [p["name"] for p in shown["policies"]] == ["deny-delete", "invoke"]
    assert shown["description"] == "made by boto3"
    assert shown["arn"] == created["Arn"]

    iam.delete_role_policy(RoleName=name, PolicyName="deny-delete")
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["invoke"]
    assert code_of(lambda: iam.delete_role(RoleName=name)) == ("DeleteConflict", 409)
    iam.delete_role_policy(RoleName=name, PolicyName="invoke")
    iam.delete_role(RoleName=name)
    assert code_of(lambda: iam.get_role(RoleName=name)) == ("NoSuchEntity", 404)
    assert studio(server, alice).get(f"/api/roles/{name}").status_code == 404


def test_what_the_studio_made_is_what_iam_lists(aws, alice):
    """The samples (the sample role and its policy) were made by the studio's own services."""
    iam = aws(alice, "iam")
    names = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert "flowbench-sample-role" in names
    policy = iam.get_role_policy(RoleName="flowbench-sample-role", PolicyName="flowbench-policy")["PolicyDocument"]
    assert policy["Statement"][0]["Resource"] == f"arn:aws:lambda:us-east-1:{alice['account']}:function:*"


def test_iam_refuses_with_awss_codes_and_creates_nothing(aws, alice):
    iam = aws(alice, "iam")
    name = unique()
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_STATES)
    before = iam.list_roles()["Roles"]
    cases = [
        (lambda: iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_STATES), ("EntityAlreadyExists", 409)),
        (lambda: iam.create_role(RoleName=name.upper(), AssumeRolePolicyDocument=TRUST_STATES),
         ("EntityAlreadyExists", 409)),
        (lambda: iam.create_role(RoleName=unique(), AssumeRolePolicyDocument="{not json"),
         ("MalformedPolicyDocument", 400)),
        (lambda: iam.create_role(RoleName=unique(), AssumeRolePolicyDocument=TRUST_STATES.replace(
            "states.amazonaws.com", "ec2.amazonaws.com")), ("MalformedPolicyDocument", 400)),
        (lambda: iam.create_role(RoleName="no spaces allowed", AssumeRolePolicyDocument=TRUST_STATES),
         ("ValidationError", 400)),
        (lambda: iam.get_role(RoleName=unique()), ("NoSuchEntity", 404)),
        (lambda: iam.delete_role(RoleName=unique()), ("NoSuchEntity", 404)),
        (lambda: iam.get_role_policy(RoleName=name, PolicyName="none"), ("NoSuchEntity", 404)),
        (lambda: iam.delete_role_policy(RoleName=name, PolicyName="none"), ("NoSuchEntity", 404)),
        (lambda: iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument='{"Version": "2012-10-17", '
                                     '"Statement": [{"Effect": "Perhaps", "Action": "*", "Resource": "*"}]}'),
         ("MalformedPolicyDocument", 400)),
        (lambda: iam.put_role_policy(RoleName=name, PolicyName="big", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                     "Resource": f"arn:aws:lambda:*:*:function:f{i}"}
                                                    for i in range(200)]})), ("LimitExceeded", 409)),
        (lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument='{"Statement": []}'),
         ("MalformedPolicyDocument", 400)),
        (lambda: iam.list_roles(Marker="not-a-marker"), ("ValidationError", 400)),
    ]
    for call, expected in cases:
        assert code_of(call) == expected
    assert iam.list_roles()["Roles"] == before
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []


def test_a_role_a_state_machine_uses_cannot_be_deleted(aws, alice):
    iam = aws(alice, "iam")
    iam.delete_role_policy(RoleName="flowbench-sample-role", PolicyName="flowbench-policy")
    code, status = code_of(lambda: iam.delete_role(RoleName="flowbench-sample-role"))
    assert (code, status) == ("DeleteConflict", 409)
    iam.put_role_policy(RoleName="flowbench-sample-role", PolicyName="flowbench-policy",
                        PolicyDocument=json.dumps(INVOKE_ALL))
    untrusting = TRUST_STATES.replace("states.amazonaws.com", "lambda.amazonaws.com")
    assert code_of(lambda: iam.update_assume_role_policy(RoleName="flowbench-sample-role",
                                                         PolicyDocument=untrusting)) == ("UnmodifiableEntity", 400)


def test_list_roles_pages_with_marker_and_max_items(aws, fresh):
    iam = aws(fresh, "iam")
    names = sorted(["a-role", "b-role", "c-role", "d-role"])
    for name in names:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_STATES, Path="/team/")
    first = iam.list_roles(MaxItems=3)
    assert first["IsTruncated"] is True and len(first["Roles"]) == 3
    rest = iam.list_roles(MaxItems=3, Marker=first["Marker"])
    assert rest["IsTruncated"] is False and "Marker" not in rest
    everyone = [r["RoleName"] for r in first["Roles"] + rest["Roles"]]
    assert everyone == sorted(names + ["flowbench-sample-role"])
    pages = iam.get_paginator("list_roles").paginate(PathPrefix="/team/", PaginationConfig={"PageSize": 1})
    assert [r["RoleName"] for page in pages for r in page["Roles"]] == names
    assert iam.get_role(RoleName="a-role")["Role"]["Arn"].endswith(":role/team/a-role")
    for index in range(3):
        iam.put_role_policy(RoleName="a-role", PolicyName=f"p{index}", PolicyDocument=json.dumps(INVOKE_ALL))
    policies = iam.get_paginator("list_role_policies").paginate(RoleName="a-role", PaginationConfig={"PageSize": 2})
    assert [n for page in policies for n in page["PolicyNames"]] == ["p0", "p1", "p2"]


def test_bob_never_sees_or_touches_alices_roles(aws, alice, bob):
    name = unique("alices")
    aws(alice, "iam").create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_STATES)
    iam = aws(bob, "iam")
    assert name not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    for call in (lambda: iam.get_role(RoleName=name), lambda: iam.delete_role(RoleName=name),
                 lambda: iam.list_role_policies(RoleName=name),
                 lambda: iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(INVOKE_ALL)),
                 lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument=TRUST_STATES)):
        assert code_of(call) == ("NoSuchEntity", 404)
    assert aws(alice, "iam").list_role_policies(RoleName=name)["PolicyNames"] == []
    # Bob's own role of that name is his, in his account.
    assert aws(bob, "iam").create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_STATES)["Role"]["Arn"] == \
        f"arn:aws:iam::{bob['account']}:role/{name}"
