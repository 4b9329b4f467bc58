"""A Distributed Map's run in a real browser: the parent's page links its Map Run (with its counts,
in place of its children); the Map Run page follows the run live until it ends, then shows its
counts and its children, filterable by status; a child's page says whose item it is; the
machine's executions list only the parent."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import expect

from tests.e2e.test_machine_executions import api_caller, node

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
