"""The Schedules page in a real browser: a cron that does not read is shown under its field with
its position, a schedule made in the form fires on the server's clock and its fire links to what
it started, a schedule is disabled, edited and deleted, and a schedule whose function was deleted
is disabled with the reason shown."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from tests.e2e.test_machine_executions import api_caller


def soon(seconds: int) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


def fill(page, name, expression, target, role, input_text=""):
    page.fill("#schedule-name", name)
    page.fill("#schedule-expression", expression)
    page.select_option("#schedule-target", target)
    page.select_option("#schedule-role", role)
    page.fill("#schedule-input", input_text)
    page.click("#schedule-save")


def test_schedules_are_made_fired_shown_and_changed_on_the_page(server, page, shot):
    base, tag = server["base"], uuid.uuid4().hex[:6]
    page.goto(f"{base}/scheduler/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    call = api_caller(page)
    function, doomed, role = f"ticker-{tag}", f"doomed-{tag}", f"sched-role-{tag}"
    for name in (function, doomed):
        call("POST", "/api/functions", {"name": name, "runtime": "python"})
        call("POST", f"/api/functions/{name}/deploy")
    call("POST", "/api/roles", {"name": role, "trusted": ["scheduler"]})
    account = re.search(r":(\d{12}):", json.dumps(call("GET", "/api/roles/default-policy"))).group(1)
    function_arn = f"arn:aws:lambda:us-east-1:{account}:function:{function}"
    doomed_arn = f"arn:aws:lambda:us-east-1:{account}:function:{doomed}"
    role_arn = f"arn:aws:iam::{account}:role/{role}"
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    # A cron expression that does not read: its field and character, under the expression.
    fill(page, f"weekly-{tag}", "cron(0 9 ? * 8 *)", function_arn, role_arn)
    expect(page.locator('.field-error[data-field="ScheduleExpression"]')).to_contain_text("field 5 (day-of-week)")
    expect(page.locator('.field-error[data-field="ScheduleExpression"]')).to_contain_text("character 14")
    page.fill("#schedule-expression", "cron(0 9 ? * 2 *)")
    # A flexible window needs its length; a group must exist.
    page.select_option("#schedule-window", "FLEXIBLE")
    page.click("#schedule-save")
    expect(page.locator('.field-error[data-field="FlexibleTimeWindow.MaximumWindowInMinutes"]')).to_contain_text("1-1440")
    page.fill("#schedule-window-minutes", "15")
    page.fill("#schedule-group", f"nowhere-{tag}")
    page.click("#schedule-save")
    expect(page.locator('.field-error[data-field="GroupName"]')).to_contain_text("does not exist")
    page.fill("#schedule-group", "default")
    page.click("#schedule-save")
    weekly = page.locator("#schedules tbody tr", has_text=f"weekly-{tag}")
    expect(weekly).to_contain_text("ENABLED")
    expect(weekly.locator("td.next-runs li")).to_have_count(3)
    expect(weekly.locator("td.next-runs li").first).to_contain_text("09:00:00 UTC")

    # A one-time schedule fires on the server's clock; its fire links to the function it invoked.
    fill(page, f"once-{tag}", f"at({soon(3)})", function_arn, role_arn, '{"from": "the page"}')
    once = page.locator("#schedules tbody tr", has_text=f"once-{tag}")
    expect(once.locator("td.fires a")).to_contain_text("invocation", timeout=30_000)
    link = once.locator("td.fires a")
    expect(link).to_have_attribute("href", re.compile(rf"^/functions/{function}/#invocation-[0-9a-f-]{{36}}$"))
    expect(once.locator("td.next-runs")).to_contain_text("none")
    invocation = link.get_attribute("href").rsplit("#invocation-", 1)[1]

    # Its target deleted before it fires: disabled at once, with the reason shown.
    fill(page, f"orphan-{tag}", f"at({soon(4)})", doomed_arn, role_arn)
    orphan = page.locator("#schedules tbody tr", has_text=f"orphan-{tag}")
    expect(orphan).to_contain_text("ENABLED")
    call("DELETE", f"/api/functions/{doomed}")
    expect(orphan.locator(".reason")).to_contain_text(f"the function {doomed_arn}, was deleted", timeout=30_000)
    expect(orphan).to_contain_text("DISABLED")
    shot(page, "schedules")

    # The fire's link opens the function's Monitor tab on that invocation, started by the schedule.
    link.click()
    page.wait_for_url(re.compile(rf"/functions/{function}/#invocation-"))
    row = page.locator(f"#invocation-{invocation}")
    expect(row).to_have_class(re.compile("linked"))
    expect(row).to_contain_text("schedule")
    shot(page, "function-invocation-from-schedule")
    page.goto(f"{base}/scheduler/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    # Disable, edit (a full replace), delete.
    weekly.get_by_role("button", name="Disable").click()
    expect(weekly).to_contain_text("DISABLED")
    expect(weekly.locator("td.next-runs")).to_contain_text("none")
    weekly.get_by_role("button", name="Edit").click()
    expect(page.locator("#schedule-name")).to_be_disabled()
    expect(page.locator("#schedule-window")).to_have_value("FLEXIBLE")
    expect(page.locator("#schedule-window-minutes")).to_have_value("15")
    page.select_option("#schedule-window", "OFF")
    page.fill("#schedule-expression", "rate(2 hours)")
    page.check("#schedule-enabled")
    page.click("#schedule-save")
    expect(weekly).to_contain_text("rate(2 hours)")
    expect(weekly).to_contain_text("ENABLED")
    page.once("dialog", lambda dialog: dialog.accept())
    weekly.get_by_role("button", name="Delete").click()
    expect(page.locator("#schedules tbody tr", has_text=f"weekly-{tag}")).to_have_count(0)
