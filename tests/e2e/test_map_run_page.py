"""A Distributed Map's run in a real browser: the parent's page links its Map Run (with its counts,
in place of its children); the Map Run page follows the run live until it ends, then shows its
counts and its children, filterable by status; a child's page says whose item it is; the
machine's executions list only the parent. A running run's settings are edited on its page."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import expect

from tests.e2e.test_machine_executions import api_caller, node
from tests.live_server import manage

# Each item naps 2 s, one at a time, so that the run is still going when its page opens; item 3 fails
# (one failure tolerated).
PROCESSOR = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 3, "Next": "Boom"}],
                  "Default": "Nap"},
        "Boom": {"Type": "Fail", "Error": "Item.Broken", "Cause": "item 3 says so"},
        "Nap": {"Type": "Wait", "Seconds": 2, "Next": "Fine"},
        "Fine": {"Type": "Pass", "End": True}}}


def test_a_map_run_is_followed_from_its_parent_to_its_children(server, page, shot):
    base = server["base"]
    tag = uuid.uuid4().hex[:6]
    machine = f"fan-{tag}"
    page.goto(f"{base}/state-machines/")
    call = api_caller(page)
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "Label": "Fan", "MaxConcurrency": 1, "ToleratedFailureCount": 1, "End": True,
        "ItemProcessor": PROCESSOR}}}
    call("POST", "/api/state-machines", {"name": machine, "type": "STANDARD", "role": "flowbench-sample-role",
                                         "definition": json.dumps(definition)})
    call("POST", f"/api/state-machines/{machine}/versions")
    parent = call("POST", f"/api/state-machines/{machine}/executions",
                  {"input": json.dumps([{"n": n} for n in range(5)])})

    # The parent's page: its Map Run, linked (no child listed one by one).
    page.goto(f"{base}/executions/{parent['id']}/")
    app = page.locator("#execution-app")
    expect(app).to_have_attribute("data-ready", "true")
    link = page.locator("#callbacks .map-runs a.map-run-link")
    expect(link).to_have_text("Map Run Fan")
    link.click()

    # The Map Run page, while the run goes on: it reads the run again until the run ends.
    page.wait_for_url(re.compile(rf"/executions/{parent['id']}/map-runs/[0-9a-f-]+/$"))
    run = page.locator("#map-run-app")
    expect(run).to_have_attribute("data-ready", "true")
    expect(run).to_have_attribute("data-status", "RUNNING")
    expect(page.locator('#item-counts [data-count="pending"] .v')).not_to_have_text("0")
    shot(page, "map-run-running")
    expect(run).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)
    counts = {key: page.locator(f'#item-counts [data-count="{key}"] .v')
              for key in ("pending", "running", "succeeded", "failed", "timed_out", "aborted", "total")}
    for key, value in {"pending": 0, "running": 0, "succeeded": 4, "failed": 1, "timed_out": 0, "aborted": 0,
                       "total": 5}.items():
        expect(counts[key]).to_have_text(str(value))
    expect(page.locator("#map-run-arn")).to_have_text(re.compile(rf":mapRun:{machine}/Fan:[0-9a-f-]+$"))
    expect(page.locator("#facts")).to_contain_text("Each")
    expect(page.locator("#parent-link")).to_have_attribute("href", f"/executions/{parent['id']}/")
    rows = page.locator("#children tbody tr")
    expect(rows).to_have_count(5)
    expect(page.locator("#children tbody tr td:first-child")).to_have_text(["0", "1", "2", "3", "4"])
    expect(page.locator("#page-of")).to_have_text("Page 1 of 1")
    shot(page, "map-run-succeeded")
    page.select_option("#status-filter", "FAILED")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-index", "3")
    expect(page.locator("#child-count")).to_have_text("(1)")
    assert page.url.endswith("?status=FAILED")
    shot(page, "map-run-failed-filter")

    # The failed child's page: whose item it is.
    rows.first.locator("a.fname").click()
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]+/$"))
    expect(app).to_have_attribute("data-ready", "true")
    expect(app).to_have_attribute("data-status", "FAILED")
    started_by = page.locator("#callbacks .started-by")
    expect(started_by).to_contain_text(f"Item 3 of Map Run Fan of {parent['name']}")
    expect(started_by.locator("a.parent-link")).to_have_attribute("href", f"/executions/{parent['id']}/")
    expect(started_by.locator("a.map-run-link")).to_have_attribute("href", re.compile(r"/map-runs/[0-9a-f-]+/$"))
    expect(page.locator("nav.crumbs")).to_contain_text(f"{parent['name']} › Map Run Fan ›")
    shot(page, "map-run-child")

    # Back on the parent: the run's counts beside its link, in the history and the Map's panel.
    started_by.locator("a.parent-link").click()
    expect(app).to_have_attribute("data-status", "SUCCEEDED")
    expect(page.locator("#callbacks .map-runs li")).to_have_count(1)
    expect(page.locator("#callbacks .map-runs li")).to_contain_text("4 of 5 succeeded · 1 failed")
    history_link = page.locator("#events tr.ev a.map-run-link")
    expect(history_link).to_have_text("Map Run Fan")
    expect(page.locator("#events tr.ev .run-counts")).to_have_text(" · 4 of 5 succeeded · 1 failed")
    node(page, "Each").click()
    expect(page.locator("#state-detail .map-runs a.map-run-link")).to_have_text("Map Run Fan")
    expect(page.locator("#state-detail .children a")).to_have_count(1)
    shot(page, "map-run-parent")

    # The machine's executions: the parent only.
    page.goto(f"{base}/state-machines/{machine}/executions/")
    expect(page.locator("#executions-app")).to_have_attribute("data-ready", "true")
    expect(page.locator("#executions tbody tr")).to_have_count(1)
    expect(page.locator("#execution-count")).to_have_text("(1)")
    shot(page, "map-run-machine-executions")


# Each item waits ten minutes: the run goes on until the test stops its parent.
LINGERING = {**PROCESSOR, "StartAt": "Linger", "States": {"Linger": {"Type": "Wait", "Seconds": 600, "End": True}}}

RUN_SETTINGS = """
from editor.models import MapRun
run = MapRun.objects.get(execution_id={parent!r})
print(run.max_concurrency, run.tolerated_failure_count, run.tolerated_failure_percentage)
"""


def fact(page, name: str):
    """The value of the run's fact called `name` (its card of settings)."""
    return page.locator(".fact", has=page.locator(".k", has_text=name)).locator(".v")


