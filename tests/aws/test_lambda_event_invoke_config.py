"""Lambda's asynchronous invocation config through boto3 on the live server: Put, Get, Update,
List and Delete per function and qualifier, the SDK's own shapes; bad input refused naming the
member; and an Event invocation of a failing function honours MaximumRetryAttempts, its place in
the queue shown by the studio."""

from __future__ import annotations

import json
from datetime import datetime

from tests.aws.lambda_kit import create
from tests.aws.test_iam_sts_live import studio
from tests.aws.test_lambda_functions import error_of
from tests.integration.cluster import wait_until


def test_put_get_update_list_and_delete_per_qualifier(aws, fresh):
    lam = aws(fresh, "lambda")
    made = create(aws, fresh, Publish=True)
    name, arn = made["FunctionName"], made["FunctionArn"].rsplit(":", 1)[0]   # (Publish: version 1's ARN)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    code, status, message = error_of(lambda: lam.get_function_event_invoke_config(FunctionName=name))
    assert (code, status) == ("ResourceNotFoundException", 404) and f"{arn}:$LATEST" in message

    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert (put["FunctionArn"], put["MaximumRetryAttempts"]) == (f"{arn}:$LATEST", 1)
    assert "MaximumEventAgeInSeconds" not in put and isinstance(put["LastModified"], datetime)
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="live", MaximumEventAgeInSeconds=120)
    lam.put_function_event_invoke_config(FunctionName=f"{name}:1", MaximumRetryAttempts=0)

    updated = lam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=3600)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (1, 3600)   # kept, added
    # Put overwrites: what it leaves out is removed.
    replaced = lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
    assert "MaximumRetryAttempts" not in replaced and replaced["MaximumEventAgeInSeconds"] == 60
    got = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="live")
    assert (got["FunctionArn"], got["MaximumEventAgeInSeconds"]) == (f"{arn}:live", 120)

    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"{arn}:$LATEST", f"{arn}:1", f"{arn}:live"]
    first = lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=2)
    rest = lam.list_function_event_invoke_configs(FunctionName=name, Marker=first["NextMarker"])
    assert [c["FunctionArn"] for c in first["FunctionEventInvokeConfigs"] + rest["FunctionEventInvokeConfigs"]] == \
        [c["FunctionArn"] for c in listed] and "NextMarker" not in rest

    lam.delete_function_event_invoke_config(FunctionName=name, Qualifier="1")
    assert error_of(lambda: lam.get_function_event_invoke_config(FunctionName=name, Qualifier="1"))[0] == \
        "ResourceNotFoundException"
    assert error_of(lambda: lam.delete_function_event_invoke_config(FunctionName=name, Qualifier="1"))[1] == 404
    assert len(lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]) == 2
    # A deleted alias (or version) takes its config with it.
    lam.delete_alias(FunctionName=name, Name="live")
    assert [c["FunctionArn"] for c in lam.list_function_event_invoke_configs(
        FunctionName=name)["FunctionEventInvokeConfigs"]] == [f"{arn}:$LATEST"]


