"""The WebSocket APIs page in a real browser: an API's stages, routes and the functions they call,
a client's live connection and its messages appearing as a `websockets` client talks, and the
connection leaving the page when the client goes; the function's page lists the API's routes
among its triggers."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.e2e.test_function_flow import create_function
from tests.live_server import manage

API = """
import json
from django.contrib.auth import get_user_model
from editor.services import http_apis, websocket_apis
from editor.services.accounts import function_arn
admin = get_user_model().objects.get(username="admin")
api = http_apis.create_api(admin, name={api_name!r}, protocol_type="WEBSOCKET")
integration = http_apis.create_integration(api, integration_type="AWS_PROXY", integration_uri=function_arn(admin, {name!r}))
for key in ("$default", "sendmessage"):
    route = http_apis.create_route(api, route_key=key, target="integrations/" + integration.integration_id)
    if key == "$default":
        websocket_apis.create_route_response(route, "$default")
http_apis.create_stage(api, name="dev", auto_deploy=True)
print(json.dumps({{"api_id": api.api_id, "url": websocket_apis.api_endpoint(api) + "/dev"}}))
"""


def test_the_page_shows_routes_live_connections_and_recent_messages(server, page, shot):
    base, name = server["base"], f"ws-{uuid.uuid4().hex[:6]}"
    api_name = f"chat-{uuid.uuid4().hex[:4]}"
    create_function(page, base, name)
    made = json.loads(manage(server["env"], code=API.format(name=name, api_name=api_name)).strip().splitlines()[-1])
    api_id = made["api_id"]

    page.goto(f"{base}/websocket-apis/")
    section = page.locator(f'section[data-api="{api_id}"]')
    expect(section.locator("h2")).to_contain_text(api_name)
    expect(section.locator(f"#stages-{api_id}")).to_contain_text(made["url"])
    expect(section.locator(f'#routes-{api_id} tr[data-route="sendmessage"]')).to_contain_text(name)
    expect(section.locator(f'#routes-{api_id} tr[data-route="$default"]')).to_contain_text("two-way")
    expect(section.locator(f"#connections-{api_id}")).to_contain_text("Nobody is connected")

    with connect(made["url"], additional_headers={"user-agent": "page-test/1"}, open_timeout=60) as client:
        client.send(json.dumps({"action": "sendmessage", "text": "hello page"}))
        client.send(json.dumps({"action": "other", "text": "to default"}))
        assert client.recv(timeout=60)   # the $default route's reply
        connection_row = section.locator(f"#connections-{api_id} tr[data-connection]")
        expect(connection_row).to_have_count(1)
        expect(connection_row).to_contain_text("page-test/1")
        messages = section.locator(f"#messages-{api_id}")
        expect(messages).to_contain_text("hello page")
        expect(messages.locator("tr.message.in")).to_have_count(2)
        expect(messages.locator("tr.message.out")).to_have_count(1)
        expect(messages.locator("tr.message.connect")).to_have_count(1)
        shot(page, "websocket-apis")
    expect(section.locator(f"#connections-{api_id}")).to_contain_text("Nobody is connected")
    expect(section.locator(f"#messages-{api_id} tr.message.disconnect")).to_have_count(1)

    page.goto(f"{base}/functions/{name}/")
    box = page.locator('#trigger-list .trigger-box[data-kind="websocket-api"]')
    expect(box).to_contain_text(api_name)
    expect(box).to_contain_text("$default, sendmessage")
    assert box.get_attribute("href") == f"/websocket-apis/#{api_id}"
    shot(page, "websocket-api-trigger")
    page.goto(f"{base}/websocket-apis/#{api_id}")
    expect(page.locator(f'section[data-api="{api_id}"]')).to_be_visible()
