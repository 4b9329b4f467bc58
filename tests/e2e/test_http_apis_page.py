"""The HTTP APIs page in a real browser: quick create an API to a function, see its route, stage and
deployment, deploy a stage without AutoDeploy, call its URL and see the request listed; add a route that starts a state machine (a role
API Gateway cannot assume is refused on the form) and call it; bad input on the forms; delete."""

from __future__ import annotations

import json
import re
import uuid

import httpx
from playwright.sync_api import expect

from tests.e2e.test_function_flow import create_function
from tests.live_server import manage

SETUP = """
import json
from django.contrib.auth import get_user_model
from editor.services import machines, roles
from editor.services.accounts import role_arn, state_machine_arn
admin = get_user_model().objects.get(username="admin")
roles.create_role(admin, {{"name": {role!r}, "trusted": ["apigateway"], "policy": {{"Version": "2012-10-17",
    "Statement": [{{"Effect": "Allow", "Action": "states:StartExecution", "Resource": "*"}}]}}}})
machines.create_machine(admin, {{"name": {machine!r}, "type": "STANDARD", "role": "flowbench-sample-role",
    "definition": json.dumps({{"StartAt": "P", "States": {{"P": {{"Type": "Pass", "End": True}}}}}})}})
print(json.dumps({{"role": role_arn(admin, {role!r}), "machine": state_machine_arn(admin, {machine!r})}}))
"""


STAGE = """
from django.contrib.auth import get_user_model
from editor.services import http_apis
admin = get_user_model().objects.get(username="admin")
http_apis.create_stage(http_apis.get_api(admin, {api_id!r}), name="prod")
"""


