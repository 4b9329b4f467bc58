"""The function page's Function URL panel and overview in a real browser: create a public URL with
CORS from the Configuration tab and call it, see it as a trigger box and in the overview, switch it
to AWS_IAM (unsigned calls refused), have a bad CORS method refused under its field, delete it (its
address then 404)."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import expect

from tests.e2e.test_function_flow import create_function
from tests.live_server import manage

API = """
from django.contrib.auth import get_user_model
from editor.services import http_apis
from editor.services.accounts import function_arn
admin = get_user_model().objects.get(username="admin")
http_apis.create_api(admin, name="shop", target=function_arn(admin, {name!r}), route_key="GET /items/{{id}}")
"""


def test_a_function_url_is_created_shown_changed_and_deleted_from_the_page(server, page, shot):
    base, name = server["base"], f"web-{uuid.uuid4().hex[:6]}"
    create_function(page, base, name)
    expect(page.locator("#trigger-list")).to_contain_text("No triggers")
    expect(page.locator("#overview-url")).to_have_text("—")

    page.click('.tabs [data-tab="configuration"]')
    expect(page.locator("#url-none")).to_contain_text("No function URL")
    page.click("#url-create")
    page.check("#url-auth-none")
    page.check("#url-cors-on")
    page.fill("#url-origins", "https://app.example")
    page.fill("#url-methods", "GET, POST")
    page.fill("#url-max-age", "600")
    page.click("#url-save")
    expect(page.locator("#status-line")).to_contain_text("Function URL created")
    expect(page.locator("#url-auth")).to_have_text("NONE")
    expect(page.locator("#url-cors")).to_contain_text("origins https://app.example; methods GET, POST; max age 600 s")
    url = page.locator("#url-link").inner_text()
    assert url.startswith(f"{base}/lambda-url/") and url.endswith("/")
    expect(page.locator("#url-host")).to_contain_text(".lambda-url.localhost:")
    box = page.locator('#trigger-list .trigger-box[data-kind="function-url"]')
    expect(box).to_contain_text("Function URL")
    expect(box).to_contain_text("$LATEST · NONE")
    expect(page.locator("#overview-url a")).to_have_text(url)

    # The panel opened it to everyone (the policy statement it adds), so the URL answers.
    answer = httpx.get(url + "hello", headers={"Origin": "https://app.example"})
    assert answer.status_code == 200 and answer.json() == "Hello from Flowbench!"
    assert answer.headers["access-control-allow-origin"] == "https://app.example"
    # An HTTP API calling the function joins the overview's trigger boxes.
    manage(server["env"], code=API.format(name=name))
    page.reload()
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")
    api_box = page.locator('#trigger-list .trigger-box[data-kind="http-api"]')
    expect(api_box).to_contain_text("API Gateway: shop")
    expect(api_box).to_contain_text("GET /items/{id}")
    page.click('.tabs [data-tab="configuration"]')
    shot(page, "function-url-panel")

    page.click("#url-edit")
    page.fill("#url-methods", "FETCH")
    page.click("#url-save")
    expect(page.locator('#url-form .field-error[data-field="Cors"]')).to_contain_text("FETCH is not an HTTP method")
    shot(page, "function-url-form")
    page.fill("#url-methods", "GET")
    page.check("#url-auth-iam")
    page.click("#url-save")
    expect(page.locator("#status-line")).to_contain_text("Function URL saved")
    expect(page.locator("#url-auth")).to_have_text("AWS_IAM")
    expect(box).to_contain_text("$LATEST · AWS_IAM")
    assert httpx.get(url).status_code == 403

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#url-delete")
    expect(page.locator("#url-none")).to_be_visible()
    expect(box).to_have_count(0)
    expect(api_box).to_have_count(1)
    assert httpx.get(url).status_code == 404
