"""Function URLs and HTTP APIs in the distributed mode: a request to either is answered by the web
process with the result of an invocation a Celery worker ran (the web process runs no function),
and a function whose reserved concurrency is 0 is throttled across the cluster (429)."""

from __future__ import annotations

import json

import httpx
from botocore.config import Config

from tests.aws.lambda_kit import TRUST_LAMBDA, echo_zip, unique


def test_urls_and_http_apis_answer_with_what_a_worker_ran(cluster, admin, admin_session):
    session = admin_session
    config = Config(retries={"max_attempts": 1}, read_timeout=120)
    lam = session.client("lambda", endpoint_url=cluster.base_url, config=config)
    iam = session.client("iam", endpoint_url=cluster.base_url, config=config)
    role = iam.create_role(RoleName=unique("it-url-role"), AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]["Arn"]
    name = unique("it-url")
    arn = lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role,
                              Code={"ZipFile": echo_zip()})["FunctionArn"]
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    lam.add_permission(FunctionName=name, StatementId="public", Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")
    api = session.client("apigatewayv2", endpoint_url=cluster.base_url, config=config).create_api(
        Name=name, ProtocolType="HTTP", Target=arn, RouteKey="GET /echo/{word}")

    by_url = httpx.get(url + "here?a=1", timeout=120)
    assert by_url.status_code == 200, by_url.text
    assert by_url.json()["echo"]["queryStringParameters"] == {"a": "1"}
    by_api = httpx.get(api["ApiEndpoint"] + "/echo/hi", timeout=120)
    assert by_api.status_code == 200 and by_api.json()["echo"]["pathParameters"] == {"word": "hi"}
    sources = sorted(i["source"] for i in admin.ok("GET", f"/api/functions/{name}/invocations")["invocations"])
    assert sources == ["function_url", "http_api"]

    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    throttled = httpx.get(url, timeout=120)
    assert throttled.status_code == 429 and json.loads(throttled.text) == {"Message": "Rate Exceeded."}
    assert httpx.get(api["ApiEndpoint"] + "/echo/x", timeout=120).status_code == 429
