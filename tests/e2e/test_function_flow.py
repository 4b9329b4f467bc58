"""The studio in a real browser: sign in, create, edit, configure, deploy, save an event, Test with
logs streaming while the function runs, then the result and its summary."""

from __future__ import annotations

import json
import re
import socket
import threading

from playwright.sync_api import expect

STREAMER = """import os
import socket


def lambda_handler(event, context):
    print("starting drill", os.environ["DRILL_NAME"])
    connection = socket.create_connection(("127.0.0.1", event["port"]))
    print("waiting for release")
    connection.recv(1)
    return {"released": True, "drill": os.environ["DRILL_NAME"]}
"""


class Release:
    """A socket the function connects to and blocks on until the test releases it."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(60)
        self.port = self.listener.getsockname()[1]
        self.connection = None
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.connection, _ = self.listener.accept()

    def release(self):
        self.thread.join(timeout=60)
        self.connection.sendall(b"x")
        self.connection.close()
        self.listener.close()


def replace_editor_text(page, selector: str, text: str):
    editor = page.locator(f"{selector} .cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def create_function(page, base: str, name: str, runtime: str = "python"):
    """Creates a hello-world function through the page and waits for its page to be ready."""
    page.goto(f"{base}/functions/new")
    page.fill("#name", name)
    page.select_option("#runtime", runtime)
    page.click("#create")
    page.wait_for_url(f"{base}/functions/{name}/")
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")


def test_sign_in_link_is_single_use(server, browser, signed_in):
    # `signed_in` has already used the link.
    context = browser.new_context()
    page = context.new_page()
    page.goto(server["link"])
    expect(page.locator("h1")).to_contain_text("does not work")
    page.goto(server["base"] + "/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/"))
    context.close()


def test_create_edit_deploy_and_test_with_streaming_logs(server, page, shot):
    base = server["base"]
    page.goto(base + "/")
    expect(page.locator("#functions tbody tr").first).to_be_visible()
    expect(page.locator("#functions")).to_contain_text("team-picker")
    expect(page.locator("#functions")).to_contain_text("공격 훈련")
    shot(page, "01-function-list")

    page.click("#create-function")
    expect(page.locator("#runtime option")).to_have_count(5)
    page.fill("#name", "bad name!")
    page.click("#create")
    expect(page.locator('.field-error[data-field="name"]')).to_contain_text("1 to 64 letters")
    page.fill("#name", "streamer")
    page.select_option("#runtime", "python")
    page.fill("#description", "Streams its logs, then waits")
    shot(page, "02-create-function")
    page.click("#create")
    page.wait_for_url(f"{base}/functions/streamer/")
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")
    # Creating deploys the starting code, as the console does.
    expect(page.locator("#deployed-state")).to_be_visible()
    expect(page.locator("#undeployed")).to_be_hidden()

    replace_editor_text(page, "#code-editor", STREAMER)
    expect(page.locator("#save-state")).to_contain_text("Unsaved")
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Draft saved")
    expect(page.locator("#code-editor .cm-content")).to_contain_text("waiting for release")
    shot(page, "03-code-editor")

    page.click('.tabs [data-tab="configuration"]')
    page.fill("#cfg-timeout", "60")
    page.check("#cfg-network")
    page.click("#env-add")
    page.locator(".env-key").last.fill("1bad")
    expect(page.locator('#config-form .field-error[data-field="env"]')).to_contain_text("starts with a letter")
    page.locator(".env-key").last.fill("DRILL_NAME")
    page.locator(".env-value").last.fill("패스 훈련")
    page.click("#config-save")
    expect(page.locator("#status-line")).to_contain_text("Configuration saved and applied")
    expect(page.locator("#status-line")).to_contain_text("code edits are still not deployed")
    expect(page.locator("#config-form")).to_contain_text("apply at once")
    shot(page, "04-configuration")

    page.click("#deploy")
    expect(page.locator("#status-line")).to_contain_text("Deployed")
    expect(page.locator("#undeployed")).to_be_hidden()
    expect(page.locator("#deployed-state")).to_be_visible()

    release = Release()
    page.click('.tabs [data-tab="test"]')
    expect(page.locator("#event-action-new")).to_be_checked()
    expect(page.locator("#event-action-saved")).to_be_disabled()
    page.fill("#event-name", "release")
    replace_editor_text(page, "#event-editor", '{"port": }')
    expect(page.locator("#event-json-error")).to_contain_text("line 1")
    replace_editor_text(page, "#event-editor", json.dumps({"port": release.port}))
    expect(page.locator("#event-json-error")).to_be_empty()
    page.click("#event-save")
    expect(page.locator("#status-line")).to_contain_text("Saved test event release")
    expect(page.locator("#event-select option:checked")).to_have_text("release")
    expect(page.locator("#event-action-saved")).to_be_checked()

    page.click("#run-test")
    # The log line shows while the function is blocked on the socket: it has not finished.
    expect(page.locator("#result-logs")).to_contain_text("waiting for release")
    expect(page.locator("#result-logs")).to_contain_text("starting drill 패스 훈련")
    expect(page.locator("#result")).to_have_attribute("data-status", "running")
    expect(page.locator("#result-status")).to_have_text("Running…")
    shot(page, "05-test-running")
    release.release()

    expect(page.locator("#result")).to_have_attribute("data-status", "succeeded")
    response = json.loads(page.locator("#result-response").inner_text())
    assert response == {"released": True, "drill": "패스 훈련"}
    summary = page.locator("#result-summary")
    for label in ["Request ID", "Duration", "Billed duration", "Memory size", "Max memory used", "Init duration"]:
        expect(summary).to_contain_text(label)
    expect(summary).to_contain_text("128 MB")
    expect(page.locator("#result-logs")).to_contain_text("REPORT RequestId")
    shot(page, "06-test-result")


def test_publish_view_versions_and_monitor(server, page, shot):
    base = server["base"]
    page.goto(f"{base}/functions/attack-training/")
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")
    # Other tests of the session (state machines) may have invoked this sample already.
    metrics = page.request.get(f"{base}/api/functions/attack-training/metrics").json()
    before = sum(bucket["invocations"] for bucket in metrics["buckets"])
    page.click("#test-button")
    expect(page.locator("#result")).to_have_attribute("data-status", "succeeded")
    result = json.loads(page.locator("#result-response").inner_text())
    assert result["lastDrill"] == "공격 훈련"
    assert result["TraningType"] == "공격수"
    page.click("#publish")
    expect(page.locator("#publish-dialog")).to_be_visible()
    page.fill("#publish-description", "first release")
    shot(page, "07a-publish-dialog")
    page.click("#publish-go")
    expect(page.locator("#publish-dialog")).to_be_hidden()
    expect(page.locator("#status-line")).to_contain_text("Published version 1")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    expect(page.locator("#versions")).to_contain_text("first release")
    expect(page.locator("#versions")).not_to_contain_text(re.compile(r"\b1 seconds ago"))
    page.locator("#versions a[data-version='1']").click()
    expect(page.locator("#version-title")).to_have_text("Version 1 (read-only)")
    expect(page.locator("#version-code")).to_contain_text("볼 경합 훈련")
    shot(page, "07-versions")
    page.click('.tabs [data-tab="monitor"]')
    expect(page.locator("#invocations tbody tr")).to_have_count(before + 1)
    expect(page.locator("#invocations")).to_contain_text("succeeded")
    expect(page.locator("#chart-invocations svg rect")).not_to_have_count(0)
    shot(page, "08-monitor")


def test_the_team_picker_sample_draws_four_teams_of_three(server, page, shot):
    page.goto(f"{server['base']}/functions/team-picker/")
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")
    expect(page.locator("#code-editor .cm-content")).to_contain_text("Mikasa")
    page.click('.tabs [data-tab="test"]')
    expect(page.locator("#event-select option:checked")).to_have_text("draw")
    page.click("#run-test")
    expect(page.locator("#result")).to_have_attribute("data-status", "succeeded")
    result = json.loads(page.locator("#result-response").inner_text())
    teams = [team["members"] for team in result["teams"]]
    assert len(teams) == 4 and all(len(members) == 3 for members in teams)
    assert len(result["leftOut"]) == 1
    everyone = {name for members in teams for name in members} | set(result["leftOut"])
    assert everyone == {"Eren", "Mikasa", "Armin", "Levi", "Erwin", "Hange", "Jean", "Connie", "Sasha",
                        "Historia", "Reiner", "Bertholdt", "Annie"}
    expect(page.locator("#result-logs")).to_contain_text("Team 1:")
    shot(page, "09-team-picker")


def test_files_can_be_added_renamed_and_deleted_and_bad_settings_name_their_field(server, page, shot):
    base = server["base"]
    answers = iter(["helpers.py", "drills.py"])
    page.on("dialog", lambda dialog: dialog.accept(next(answers, "")) if dialog.type == "prompt" else dialog.accept())
    page.goto(f"{base}/functions/new")
    page.fill("#name", "multi-file")
    page.click("#create")
    page.wait_for_url(f"{base}/functions/multi-file/")
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")

    page.click("#file-add")
    expect(page.locator('.filetab[data-file="helpers.py"]')).to_have_class(re.compile("active"))
    page.locator("#code-editor .cm-content").click()
    page.keyboard.insert_text("DRILLS = ['패스 훈련']\n")
    page.click("#file-rename")
    expect(page.locator('.filetab[data-file="drills.py"]')).to_be_visible()
    expect(page.locator('.filetab[data-file="helpers.py"]')).to_have_count(0)
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Draft saved")
    files = page.evaluate("fetch('/api/functions/multi-file').then(r => r.json()).then(d => d.files)")
    assert set(files) == {"lambda_function.py", "drills.py"}
    assert files["drills.py"] == "DRILLS = ['패스 훈련']\n"
    shot(page, "10-several-files")

    page.click("#file-delete")
    expect(page.locator('.filetab[data-file="drills.py"]')).to_have_count(0)
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Draft saved")

    page.click('.tabs [data-tab="configuration"]')
    page.fill("#cfg-timeout", "0")
    page.click("#config-save")
    expect(page.locator('#config-form .field-error[data-field="timeout"]')).to_contain_text("between 1 and 900")
    page.fill("#cfg-timeout", "5")
    page.fill("#cfg-handler", "nodot")
    page.click("#config-save")
    expect(page.locator('#config-form .field-error[data-field="handler"]')).to_contain_text("<file without extension>")


def test_a_function_can_be_deleted_from_its_page(server, page):
    base = server["base"]
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/functions/new")
    page.fill("#name", "short-lived")
    page.click("#create")
    page.wait_for_url(f"{base}/functions/short-lived/")
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")
    page.click("#delete-function")
    page.wait_for_url(f"{base}/")
    expect(page.locator("#functions")).to_contain_text("team-picker")
    expect(page.locator("#functions")).not_to_contain_text("short-lived")


def test_a_failing_function_shows_its_error_type_message_and_trace(server, page, shot):
    base = server["base"]
    create_function(page, base, "fails", "nodejs")
    expect(page.locator('.filetab[data-file="index.js"]')).to_be_visible()
    replace_editor_text(page, "#code-editor",
                        'exports.handler = async (event) => {\n'
                        '  console.log("checking the pitch");\n'
                        '  throw new TypeError("no ball for 볼 경합 훈련");\n'
                        '};\n')
    page.click("#deploy")
    expect(page.locator("#deployed-state")).to_be_visible()
    page.click("#test-button")
    expect(page.locator("#result")).to_have_attribute("data-status", "failed")
    error = json.loads(page.locator("#result-response").inner_text())
    assert error["errorType"] == "TypeError"
    assert error["errorMessage"] == "no ball for 볼 경합 훈련"
    assert error["stackTrace"]
    expect(page.locator("#result-status")).to_have_text("Execution result: failed")
    expect(page.locator("#result-logs")).to_contain_text("checking the pitch")
    shot(page, "11-test-error")


def saved_events(page, name):
    events = page.evaluate(f"fetch('/api/functions/{name}/test-events').then(r => r.json())")["test_events"]
    return {event["name"]: event["body"] for event in events}


def test_a_new_event_never_replaces_the_selected_one_and_a_taken_name_is_refused(server, page, shot):
    base = server["base"]
    create_function(page, base, "event-keeper")
    # A new function answers Test at once: its starting code was deployed when it was created.
    page.click("#test-button")
    expect(page.locator("#result")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#result-response")).to_contain_text("Hello from Flowbench!")

    page.fill("#event-name", "first")
    replace_editor_text(page, "#event-editor", '{"n": 1}')
    page.click("#event-save")
    expect(page.locator("#status-line")).to_contain_text("Saved test event first")
    expect(page.locator("#event-action-saved")).to_be_checked()

    # With "first" selected, a new name makes a second event; "first" is kept as it was.
    page.check("#event-action-new")
    expect(page.locator("#event-name")).to_be_visible()
    page.fill("#event-name", "second")
    replace_editor_text(page, "#event-editor", '{"n": 2}')
    page.click("#event-save")
    expect(page.locator("#status-line")).to_contain_text("Saved test event second")
    assert saved_events(page, "event-keeper") == {"first": {"n": 1}, "second": {"n": 2}}

    # Editing a saved event updates it under its own name.
    page.select_option("#event-select", label="first")
    expect(page.locator("#event-editor .cm-content")).to_contain_text('"n": 1')
    replace_editor_text(page, "#event-editor", '{"n": 10}')
    page.click("#event-save")
    expect(page.locator("#status-line")).to_contain_text("Saved test event first")
    assert saved_events(page, "event-keeper") == {"first": {"n": 10}, "second": {"n": 2}}

    # A name already taken is refused, next to the name, and nothing changes.
    page.check("#event-action-new")
    page.fill("#event-name", "second")
    replace_editor_text(page, "#event-editor", '{"n": 99}')
    page.click("#event-save")
    expect(page.locator('[data-panel="test"] .field-error[data-field="name"]')).to_contain_text(
        "An event called second already exists")
    shot(page, "12-test-event-name-taken")
    assert saved_events(page, "event-keeper") == {"first": {"n": 10}, "second": {"n": 2}}


LONG_LOG = """def lambda_handler(event, context):
    for n in range(20000):
        print(f"drill {n:05d}: pass, move, receive, shoot, recover")
    return "done"
"""


def test_a_long_log_shows_its_end_at_once_with_a_note(server, page, shot):
    base = server["base"]
    create_function(page, base, "long-log")
    replace_editor_text(page, "#code-editor", LONG_LOG)
    page.click("#deploy")
    expect(page.locator("#deployed-state")).to_be_visible()
    page.click("#test-button")
    expect(page.locator("#result")).to_have_attribute("data-status", "succeeded")
    logs = page.locator("#result-logs")
    expect(logs).to_contain_text("drill 19999: pass, move, receive, shoot, recover")
    expect(logs).to_contain_text("REPORT RequestId")
    expect(logs).not_to_contain_text("drill 00000:")
    expect(page.locator("#result-logs-note")).to_contain_text("lines are not shown here")
    # The page keeps the end in view and offers the whole log.
    at_bottom = page.evaluate("(() => { const p = document.getElementById('result-logs');"
                              " return p.scrollTop + p.clientHeight >= p.scrollHeight - 2; })()")
    assert at_bottom
    with page.expect_download() as download:
        page.click("#download-log")
    text = open(download.value.path(), encoding="utf-8").read()
    assert "drill 00000:" in text and "drill 19999:" in text
    shot(page, "13-long-log")
