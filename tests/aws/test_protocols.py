"""The generic protocol layer with providers of the tests' own for a JSON 1.0 service (Step
Functions) and a REST-JSON one (Lambda), driven by the real boto3 in process: a new service is a
provider and a row of the services table, and its shapes (timestamps, blobs, headers, status codes,
URI labels, query strings, pagination tokens, modeled errors) come from botocore's model alone."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from editor.aws.errors import AwsError
from editor.aws.providers.base import Provider
from editor.aws.services import Service, registry
from editor.services.access_keys import create_access_key
from tests.aws.inprocess import aws_client

CREATED = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)


class FakeStates(Provider):
    def ListStateMachines(self, params):
        return {"stateMachines": [{"stateMachineArn": f"arn:aws:states:us-east-1:{self.principal.account_id}:"
                                                      "stateMachine:m", "name": "m", "type": "STANDARD",
                                   "creationDate": CREATED}],
                "nextToken": f"after-{params.get('nextToken', 'start')}-{params.get('maxResults')}"}

    def DescribeStateMachine(self, params):
        raise AwsError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{params['stateMachineArn']}'")

    def StartExecution(self, params):
        return {"executionArn": params["stateMachineArn"].replace("stateMachine", "execution") + ":run",
                "startDate": CREATED}


class FakeLambda(Provider):
    def Invoke(self, params):
        failed = params.get("InvocationType", "RequestResponse") == "RequestResponse" and params["Payload"] == b'"fail"'
        return {"StatusCode": 200, "ExecutedVersion": params.get("Qualifier", "$LATEST"),
                "FunctionError": "Unhandled" if failed else None, "Payload": params["Payload"][::-1]}

    def GetFunction(self, params):
        return {"Configuration": {"FunctionName": params["FunctionName"], "Timeout": 3,
                                  "Description": f"qualifier {params.get('Qualifier')}"}, "Tags": {"team": "축구"}}

    def ListFunctions(self, params):
        if params.get("MaxItems") == 1:
            raise AwsError("TooManyRequestsException", "Rate exceeded", 429,
                           fields={"retryAfterSeconds": "3", "Reason": "CallerRateLimitExceeded"})
        return {"Functions": [], "NextMarker": f"{params.get('Marker')}+"}

    def DeleteFunction(self, params):
        return {"StatusCode": 204}   # the status code is an output member (location "statusCode")


@pytest.fixture
def clients(monkeypatch, django_user_model):
    monkeypatch.setitem(registry.by_signing_name, "states", Service("states", "stepfunctions", FakeStates))
    monkeypatch.setitem(registry.by_signing_name, "lambda", Service("lambda", "lambda", FakeLambda))
    key, secret = create_access_key(django_user_model.objects.create_user("alice"))
    return lambda service, **options: aws_client(service, key.access_key_id, secret, **options)


@pytest.mark.django_db
def test_a_json_10_service_reads_members_and_writes_timestamps_and_tokens(clients):
    sfn = clients("stepfunctions")
    listed = sfn.list_state_machines(maxResults=5, nextToken="abc")
    assert listed["stateMachines"][0]["creationDate"] == CREATED
    assert listed["nextToken"] == "after-abc-5"
    assert listed["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/x-amz-json-1.0"
    started = sfn.start_execution(stateMachineArn="arn:aws:states:us-east-1:1:stateMachine:m", input="{}")
    assert started["executionArn"].endswith(":execution:m:run")


@pytest.mark.django_db
def test_a_json_10_service_answers_modeled_errors_and_validation_in_awss_words(clients):
    sfn = clients("stepfunctions")
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist) as missing:
        sfn.describe_state_machine(stateMachineArn="arn:aws:states:us-east-1:1:stateMachine:gone")
    assert "gone" in missing.value.response["Error"]["Message"]
    loose = clients("stepfunctions", validate=False)
    with pytest.raises(ClientError) as refused:
        loose.start_execution(input="{}")
    assert refused.value.response["Error"] == {
        "Code": "ValidationException", "Message": "1 validation error detected: Value null at 'stateMachineArn' "
                                                  "failed to satisfy constraint: Member must not be null"}
    with pytest.raises(ClientError) as wrong:
        loose.list_state_machines(maxResults="ten")
    assert wrong.value.response["Error"]["Code"] == "ValidationException"
    assert "Value 'ten' at 'maxResults'" in wrong.value.response["Error"]["Message"]


@pytest.mark.django_db
def test_a_rest_json_service_reads_uri_labels_query_strings_headers_and_a_raw_payload(clients):
    function = clients("lambda")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:greet"
    got = function.get_function(FunctionName=arn, Qualifier="7")
    assert got["Configuration"] == {"FunctionName": arn, "Timeout": 3, "Description": "qualifier 7"}
    assert got["Tags"] == {"team": "축구"}
    invoked = function.invoke(FunctionName="greet", Payload=b'{"a": 1}', Qualifier="2")
    assert (invoked["StatusCode"], invoked["ExecutedVersion"]) == (200, "2")
    assert invoked["Payload"].read() == b'}1 :"a"{'
    assert "FunctionError" not in invoked
    failed = function.invoke(FunctionName="greet", Payload=json.dumps("fail"))
    assert failed["FunctionError"] == "Unhandled"
    assert function.list_functions(Marker="m1")["NextMarker"] == "m1+"
    assert function.delete_function(FunctionName="greet")["ResponseMetadata"]["HTTPStatusCode"] == 204


@pytest.mark.django_db
def test_a_rest_json_error_carries_its_modeled_header_and_body_members(clients):
    function = clients("lambda")
    with pytest.raises(function.exceptions.TooManyRequestsException) as slow:
        function.list_functions(MaxItems=1)
    response = slow.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "3"
    assert response["Reason"] == "CallerRateLimitExceeded"
    loose = clients("lambda", validate=False)
    with pytest.raises(ClientError) as refused:
        loose.get_function(FunctionName="has spaces!")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "'functionName'" in refused.value.response["Error"]["Message"]


@pytest.mark.django_db
def test_an_operation_no_provider_implements_is_an_unknown_operation(clients):
    with pytest.raises(ClientError) as unknown:
        clients("stepfunctions").list_activities()
    assert unknown.value.response["Error"]["Code"] == "UnknownOperationException"
    with pytest.raises(ClientError) as unknown:
        clients("lambda").get_alias(FunctionName="f", Name="live")
    assert unknown.value.response["Error"]["Code"] == "UnknownOperationException"
