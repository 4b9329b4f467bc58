"""The chat sample's room page in Debian's Chromium, on a server of its own whose first prepare
loaded the sample: two tabs join one room and each sees the other's messages (Korean text
included); the connection state shows, a connection the server drops comes back by itself; one
tab closes and the other keeps talking; a person without the sample is offered to load it."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.aws.test_sample_chat import chat_sample_server, room_connections
from tests.e2e.conftest import sign_in
from tests.integration.cluster import wait_until
from tests.live_server import new_person


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory):
    with chat_sample_server(tmp_path_factory.mktemp("chat-e2e")) as found:
        yield found


@pytest.fixture(scope="module")
def signed_in(chat_server, browser, tmp_path_factory):
    return sign_in(chat_server, browser, tmp_path_factory.mktemp("chat-browser"))


@pytest.fixture
def context(browser, signed_in):
    """A signed-in browser context whose pages fail the test on a JavaScript error or a CSP refusal."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US", storage_state=signed_in)
    errors = []

    def watch(page):
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text else None)

    context.on("page", watch)
    yield context
    context.close()
    assert not errors, f"JavaScript errors or CSP refusals on the page: {errors}"


def _join(page, base: str, name: str, room: str) -> None:
    page.goto(f"{base}/samples/chat/room/")
    expect(page.locator("#chat-state")).to_have_attribute("data-state", "connected")
    page.fill("#chat-name", name)
    page.fill("#chat-room", room)
    page.click("#chat-connect")
    expect(page.locator("#chat-where")).to_have_text(f"in {room} as {name}")
    expect(page.locator("#chat-state")).to_have_attribute("data-state", "connected")


def _say(page, text: str) -> None:
    page.fill("#chat-text", text)
    page.click("#chat-send-button")
    expect(page.locator("#chat-text")).to_have_value("")


def test_two_tabs_chat_and_one_keeps_talking_when_the_other_closes(chat_server, context, shot):
    base, room = chat_server["base"], f"tabs-{uuid.uuid4().hex[:6]}"
    first = context.new_page()
    second = context.new_page()
    _join(first, base, "Ada", room)
    _join(second, base, "민준", room)
    assert sorted(c["name"] for c in room_connections(chat_server, room).values()) == ["Ada", "민준"]

    _say(first, "Hello from the first tab")
    for page in (first, second):   # each send is its own invocation: the second waits for the first
        expect(page.locator(".chat-message")).to_have_count(1)
    _say(second, "안녕하세요, 두 번째 탭입니다")
    for page in (first, second):
        messages = page.locator(".chat-message")
        expect(messages).to_have_count(2)
        expect(messages.nth(0).locator(".chat-name")).to_have_text("Ada")
        expect(messages.nth(0).locator(".chat-text")).to_have_text("Hello from the first tab")
        expect(messages.nth(1).locator(".chat-name")).to_have_text("민준")
        expect(messages.nth(1).locator(".chat-text")).to_have_text("안녕하세요, 두 번째 탭입니다")
    # The Korean text is drawn with a font that has its glyphs (fonts-noto-cjk), not boxes.
    assert second.evaluate("document.fonts.check('16px sans-serif', '안녕하세요')")
    shot(first, "chat-01-two-tabs")

    # The server drops the first tab's connection (DeleteConnection): it says so and comes back.
    (first_id,) = [cid for cid, c in room_connections(chat_server, room).items() if c["name"] == "Ada"]
    chat_server["client"]("apigatewaymanagementapi").delete_connection(ConnectionId=first_id)
    expect(first.locator(".chat-note.dropped")).to_contain_text("Connection closed")
    expect(first.locator("#chat-state")).to_have_attribute("data-state", "connected", timeout=30000)
    wait_until(lambda: sorted(c["name"] for c in room_connections(chat_server, room).values()) == ["Ada", "민준"], 60,
               "the first tab joined the room again")
    _say(first, "back again")
    expect(second.locator(".chat-message").last.locator(".chat-text")).to_have_text("back again")

    first.close()
    wait_until(lambda: [c["name"] for c in room_connections(chat_server, room).values()] == ["민준"], 60,
               "the closed tab left the room")
    _say(second, "혼자 남았어요")
    expect(second.locator(".chat-message").last.locator(".chat-text")).to_have_text("혼자 남았어요")
    expect(second.locator("#chat-state")).to_have_attribute("data-state", "connected")

    second.click("#chat-disconnect")
    expect(second.locator("#chat-state")).to_have_attribute("data-state", "closed")
    expect(second.locator("#chat-state")).to_have_text("closed")
    expect(second.locator("#chat-send-button")).to_be_disabled()
    expect(second.locator(".chat-note").last).to_have_text("Left the room.")
    shot(second, "chat-02-alone-and-left")


def test_a_refused_room_name_keeps_sending_off(chat_server, context):
    page = context.new_page()
    page.goto(f"{chat_server['base']}/samples/chat/room/?name=x&room=bad%20room")
    expect(page.locator("#chat-state")).to_contain_text("reconnecting")
    expect(page.locator("#chat-send-button")).to_be_disabled()
    page.click("#chat-disconnect")
    expect(page.locator("#chat-state")).to_have_text("closed")


def test_a_person_without_the_sample_is_offered_to_load_it(chat_server, context, shot):
    person = new_person(chat_server["env"], f"newcomer-{uuid.uuid4().hex[:6]}")
    page = context.new_page()
    page.goto(person["link"])
    page.wait_for_url(f"{chat_server['base']}/")
    page.goto(f"{chat_server['base']}/samples/chat/room/")
    expect(page.locator("#chat-missing")).to_contain_text("You have not loaded the Chat sample")
    expect(page.locator("#chat-load")).to_be_visible()
    expect(page.locator("#chat-state")).to_have_count(0)
    expect(page.locator("#chat")).to_have_count(0)
    shot(page, "chat-03-not-loaded")