def test_bad_input_is_refused_naming_the_member_and_changes_nothing(aws, fresh):
    lam = aws(fresh, "lambda")
    raw = aws(fresh, "lambda", validate=False)
    name = create(aws, fresh)["FunctionName"]
    for member, value in (("MaximumRetryAttempts", 3), ("MaximumRetryAttempts", -1),
                          ("MaximumEventAgeInSeconds", 59), ("MaximumEventAgeInSeconds", 21601)):
        code, status, message = error_of(lambda: raw.put_function_event_invoke_config(
            FunctionName=name, **{member: value}))
        # Named as AWS names it: 'maximumRetryAttempts'.
        assert (code, status) == ("ValidationException", 400) and f"'{member[0].lower()}{member[1:]}'" in message, \
            (member, value, message)
    code, status, message = error_of(lambda: lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}}))
    assert (code, status) == ("InvalidParameterValueException", 400) and "DestinationConfig.OnFailure" in message
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    for destination, words in ((arn, "its own destination"), (arn + "-gone", "does not exist"),
                               (arn.replace(fresh["account"], "000000000000"), "not a function ARN of this account")):
        code, status, message = error_of(lambda: lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": destination}}))
        assert (code, status) == ("InvalidParameterValueException", 400), message
        assert words in message and "DestinationConfig.OnSuccess.Destination" in message, message
    assert error_of(lambda: lam.put_function_event_invoke_config(FunctionName=name, Qualifier="7",
                                                                 MaximumRetryAttempts=1))[:2] == \
        ("ResourceNotFoundException", 404)
    assert error_of(lambda: lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1))[:2] \
        == ("ResourceNotFoundException", 404)
    assert error_of(lambda: lam.put_function_event_invoke_config(FunctionName=name + "-none",
                                                                 MaximumRetryAttempts=1))[:2] == \
        ("ResourceNotFoundException", 404)
    assert lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"] == []


def test_bob_cannot_see_or_change_alices_config(aws, alice, bob):
    name = create(aws, alice)["FunctionName"]
    aws(alice, "lambda").put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    for call in (lambda lam: lam.get_function_event_invoke_config(FunctionName=name),
                 lambda lam: lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0),
                 lambda lam: lam.delete_function_event_invoke_config(FunctionName=name)):
        assert error_of(lambda: call(aws(bob, "lambda")))[:2] == ("ResourceNotFoundException", 404)
    assert aws(alice, "lambda").get_function_event_invoke_config(FunctionName=name)["MaximumRetryAttempts"] == 1


def test_an_event_of_a_failing_function_is_not_retried_with_zero_retry_attempts(server, aws, fresh):
    lam = aws(fresh, "lambda")
    name = create(aws, fresh)["FunctionName"]
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert lam.invoke(FunctionName=name, InvocationType="Event",
                      Payload=json.dumps({"fail": "once"}).encode())["StatusCode"] == 202
    page = studio(server, fresh)

    def ended():
        found = page.get(f"/api/functions/{name}/invocations").json()["invocations"]
        return found if found and found[0]["status"] != "running" else None
    found = wait_until(ended, 60, "the Event invocation to end")
    assert len(found) == 1
    assert (found[0]["status"], found[0]["asynchronous"], found[0]["delivery"]["state"],
            found[0]["delivery"]["attempts"]) == ("failed", True, "failed", 1)


def test_a_failed_event_sends_lambdas_record_to_its_on_failure_function(server, aws, fresh):
    lam = aws(fresh, "lambda")
    name = create(aws, fresh)["FunctionName"]
    catcher = create(aws, fresh)
    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0, DestinationConfig={
        "OnFailure": {"Destination": catcher["FunctionArn"]}})
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": catcher["FunctionArn"]}}
    # Update keeps what it does not name; an empty member removes that destination.
    kept = lam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=600)
    assert kept["DestinationConfig"]["OnFailure"] == {"Destination": catcher["FunctionArn"]}
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"fail": "on purpose"}).encode())
    page = studio(server, fresh)

    def delivered():
        found = page.get(f"/api/functions/{catcher['FunctionName']}/invocations").json()["invocations"]
        return found if found and found[0]["status"] != "running" else None
    found = wait_until(delivered, 60, "the destination's invocation")
    assert [(i["source"], i["status"]) for i in found] == [("destination", "succeeded")]
    record = page.get(f"/api/functions/{catcher['FunctionName']}/invocations/{found[0]['id']}").json()["request"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["functionArn"].endswith(f":function:{name}:$LATEST")
    assert record["requestPayload"] == {"fail": "on purpose"}
    assert record["responsePayload"]["errorMessage"] == "asked to fail: on purpose"
    removed = lam.update_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {}})
    assert removed["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