def stored(server, parent) -> str:
    """The run's MaxConcurrency, tolerated count and percentage, as the server's database holds them."""
    return manage(server["env"], code=RUN_SETTINGS.format(parent=parent["id"])).strip().splitlines()[-1]


def test_a_running_map_runs_settings_are_edited_on_its_page(server, page, shot):
    base = server["base"]
    machine = f"linger-{uuid.uuid4().hex[:6]}"
    page.goto(f"{base}/state-machines/")
    call = api_caller(page)
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "Label": "Slow", "MaxConcurrency": 1, "End": True, "ItemProcessor": LINGERING}}}
    call("POST", "/api/state-machines", {"name": machine, "type": "STANDARD", "role": "flowbench-sample-role",
                                         "definition": json.dumps(definition)})
    call("POST", f"/api/state-machines/{machine}/versions")
    parent = call("POST", f"/api/state-machines/{machine}/executions", {"input": json.dumps([1, 2, 3])})
    page.goto(f"{base}/executions/{parent['id']}/")
    page.locator("#callbacks .map-runs a.map-run-link").click()
    run = page.locator("#map-run-app")
    expect(run).to_have_attribute("data-status", "RUNNING")
    expect(fact(page, "Max concurrency")).to_have_text("1")
    expect(page.locator('#item-counts [data-count="running"] .v')).to_have_text("1")

    # Edit: the form holds the run's settings; a value the API refuses is named beside its field.
    page.click("#edit-run")
    dialog = page.locator("#edit-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#edit-max-concurrency")).to_have_value("1")
    expect(page.locator("#edit-tolerated-count")).to_have_value("0")
    expect(page.locator("#edit-tolerated-percentage")).to_have_value("0")
    page.fill("#edit-max-concurrency", "20000")
    page.click("#edit-save")
    error = dialog.locator('.field-error[data-field="max_concurrency"]')
    expect(error).to_have_text("max_concurrency must be between 0 and 10000.")
    expect(dialog.locator('.field-error[data-field="tolerated_failure_percentage"]')).to_be_hidden()
    shot(page, "map-run-edit")
    page.fill("#edit-max-concurrency", "3")
    page.fill("#edit-tolerated-percentage", "50")
    page.click("#edit-save")
    expect(dialog).to_be_hidden()
    expect(fact(page, "Max concurrency")).to_have_text("3")
    expect(fact(page, "Tolerated failure %")).to_have_text("50%")
    # The higher limit started the other two items at once.
    expect(page.locator('#item-counts [data-count="running"] .v')).to_have_text("3")
    assert stored(server, parent) == "3 0 50.0"

    # The run ends while the form is open: Save says so, and the run keeps its settings.
    page.click("#edit-run")
    expect(page.locator("#edit-max-concurrency")).to_have_value("3")
    expect(error).to_be_hidden()
    call("POST", f"/api/executions/{parent['id']}/stop", {})
    expect(run).to_have_attribute("data-status", "ABORTED")
    page.fill("#edit-max-concurrency", "5")
    page.click("#edit-save")
    expect(page.locator("#edit-error")).to_contain_text("The Map Run has ended (ABORTED)")
    expect(dialog).to_be_visible()
    shot(page, "map-run-edit-ended")
    page.click("#edit-cancel")
    expect(dialog).to_be_hidden()
    expect(page.locator("#edit-run")).to_be_hidden()
    expect(fact(page, "Max concurrency")).to_have_text("3")
    assert stored(server, parent) == "3 0 50.0"
