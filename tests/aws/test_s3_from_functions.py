"""S3 from inside a function: boto3 in a handler, with its execution role's temporary credentials
and the AWS_ENDPOINT_URL Flowbench gives it, reads an object and writes a derived one (what a
bucket-triggered function does), within what the role's policy allows."""

from __future__ import annotations

import json

from tests.aws.lambda_kit import TRUST_LAMBDA, unique, zipped

COPIER = '''import boto3


def handler(event, context):
    s3 = boto3.client("s3")
    record = event["Records"][0]["s3"]
    bucket, key = record["bucket"]["name"], record["object"]["key"]
    text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    s3.put_object(Bucket=bucket, Key="derived/" + key, Body=text.upper().encode(), ContentType="text/plain",
                  Metadata={"source": key})
    try:
        s3.put_object(Bucket=bucket, Key="elsewhere/" + key, Body=b"not allowed")
        refused = None
    except Exception as exc:
        refused = exc.response["Error"]["Code"]
    return {"read": text, "refused": refused,
            "listed": [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="derived/").get("Contents", [])]}
'''


def test_a_function_reads_and_writes_objects_as_its_role(aws, fresh):
    s3 = aws(fresh, "s3")
    name = f"fn-{unique('b')}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="notes.txt", Body=b"quiet words")
    iam = aws(fresh, "iam")
    role = unique("s3-role")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="objects", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{name}/derived/*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{name}"}]}))
    function = unique("copier")
    lam = aws(fresh, "lambda")
    lam.create_function(FunctionName=function, Runtime="python3.11", Handler="app.handler", Role=role_arn,
                        Code={"ZipFile": zipped({"app.py": COPIER})}, Timeout=30, MemorySize=256)
    event = {"Records": [{"s3": {"bucket": {"name": name}, "object": {"key": "notes.txt"}}}]}
    answer = lam.invoke(FunctionName=function, Payload=json.dumps(event))
    found = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, found
    assert found == {"read": "quiet words", "refused": "AccessDenied", "listed": ["derived/notes.txt"]}
    derived = s3.get_object(Bucket=name, Key="derived/notes.txt")
    assert (derived["Body"].read(), derived["Metadata"]) == (b"QUIET WORDS", {"source": "notes.txt"})
    assert s3.list_objects_v2(Bucket=name, Prefix="elsewhere/")["KeyCount"] == 0
