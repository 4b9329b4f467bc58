"""The execution page in a real browser: the seed's football training machine on each route and on
an unknown position, a page reloaded (and a socket dropped) while a Task blocks, a Map iteration
picked, a running execution stopped.

This module runs after test_function_flow, whose monitor test counts the sample functions'
invocations; the seed machine here invokes them too."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_function_flow import STREAMER, Release, replace_editor_text

SEED = "youth-football-training"
ROUTES = {
    "공격수": ["공격 훈련", "볼 경합 훈련"],
    "미드필더": ["패스 훈련", "프리킥 훈련"],
    "수비수": ["수비 훈련", "볼 경합 훈련"],
}
TRAININGS = ["공격 훈련", "패스 훈련", "수비 훈련", "프리킥 훈련", "볼 경합 훈련"]


def node(page, name):
    return page.locator(f'#exec-graph g.fb-state[id="state/States/{name.replace(" ", "%20")}"]')


def start_from_editor(page, base, machine, payload: dict, name: str | None = None):
    page.goto(f"{base}/state-machines/{machine}/")
    expect(page.locator("#machine-app")).to_have_attribute("data-ready", "true")
    page.click("#start")
    replace_editor_text(page, "#exec-input", json.dumps(payload, ensure_ascii=False))
    expect(page.locator("#exec-input-error")).to_be_empty()
    if name:
        page.fill("#exec-name", name)
    page.click("#start-go")
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]+/$"))
    expect(page.locator("#execution-app")).to_have_attribute("data-ready", "true")


def event_ids(page) -> list[int]:
    return [int(t) for t in page.locator("#events tbody tr.ev td:first-child").all_inner_texts()]


@pytest.mark.parametrize("position", list(ROUTES))
def test_the_seed_machine_runs_each_route(server, page, shot, position):
    start_from_editor(page, server["base"], SEED, {"TraningType": position, "name": "손흥민"})
    app = page.locator("#execution-app")
    expect(app).to_have_attribute("data-status", "SUCCEEDED")
    expect(node(page, "훈련")).to_have_class(re.compile("fb-status-succeeded"))
    for training in TRAININGS:
        status = "succeeded" if training in ROUTES[position] else "not-run"
        expect(node(page, training)).to_have_class(re.compile(f"fb-status-{status}"))
    output = json.loads(page.locator("#execution-output").inner_text())
    assert [t["drill"] for t in output["trainings"]] == ROUTES[position]
    first = ROUTES[position][0]
    node(page, first).click()
    detail = page.locator("#state-detail")
    expect(detail).to_contain_text(first)
    expect(detail.locator(".invocation")).to_have_count(1)
    expect(detail.locator(".invocation")).to_contain_text("REPORT RequestId")
    if position == "공격수":
        shot(page, "2x-execution-seed-route")
        page.click('.tabs [data-tab="timeline"]')
        expect(page.locator(".tl-row")).to_have_count(3)
        shot(page, "2x-execution-timeline")


def test_an_unknown_position_fails_with_no_choice_matched(server, page, shot):
    start_from_editor(page, server["base"], SEED, {"TraningType": "골키퍼"})
    expect(page.locator("#execution-app")).to_have_attribute("data-status", "FAILED")
    expect(page.locator("#execution-error")).to_contain_text("States.NoChoiceMatched")
    expect(node(page, "훈련")).to_have_class(re.compile("fb-status-failed"))
    expect(node(page, "공격 훈련")).to_have_class(re.compile("fb-status-not-run"))
    expect(page.locator("#state-detail")).to_contain_text("States.NoChoiceMatched")
    expect(page.locator("#redrive")).to_be_visible()
    page.fill("#event-filter", "Failed")
    expect(page.locator("#events tbody tr.ev")).to_have_count(1)
    shot(page, "2x-execution-failed")
    page.goto(f"{server['base']}/state-machines/{SEED}/executions/?status=FAILED")
    expect(page.locator("#executions-app")).to_have_attribute("data-ready", "true")
    expect(page.locator("#executions tbody tr")).to_have_count(1)
    expect(page.locator("#executions")).to_contain_text("Failed")
    page.select_option("#status-filter", "")
    expect(page.locator("#executions tbody td.muted")).to_have_count(0)
    expect(page.locator("#executions tbody tr")).not_to_have_count(0)
    shot(page, "2x-execution-list")


GATE_MACHINE = {
    "Comment": "Warms up, then waits at the gate until the test opens it",
    "StartAt": "준비",
    "States": {
        "준비": {"Type": "Pass", "Result": {"drill": "패스 훈련"}, "ResultPath": "$.warmup", "Next": "Gate"},
        "Gate": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:{account}:function:gate",
                 "Retry": [{"ErrorEquals": ["Nothing.Matches"], "MaxAttempts": 1}], "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}

CALL = """async ([method, path, body]) => {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(path, {method, headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                                       body: body === null ? undefined : JSON.stringify(body)});
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(path + " " + response.status + " " + JSON.stringify(data));
  return data;
}"""


def api_caller(page):
    """Returns call(method, path, body=None): the JSON API from the signed-in page."""
    def call(method, path, body=None):
        return page.evaluate(CALL, [method, path, body])
    return call


def test_a_reloaded_page_shows_the_same_events_then_the_rest_live(server, page, shot):
    base = server["base"]
    page.goto(f"{base}/state-machines/")
    call = api_caller(page)
    call("POST", "/api/functions", {"name": "gate", "runtime": "python"})
    call("PUT", "/api/functions/gate/code", {"files": {"lambda_function.py": STREAMER}})
    call("PUT", "/api/functions/gate/configuration", {"timeout": 60, "network": True, "env": [{"key": "DRILL_NAME", "value": "gate"}]})
    call("POST", "/api/functions/gate/deploy")
    account = re.search(r":(\d{12}):", json.dumps(call("GET", "/api/roles/default-policy"))).group(1)
    definition = json.loads(json.dumps(GATE_MACHINE).replace("{account}", account))
    call("POST", "/api/state-machines", {"name": "gated", "type": "STANDARD", "role": "flowbench-sample-role", "template": "blank"})
    call("PUT", "/api/state-machines/gated", {"definition": json.dumps(definition, ensure_ascii=False, indent=2)})

    release = Release()
    start_from_editor(page, base, "gated", {"port": release.port}, name="gated-run")
    expect(node(page, "준비")).to_have_class(re.compile("fb-status-succeeded"))
    expect(node(page, "Gate")).to_have_class(re.compile("fb-status-running"))
    expect(page.locator("#events")).to_contain_text("LambdaFunctionStarted")
    before = event_ids(page)
    assert before == list(range(1, len(before) + 1))
    shot(page, "2x-execution-running")

    page.reload()
    expect(page.locator("#execution-app")).to_have_attribute("data-ready", "true")
    expect(page.locator("#execution-app")).to_have_attribute("data-status", "RUNNING")
    expect(node(page, "Gate")).to_have_class(re.compile("fb-status-running"))
    expect(page.locator("#live")).to_be_visible()
    assert event_ids(page)[:len(before)] == before
    # The socket drops: the page reconnects and resumes from the last event id it has.
    page.evaluate("window.flowbench.socket.close()")
    page.wait_for_function("() => window.flowbench.connections === 2 && window.flowbench.socket.readyState === 1")
    expect(page.locator("#live")).to_be_visible()

    release.release()
    expect(page.locator("#execution-app")).to_have_attribute("data-status", "SUCCEEDED")
    expect(node(page, "Gate")).to_have_class(re.compile("fb-status-succeeded"))
    stored = call("GET", page.url.replace(base, "").replace("/executions/", "/api/executions/").rstrip("/") + "/events?after=0")
    assert stored["events"][-1]["type"] == "ExecutionSucceeded"
    # The status can arrive a moment before the last event's row is drawn: wait for every row.
    expect(page.locator("#events tbody tr.ev")).to_have_count(len(stored["events"]))
    after = event_ids(page)
    assert after == list(range(1, len(after) + 1)), after
    assert len(after) > len(before)
    assert [e["id"] for e in stored["events"]] == after
    node(page, "Gate").click()
    expect(page.locator("#state-detail .invocation")).to_contain_text("waiting for release")
    shot(page, "2x-execution-after-reload")


def test_map_iterations_are_picked_to_filter_the_state_view(server, page, shot):
    from tests.e2e.test_machine_design import create_machine

    base = server["base"]
    create_machine(page, base, "doubler", template="map")
    page.click("#start")
    replace_editor_text(page, "#exec-input", '{"items": [1, 2, 3]}')
    page.click("#start-go")
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]+/$"))
    expect(page.locator("#execution-app")).to_have_attribute("data-status", "SUCCEEDED")
    assert json.loads(page.locator("#execution-output").inner_text()) == [{"value": 2}, {"value": 4}, {"value": 6}]
    page.click('.tabs [data-tab="states"]')
    expect(page.locator("#iteration-filter option")).to_have_count(4)
    expect(page.locator("#state-runs tbody tr")).to_have_count(4)
    page.select_option("#iteration-filter", "Each item #1")
    expect(page.locator("#state-runs tbody tr")).to_have_count(1)
    page.locator("#state-runs tbody tr").first.click()
    expect(page.locator("#state-detail .run")).to_have_count(1)
    expect(page.locator("#state-detail .run")).to_contain_text("Each item #1")
    expect(page.locator("#state-detail .run pre").nth(1)).to_contain_text('"value": 4')
    shot(page, "2x-execution-map-iteration")


def test_the_machine_list_shows_each_last_execution(server, page, shot):
    page.goto(f"{server['base']}/state-machines/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    row = page.locator("#machines tbody tr", has_text=SEED)
    expect(row).to_contain_text("Version")
    shot(page, "2x-machine-list")


def test_a_running_execution_is_stopped_and_its_state_shows_cancelled(server, page, shot):
    base = server["base"]
    page.goto(f"{base}/state-machines/")
    call = api_caller(page)
    call("POST", "/api/state-machines", {"name": "long-wait", "type": "STANDARD", "role": "flowbench-sample-role", "template": "blank"})
    call("PUT", "/api/state-machines/long-wait", {"definition": json.dumps(
        {"StartAt": "쉬는 시간", "States": {"쉬는 시간": {"Type": "Wait", "Seconds": 600, "End": True}}}, ensure_ascii=False)})
    start_from_editor(page, base, "long-wait", {})
    expect(node(page, "쉬는 시간")).to_have_class(re.compile("fb-status-running"))
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#stop")
    expect(page.locator("#execution-app")).to_have_attribute("data-status", "ABORTED")
    expect(node(page, "쉬는 시간")).to_have_class(re.compile("fb-status-cancelled"))
    expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator("#redrive")).to_be_visible()
    expect(page.locator("#events")).to_contain_text("ExecutionAborted")


def test_a_caught_failure_is_coloured_caught_and_its_error_shown(server, page, shot):
    from tests.e2e.test_machine_design import create_machine

    base = server["base"]
    create_machine(page, base, "fallback", template="retry-and-catch")
    call = api_caller(page)
    definition = json.loads(call("GET", "/api/state-machines/fallback")["definition"])
    task = definition["States"]["Call function"]
    task["Resource"] = re.sub(r"function:.*$", "function:no-such-drill", task["Resource"])
    task["Retry"][0]["ErrorEquals"] = ["States.ALL"]
    task["Retry"][0].update(IntervalSeconds=1, MaxAttempts=1)
    call("PUT", "/api/state-machines/fallback", {"definition": json.dumps(definition, indent=2)})
    page.reload()
    expect(page.locator("#machine-app")).to_have_attribute("data-ready", "true")
    page.click("#start")
    page.click("#start-go")
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]+/$"))
    expect(page.locator("#execution-app")).to_have_attribute("data-status", "SUCCEEDED")
    expect(node(page, "Call function")).to_have_class(re.compile("fb-status-caught"))
    expect(node(page, "Handle failure")).to_have_class(re.compile("fb-status-succeeded"))
    expect(node(page, "Done")).to_have_class(re.compile("fb-status-not-run"))
    node(page, "Call function").click()
    detail = page.locator("#state-detail")
    expect(detail.locator(".run")).to_have_class(re.compile("caught"))
    expect(detail).to_contain_text("Error")
    expect(detail.locator(".attempts tbody tr")).to_have_count(2)
    assert json.loads(page.locator("#execution-output").inner_text())["recovered"] == "handled"
    shot(page, "2x-execution-caught")


@pytest.mark.parametrize("fail, shown, hidden", [
    ({"Error": "Drill.Cancelled"}, "Drill.Cancelled", "null"),
    ({"Cause": "비가 와서 훈련 취소"}, "비가 와서 훈련 취소", "null"),
    ({}, None, None),
], ids=["error-only", "cause-only", "neither"])
def test_a_fail_state_shows_only_the_error_and_cause_it_has(server, page, shot, fail, shown, hidden):
    base = server["base"]
    name = "fail-" + "-".join(sorted(fail)).lower() if fail else "fail-bare"
    page.goto(f"{base}/")
    call = api_caller(page)
    definition = {"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", **fail}}}
    call("POST", "/api/state-machines", {"name": name, "role": "flowbench-sample-role",
                                         "definition": json.dumps(definition)})
    start_from_editor(page, base, name, {})
    expect(page.locator("#execution-app")).to_have_attribute("data-status", "FAILED")
    expect(page.locator("#execution-status")).to_have_text("Failed")
    banner = page.locator("#execution-error")
    if shown is None:
        expect(banner).to_be_hidden()
    else:
        expect(banner).to_be_visible()
        expect(banner).to_have_text(shown)
    node(page, "Stop").click()
    expect(page.locator("#state-detail")).not_to_contain_text("null")
    expect(page.locator("#execution-app")).not_to_contain_text("Failednull")
    shot(page, f"2x-execution-{name}")
