"""The function page's Monitor shows where each asynchronous (Event) invocation stands in its
queue: succeeded, retrying at a time (a failed attempt, Lambda's retry due later), failed after
its attempts (no retries left under the qualifier's event invoke config)."""

from __future__ import annotations

import json
import re
import uuid

import boto3
from botocore.config import Config
from playwright.sync_api import expect

from tests.aws.lambda_kit import echo_zip
from tests.integration.cluster import wait_until


def test_the_monitor_shows_each_event_invocations_place_in_the_queue(server, admin_keys, page, shot):
    lam = boto3.session.Session(aws_access_key_id=admin_keys["key"], aws_secret_access_key=admin_keys["secret"],
                                region_name="us-east-1").client(
        "lambda", endpoint_url=server["base"], config=Config(retries={"max_attempts": 1}))
    name = f"events-{uuid.uuid4().hex[:6]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Publish=True,
                        Role=f"arn:aws:iam::{admin_keys['account']}:role/flowbench-sample-role",
                        Code={"ZipFile": echo_zip()})
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="1", MaximumRetryAttempts=0)
    for qualifier, event in (("$LATEST", {"fail": "then retried"}), ("1", {"fail": "for good"}), ("$LATEST", {})):
        lam.invoke(FunctionName=name, Qualifier=qualifier, InvocationType="Event", Payload=json.dumps(event).encode())

    def settled():
        found = page.request.get(f"{server['base']}/api/functions/{name}/invocations").json()["invocations"]
        states = sorted(i["delivery"]["state"] for i in found)
        return found if states == ["failed", "retrying", "succeeded"] else None
    found = wait_until(settled, 60, "the three Event invocations to settle")
    retrying = next(i for i in found if i["delivery"]["state"] == "retrying")

    page.goto(f"{server['base']}/functions/{name}/")
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")
    page.click('.tabs [data-tab="monitor"]')
    rows = page.locator("#invocations tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator(f"#invocation-{retrying['id']}")).to_contain_text(re.compile(r"retrying at \d"))
    expect(page.locator("#invocations")).to_contain_text("failed after 1 attempt")
    expect(page.locator("#invocations")).to_contain_text("succeeded")
    shot(page, "function-monitor-event-invocations")
