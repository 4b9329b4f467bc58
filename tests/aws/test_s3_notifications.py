"""Bucket notifications through boto3 against the live server: a function of the owner's invoked
asynchronously with S3's event record when a matching object is created or removed, once per
change; filters, unknown events and another person's function refused as S3 refuses them; a
function whose resource-based policy does not let S3 invoke it for the bucket refused as S3 refuses
it; a deleted function's notification disabled, its deliveries starting nothing."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError

from tests.aws import lambda_kit
from tests.aws.s3_support import allow_s3, bucket_name, error_of
from tests.integration.cluster import wait_until
from tests.live_server import manage

DELIVERED = """
import json
from editor.models import Invocation
rows = Invocation.objects.filter(function__name={name!r}, source="bucket", status__in=["succeeded", "failed"])
print(json.dumps([{{"event": r.request, "status": r.status, "response": r.response}} for r in rows.order_by("started_at")]))
"""


def delivered(server, function: str) -> list[dict]:
    return json.loads(manage(server["env"], code=DELIVERED.format(name=function)).strip().splitlines()[-1])


@pytest.fixture
def wired(aws, alice):
    """A bucket whose .jpg uploads under uploads/ and every removal invoke an echo function."""
    s3 = aws(alice, "s3")
    name = bucket_name("notify")
    s3.create_bucket(Bucket=name)
    function = lambda_kit.create(aws, alice)
    arn = function["FunctionArn"]
    allow_s3(aws(alice, "lambda"), arn, name)
    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            {"Id": "photos", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"},
                                                {"Name": "suffix", "Value": ".jpg"}]}}},
            {"Id": "removals", "LambdaFunctionArn": arn, "Events": ["s3:ObjectRemoved:*"]}]})
    return s3, name, function["FunctionName"], arn


def test_a_matching_upload_and_a_removal_invoke_the_function_with_s3s_event(server, wired):
    s3, name, function, arn = wired
    configured = s3.get_bucket_notification_configuration(Bucket=name)["LambdaFunctionConfigurations"]
    assert [(c["Id"], c["LambdaFunctionArn"], c["Events"]) for c in configured] == \
        [("photos", arn, ["s3:ObjectCreated:*"]), ("removals", arn, ["s3:ObjectRemoved:*"])]
    etag = s3.put_object(Bucket=name, Key="uploads/my cat+1.jpg", Body=b"jpeg bytes")["ETag"]
    s3.put_object(Bucket=name, Key="uploads/notes.txt", Body=b"not a photo")
    s3.put_object(Bucket=name, Key="elsewhere/dog.jpg", Body=b"not under uploads/")
    first = wait_until(lambda: delivered(server, function), 60, "the upload's invocation")
    record = first[0]["event"]["Records"][0]
    assert first[0]["status"] == "succeeded" and first[0]["response"]["echo"] == first[0]["event"]
    assert (record["eventSource"], record["eventName"], record["awsRegion"]) == ("aws:s3", "ObjectCreated:Put",
                                                                                 "us-east-1")
    assert record["s3"]["bucket"]["name"] == name and record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{name}"
    assert record["s3"]["configurationId"] == "photos"
    described = record["s3"]["object"]
    assert described["key"] == "uploads/my+cat%2B1.jpg" and unquote_plus(described["key"]) == "uploads/my cat+1.jpg"
    assert (described["size"], described["eTag"]) == (10, etag.strip('"')) and described["sequencer"]
    s3.delete_object(Bucket=name, Key="uploads/notes.txt")
    both = wait_until(lambda: (lambda found: found if len(found) >= 2 else None)(delivered(server, function)), 60,
                      "the removal's invocation")
    removal = both[1]["event"]["Records"][0]
    assert (removal["eventName"], removal["s3"]["configurationId"]) == ("ObjectRemoved:Delete", "removals")
    assert "size" not in removal["s3"]["object"] and removal["s3"]["object"]["key"] == "uploads/notes.txt"
    assert len(delivered(server, function)) == 2   # each change once, the unmatched ones never


def test_a_completed_multipart_upload_and_a_copy_are_object_created_events(server, wired):
    s3, name, function, _arn = wired
    uid = s3.create_multipart_upload(Bucket=name, Key="uploads/big.jpg")["UploadId"]
    part = s3.upload_part(Bucket=name, Key="uploads/big.jpg", UploadId=uid, PartNumber=1, Body=b"one part")
    s3.complete_multipart_upload(Bucket=name, Key="uploads/big.jpg", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    s3.copy_object(Bucket=name, Key="uploads/copy.jpg", CopySource=f"{name}/uploads/big.jpg")
    found = wait_until(lambda: (lambda f: f if len(f) >= 2 else None)(delivered(server, function)), 60,
                       "two invocations")
    assert sorted(r["event"]["Records"][0]["eventName"] for r in found) == \
        ["ObjectCreated:CompleteMultipartUpload", "ObjectCreated:Copy"]


def test_configurations_s3_refuses_are_refused_and_the_old_one_stays(aws, alice, bob, wired):
    s3, name, _function, arn = wired
    bobs_function = lambda_kit.create(aws, bob)["FunctionArn"]
    refusals = [
        {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": bobs_function, "Events": ["s3:ObjectCreated:*"]}]},
        {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectEaten:*"]}]},
        {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
                                           "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}}]},
        {"TopicConfigurations": [{"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Events": ["s3:ObjectCreated:*"]}]},
    ]
    for configuration in refusals:
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=configuration)
        assert error_of(refused) == ("InvalidArgument", 400), configuration
    kept = s3.get_bucket_notification_configuration(Bucket=name)["LambdaFunctionConfigurations"]
    assert [c["Id"] for c in kept] == ["photos", "removals"]
    with pytest.raises(ClientError) as other:
        aws(bob, "s3").get_bucket_notification_configuration(Bucket=name)
    assert error_of(other) == ("AccessDenied", 403)
    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={})
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=name)


FAILED_DELIVERIES = """
import json
from editor.models import NotificationDelivery
rows = NotificationDelivery.objects.filter(bucket__name={bucket!r}).order_by("created_at")
print(json.dumps([{{"key": d.key, "error": d.error, "invocation": d.invocation_id is not None}} for d in rows]))
"""


def test_a_deleted_function_fails_the_delivery_and_never_the_upload(server, aws, alice, wired):
    s3, name, function, _arn = wired
    aws(alice, "lambda").delete_function(FunctionName=function)
    s3.put_object(Bucket=name, Key="uploads/after.jpg", Body=b"still stored")
    assert s3.get_object(Bucket=name, Key="uploads/after.jpg")["Body"].read() == b"still stored"
    found = json.loads(manage(server["env"], code=FAILED_DELIVERIES.format(bucket=name)).strip().splitlines()[-1])
    assert len(found) == 1 and found[0]["key"] == "uploads/after.jpg" and not found[0]["invocation"]
    assert f"its target, the function {_arn}, was deleted" in found[0]["error"]
    # S3 keeps the configuration (its API shows it as set); the studio shows it disabled, saying why.
    kept = s3.get_bucket_notification_configuration(Bucket=name)["LambdaFunctionConfigurations"]
    assert [c["Id"] for c in kept] == ["photos", "removals"] and all("Disabled" not in c for c in kept)
    shown = json.loads(manage(server["env"], code=DISABLED.format(bucket=name)).strip().splitlines()[-1])
    assert [c["Id"] for c in shown] == ["photos", "removals"]
    assert all("was deleted" in c["Disabled"]["Reason"] and c["Disabled"]["At"] for c in shown)


DISABLED = """
import json
from editor.models import Bucket
print(json.dumps(Bucket.objects.get(name={bucket!r}).notifications))
"""


def test_s3_refuses_a_function_whose_policy_does_not_let_it_invoke(aws, alice):
    s3, lam = aws(alice, "s3"), aws(alice, "lambda")
    name = bucket_name("perm")
    s3.create_bucket(Bucket=name)
    arn = lambda_kit.create(aws, alice)["FunctionArn"]
    configuration = {"LambdaFunctionConfigurations": [{"Id": "all", "LambdaFunctionArn": arn,
                                                       "Events": ["s3:ObjectCreated:*"]}]}

    def refused_with() -> dict:
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=configuration)
        assert error_of(refused) == ("InvalidArgument", 400)
        return refused.value.response["Error"]

    error = refused_with()   # no policy at all
    assert error["Message"] == "Unable to validate the following destination configurations"
    assert (error["ArgumentName1"], error["ArgumentValue1"]) == (arn, f"Not authorized to invoke function [{arn}]")
    allow_s3(lam, arn, bucket_name("other"), statement_id="another-bucket")   # SourceArn of another bucket
    refused_with()
    lam.add_permission(FunctionName=arn, StatementId="another-account", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{name}", SourceAccount="000000000000")
    refused_with()
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=name)
    allow_s3(lam, arn, name)
    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=configuration)
    assert [c["Id"] for c in s3.get_bucket_notification_configuration(Bucket=name)["LambdaFunctionConfigurations"]] \
        == ["all"]