def test_create_an_api_call_it_route_to_a_state_machine_and_delete_it(server, page, shot):
    base, suffix = server["base"], uuid.uuid4().hex[:6]
    function, machine, role, name = f"web-{suffix}", f"orders-{suffix}", f"apigw-{suffix}", f"shop-{suffix}"
    create_function(page, base, function)
    made = json.loads(manage(server["env"], code=SETUP.format(role=role, machine=machine)).strip().splitlines()[-1])

    page.goto(f"{base}/http-apis/")
    expect(page.locator("nav.topnav a.active")).to_have_text("HTTP APIs")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    form = page.locator("#create-form")
    # Bad input: no name, then a route key that does not read.
    form.locator("#api-target").select_option(label=function)
    form.locator("#api-create").click()
    expect(form.locator('.field-error[data-field="Name"]')).to_contain_text("1 to 128 characters")
    form.locator("#api-name").fill(name)
    form.locator("#api-route").fill("FETCH /items")
    form.locator("#api-create").click()
    expect(form.locator('.field-error[data-field="RouteKey"]')).to_contain_text("FETCH")
    expect(form.locator(".role-field")).to_be_hidden()
    form.locator("#api-route").fill("GET /items/{id}")
    form.locator("#api-create").click()

    section = page.locator("section.http-api", has_text=name)
    expect(section).to_be_visible()
    api_id = section.get_attribute("data-api")
    route = section.locator(f'#routes-{api_id} tr[data-route="GET /items/{{id}}"]')
    expect(route).to_contain_text(function)
    expect(route.locator("a.target-function")).to_have_attribute("href", f"/functions/{function}/")
    stage = section.locator(f'#stages-{api_id} tr[data-stage="$default"]')
    expect(stage).to_contain_text("yes")
    expect(stage.locator("td").nth(3)).to_have_text(re.compile(r"^[a-z0-9]{6}$"))
    endpoint = section.locator("a.endpoint").get_attribute("href")
    assert endpoint.endswith(f"/http-api/{api_id}/")

    # A stage without AutoDeploy serves nothing until it is deployed from the page.
    manage(server["env"], code=STAGE.format(api_id=api_id))
    page.reload()
    prod = page.locator(f'#stages-{api_id} tr[data-stage="prod"]')
    expect(prod).to_contain_text("not deployed")
    assert httpx.get(endpoint + "prod/items/1", timeout=60).status_code == 404
    prod.get_by_role("button", name="Deploy").click()
    expect(prod.locator("td").nth(3)).to_have_text(re.compile(r"^[a-z0-9]{6}$"))
    assert httpx.get(endpoint + "prod/items/1", timeout=60).status_code == 200

    called = httpx.get(endpoint + "items/42", timeout=60)
    assert called.status_code == 200, called.text
    page.reload()
    requests = page.locator(f"#requests-{api_id} tr[data-request]")
    expect(requests).to_have_count(2)   # the newest first
    expect(requests.first).to_contain_text("GET /items/42")
    expect(requests.first).to_contain_text("GET /items/{id}")
    expect(requests.nth(1)).to_contain_text("prod")

    # A route to the state machine: the role field appears; a role that does not trust API Gateway is refused.
    section = page.locator(f'section[data-api="{api_id}"]')
    route_form = section.locator("form.route-form")
    route_form.locator("input[name=RouteKey]").fill("POST /orders")
    route_form.locator(".target-select").select_option(label=f"{machine} (standard)")
    expect(route_form.locator(".role-field")).to_be_visible()
    route_form.locator(".role-select").select_option(label="flowbench-sample-role (does not trust API Gateway)")
    route_form.get_by_role("button", name="Add route").click()
    expect(route_form.locator('.field-error[data-field="CredentialsArn"]')).to_contain_text(
        "does not trust apigateway.amazonaws.com")
    route_form.locator(".role-select").select_option(value=made["role"])
    route_form.get_by_role("button", name="Add route").click()
    machine_route = page.locator(f'#routes-{api_id} tr[data-route="POST /orders"]')
    expect(machine_route).to_contain_text(f"state machine {machine}")
    expect(machine_route.locator("a.target-machine")).to_have_attribute("href", f"/state-machines/{machine}/")
    expect(page.locator(f"#integrations-{api_id}")).to_contain_text("StepFunctions-StartExecution")

    started = httpx.post(endpoint + "orders", json={"order": 7}, timeout=60)
    assert started.status_code == 200, started.text
    assert started.json()["executionArn"].startswith(made["machine"].replace(":stateMachine:", ":execution:"))
    shot(page, "http-apis")

    # The machine's page has the API among its triggers, with the route that starts it.
    page.goto(f"{base}/state-machines/{machine}/")
    page.click('.modes [data-mode="config"]')
    card = page.locator(f'#machine-triggers a.trigger-box.http-api[href="/http-apis/#{api_id}"]')
    expect(card).to_contain_text(f"API Gateway: {name}")
    expect(card).to_contain_text("POST /orders: StartExecution")
    expect(page.locator("#cfg-role")).to_have_value("flowbench-sample-role")
    shot(page, "machine-http-api-routes")
    card.click()
    expect(page).to_have_url(re.compile(f"/http-apis/#{api_id}$"))

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'section[data-api="{api_id}"]').get_by_role("button", name="Delete API").click()
    expect(page.locator(f'section[data-api="{api_id}"]')).to_have_count(0)
    assert httpx.get(endpoint + "items/42", timeout=60).status_code == 404


def test_a_route_whose_function_was_deleted_is_marked_on_the_page(server, page, shot):
    from tests.e2e.test_machine_executions import api_caller

    base, name = server["base"], f"gone-{uuid.uuid4().hex[:6]}"
    page.goto(f"{base}/http-apis/")
    call = api_caller(page)
    call("POST", "/api/functions", {"name": name, "runtime": "python"})
    arn = next(f["arn"] for f in call("GET", "/api/http-apis")["choices"]["functions"] if f["name"] == name)
    api = call("POST", "/api/http-apis", {"Name": name, "Target": arn})
    call("DELETE", f"/api/functions/{name}")
    page.reload()   # the page was open before the API existed
    row = page.locator(f'[data-route="$default"]').filter(has=page.locator(".target-missing"))
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("Target deleted")
    expect(row.locator(".trigger-reason")).to_contain_text(f"The function {name} does not exist")
    shot(page, "http-apis-target-deleted")
    call("DELETE", f"/api/http-apis/{api['api_id']}")
