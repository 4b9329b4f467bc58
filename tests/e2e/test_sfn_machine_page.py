"""What the Step Functions API sets on a state machine that the editor's form does not (aliases and
tags) is shown on its Config tab; a machine the API made opens in the editor like any other."""

from __future__ import annotations

import json
import uuid

import boto3
from botocore.config import Config
from playwright.sync_api import expect


PASS = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": True}}}


def test_the_config_tab_shows_aliases_and_tags_set_through_the_api(server, admin_keys, page, shot):
    sfn = boto3.session.Session(aws_access_key_id=admin_keys["key"],
                                aws_secret_access_key=admin_keys["secret"], region_name="us-east-1").client(
        "stepfunctions", endpoint_url=server["base"], config=Config(retries={"max_attempts": 1}))
    account = admin_keys["account"]
    name = f"api-{uuid.uuid4().hex[:6]}"
    arn = sfn.create_state_machine(name=name, definition=json.dumps(PASS), publish=True,
                                   roleArn=f"arn:aws:iam::{account}:role/flowbench-sample-role",
                                   tags=[{"key": "team", "value": "under-12"}])["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(
        {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}), publish=True)
    sfn.create_state_machine_alias(name="live", description="what the club runs", routingConfiguration=[
        {"stateMachineVersionArn": f"{arn}:1", "weight": 90}, {"stateMachineVersionArn": f"{arn}:2", "weight": 10}])

    page.goto(f"{server['base']}/state-machines/{name}/")
    page.get_by_role("tab", name="Config").click()
    card = page.locator("#aliases-and-tags")
    card.wait_for()
    assert page.locator("#aliases tbody tr").all_inner_texts() == ["live\tversion 1 (90%), version 2 (10%)"]
    assert page.locator("#tags tbody tr").all_inner_texts() == ["team\tunder-12"]
    expect(page.locator("#versions tbody tr")).to_have_count(2)   # filled by the page's script
    shot(page, "sfn-machine-config-aliases-tags")
