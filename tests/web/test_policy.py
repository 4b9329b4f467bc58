"""IAM policy evaluation and validation, in pure Python."""

import pytest

from editor.services.accounts import function_arn
from editor.services.policy import default_policy, evaluate, validate_policy

ARN = "arn:aws:lambda:us-east-1:123456789012:function:attack-training"


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


@pytest.mark.django_db
def test_the_default_policy_allows_invoking_any_function_of_its_account_only(django_user_model):
    alice = django_user_model.objects.create_user("alice")
    bob = django_user_model.objects.create_user("bob")
    mine = default_policy(alice)
    assert validate_policy(mine) == []
    assert evaluate(mine, "lambda:InvokeFunction", function_arn(alice, "anything")) == "allow"
    assert evaluate(mine, "lambda:DeleteFunction", function_arn(alice, "anything")) == "implicit-deny"
    assert evaluate(mine, "lambda:InvokeFunction", function_arn(bob, "anything")) == "implicit-deny"


def test_an_explicit_deny_beats_an_allow():
    doc = policy({"Effect": "Allow", "Action": "*", "Resource": "*"},
                 {"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": ARN})
    assert evaluate(doc, "lambda:InvokeFunction", ARN) == "deny"
    assert evaluate(doc, "lambda:InvokeFunction", ARN.replace("attack", "passing")) == "allow"


def test_nothing_is_allowed_by_default():
    assert evaluate(policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
                    "lambda:InvokeFunction", ARN) == "implicit-deny"
    assert evaluate({}, "lambda:InvokeFunction", ARN) == "implicit-deny"
    assert evaluate("not a policy", "lambda:InvokeFunction", ARN) == "implicit-deny"


@pytest.mark.parametrize("action, resource, expected", [
    ("lambda:*", ARN, "allow"),
    ("LAMBDA:invoke*", ARN, "allow"),          # actions match case-insensitively
    ("lambda:Invoke?unction", ARN, "allow"),
    (["s3:*", "lambda:InvokeFunction"], ARN, "allow"),
    ("lambda:InvokeFunction", "arn:aws:lambda:*:*:function:*-training", "allow"),
    ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:attack-trainin?", "allow"),
    ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:Attack-training", "implicit-deny"),
    ("lambda:InvokeFunction", ["arn:aws:lambda:*:*:function:defence-*"], "implicit-deny"),
    ("lambda:Get*", ARN, "implicit-deny"),
])
def test_wildcards_in_actions_and_resources(action, resource, expected):
    assert evaluate(policy({"Effect": "Allow", "Action": action, "Resource": resource}),
                    "lambda:InvokeFunction", ARN) == expected


@pytest.mark.parametrize("document, pointers", [
    ("{not json", [""]),
    ([], [""]),
    ({"Statement": []}, ["/Version", "/Statement"]),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps", "Action": "lambda:InvokeFunction",
                                               "Resource": "*"}]}, ["/Statement/0/Effect"]),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["lambda:InvokeFunction", 3],
                                               "Resource": "*"}]}, ["/Statement/0/Action/1"]),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "invoke",
                                               "Resource": "function"}]},
     ["/Statement/0/Action", "/Statement/0/Resource"]),
    ({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*"}}, ["/Statement/Resource"]),
    ({"Version": "2012-10-17", "Extra": 1, "Statement": [{"Sid": "a b", "Effect": "Allow", "Action": "*",
                                                          "Resource": "*", "Condition": {}}]},
     ["/Extra", "/Statement/0/Condition", "/Statement/0/Sid"]),
])
def test_malformed_documents_get_diagnostics_with_pointers(document, pointers):
    found = validate_policy(document)
    assert sorted(d["pointer"] for d in found) == sorted(pointers)
    assert all(set(d) == {"code", "message", "pointer"} and d["message"] for d in found)
