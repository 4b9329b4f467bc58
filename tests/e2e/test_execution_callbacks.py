"""The execution page's callbacks in a real browser: a Task waiting on its token shows the token
and a form; sending the task's success from the page resumes the execution, whose next Task
starts a nested execution (.sync); the Task's panel links to the child, the child's page says who
started it."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import expect

from tests.e2e.test_machine_executions import api_caller, node

NOTIFY = "def lambda_handler(event, context):\n    return {'handed': True}\n"


def test_a_task_token_is_answered_from_the_execution_page(server, page, shot):
    base = server["base"]
    tag = uuid.uuid4().hex[:6]
    page.goto(f"{base}/state-machines/")
    call = api_caller(page)
    function, role, child, parent = f"cb-notify-{tag}", f"cb-role-{tag}", f"cb-child-{tag}", f"cb-parent-{tag}"
    call("POST", "/api/functions", {"name": function, "runtime": "python"})
    call("PUT", f"/api/functions/{function}/code", {"files": {"lambda_function.py": NOTIFY}})
    call("POST", f"/api/functions/{function}/deploy")
    account = re.search(r":(\d{12}):", json.dumps(call("GET", "/api/roles/default-policy"))).group(1)
    call("POST", "/api/roles", {"name": role, "trusted": ["states"], "policy": {
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["lambda:InvokeFunction", "states:StartExecution"], "Resource": "*"}]}})
    call("POST", "/api/state-machines", {"name": child, "type": "STANDARD", "role": role, "definition": json.dumps(
        {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}})})
    call("POST", f"/api/state-machines/{child}/versions")
    definition = {"StartAt": "Approve", "States": {
        "Approve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "Next": "Nested",
                    "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}}},
        "Nested": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2", "End": True,
                   "Parameters": {"StateMachineArn": f"arn:aws:states:us-east-1:{account}:stateMachine:{child}",
                                  "Input.$": "$"}}}}
    call("POST", "/api/state-machines", {"name": parent, "type": "STANDARD", "role": role,
                                         "definition": json.dumps(definition)})
    call("POST", f"/api/state-machines/{parent}/versions")
    execution = call("POST", f"/api/state-machines/{parent}/executions", {"input": "{}"})["id"]

    page.goto(f"{base}/executions/{execution}/")
    app = page.locator("#execution-app")
    expect(app).to_have_attribute("data-ready", "true")
    box = page.locator("#callbacks")
    expect(box).to_have_attribute("data-waiting", "1")
    expect(box).to_contain_text("Waiting for a callback: Approve")
    token = box.locator("input.token").input_value()
    assert len(token) == 64
    output = box.locator("textarea.callback-output")
    output.fill('{"approved": ')
    expect(box.locator("button.send-success")).to_be_disabled()
    output.fill('{"approved": true}')
    expect(box.locator("button.send-success")).to_be_enabled()
    shot(page, "callbacks-waiting")
    box.locator("button.send-success").click()

    expect(app).to_have_attribute("data-status", "SUCCEEDED")
    expect(box).to_be_hidden()
    result = json.loads(page.locator("#execution-output").inner_text())
    assert result["Output"] == {"approved": True}
    node(page, "Nested").click()
    started = page.locator("#state-detail .children a")
    expect(started).to_have_count(1)
    shot(page, "callbacks-answered")
    started.click()
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]+/$"))
    expect(app).to_have_attribute("data-ready", "true")
    expect(page.locator("#callbacks .started-by")).to_contain_text("Started by")
    expect(page.locator("#callbacks .started-by a")).to_have_attribute("href", f"/executions/{execution}/")
    shot(page, "callbacks-child")
