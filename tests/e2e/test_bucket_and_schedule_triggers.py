"""Buckets and schedules as triggers in a real browser: a function notification added from the
Buckets page (the page adds S3's permission, so the upload's delivery invokes the function), the
function page's overview drawing the "S3" and "EventBridge Scheduler" boxes beside it, the state
machine page listing what starts it, and the Buckets page showing a deleted function's notification
disabled in red with the reason."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import expect

from tests.e2e.test_function_flow import create_function
from tests.e2e.test_machine_executions import api_caller
from tests.integration.cluster import wait_until


def test_bucket_and_schedule_boxes_and_a_deleted_targets_disabled_notification(server, page, shot):
    base, tag = server["base"], uuid.uuid4().hex[:6]
    fn, bucket, machine, role = f"thumbs-{tag}", f"photos-{tag}", f"on-photo-{tag}", f"sched-{tag}"
    create_function(page, base, fn)
    call = api_caller(page)
    call("POST", "/api/buckets", {"name": bucket})
    call("POST", "/api/state-machines", {"name": machine, "type": "STANDARD", "role": "flowbench-sample-role",
                                         "definition": json.dumps({"StartAt": "P", "States": {
                                             "P": {"Type": "Pass", "End": True}}})})

    page.goto(f"{base}/buckets/{bucket}/")
    expect(page.locator("#notifications")).to_have_attribute("data-ready", "true")
    expect(page.locator("#notifications")).to_contain_text("adding one here also adds that statement")
    page.select_option("#function-name", fn)
    page.fill("#function-suffix", ".jpg")
    page.click("#function-add")
    row = page.locator("#configurations tbody tr").first
    expect(row).to_contain_text(f":function:{fn}")
    expect(row).to_contain_text("suffix: .jpg")
    expect(row).to_contain_text("Enabled")
    page.select_option("#machine-name", machine)
    page.select_option("#machine-events", "s3:ObjectRemoved:*")
    page.click("#machine-add")
    expect(page.locator("#machine-configurations")).to_contain_text(f":stateMachine:{machine}")
    # A bad name is refused beside the form, and nothing is added.
    page.evaluate("""() => { const o = document.createElement("option"); o.value = "no-such-function";
                             o.textContent = "no-such-function"; document.getElementById("function-name").append(o); }""")
    page.select_option("#function-name", "no-such-function")
    page.click("#function-add")
    expect(page.locator("#function-error")).to_contain_text("is not a function of this bucket owner's account")
    expect(page.locator("#configurations tbody tr")).to_have_count(1)

    # The page added S3's permission: an upload's delivery invokes the function.
    page.set_input_files("#file-input", files=[{"name": "cat.jpg", "mimeType": "image/jpeg", "buffer": b"jpeg"}])
    expect(page.locator('#objects tr[data-key="cat.jpg"]')).to_be_visible()
    delivered = wait_until(lambda: [d for d in call("GET", f"/api/buckets/{bucket}/notifications")["deliveries"]
                                    if d["invocation_id"]], 30, "the upload's invocation")
    assert delivered[0]["key"] == "cat.jpg" and not delivered[0]["error"]

    arn = call("GET", f"/api/buckets/{bucket}/notifications")["configurations"][0]["LambdaFunctionArn"]
    account = arn.split(":")[4]
    call("POST", "/api/roles", {"name": role, "trusted": ["scheduler"]})
    made = call("POST", "/api/schedules", {"Name": f"hourly-{tag}", "ScheduleExpression": "rate(1 hour)",
                                           "FlexibleTimeWindow": {"Mode": "OFF"},
                                           "Target": {"Arn": arn, "RoleArn": f"arn:aws:iam::{account}:role/{role}"}})
    assert made["State"] == "ENABLED", made

    page.goto(f"{base}/functions/{fn}/")
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")
    s3_box = page.locator('#trigger-list .trigger-box[data-kind="s3"]')
    expect(s3_box).to_contain_text("S3")
    expect(s3_box).to_contain_text(bucket)
    expect(s3_box).to_contain_text("s3:ObjectCreated:*")
    expect(s3_box).to_contain_text("suffix: .jpg")
    expect(s3_box).to_have_attribute("href", f"/buckets/{bucket}/")
    schedule_box = page.locator('#trigger-list .trigger-box[data-kind="schedule"]')
    expect(schedule_box).to_contain_text("EventBridge Scheduler")
    expect(schedule_box).to_contain_text(f"hourly-{tag}")
    expect(schedule_box).to_contain_text("rate(1 hour)")
    expect(schedule_box).to_contain_text("ENABLED · next run")
    shot(page, "function-overview-s3-and-scheduler")
    page.goto(base + schedule_box.get_attribute("href"))   # the box opens the Schedules page at its row
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator(f'#schedules tr.targeted[data-name="hourly-{tag}"]')).to_be_in_viewport()
    shot(page, "schedules-row-from-trigger-box")

    page.goto(f"{base}/state-machines/{machine}/")
    page.click('.modes [data-mode="config"]')
    triggers = page.locator("#machine-triggers")
    expect(triggers).to_be_visible()
    expect(triggers.locator('.trigger-box[data-kind="s3"]')).to_contain_text(bucket)
    expect(triggers.locator('.trigger-box[data-kind="s3"]')).to_contain_text("s3:ObjectRemoved:*")
    shot(page, "machine-triggers")

    # The function is deleted: its notification stays, disabled in red with the reason.
    call("DELETE", f"/api/functions/{fn}")
    page.goto(f"{base}/buckets/{bucket}/")
    expect(page.locator("#notifications")).to_have_attribute("data-ready", "true")
    disabled = page.locator("#configurations tbody tr.disabled")
    expect(disabled.locator(".badge.danger")).to_have_text("Disabled")
    expect(disabled).to_contain_text(f"its target, the function {arn}, was deleted")
    assert disabled.locator(".disabled-reason").evaluate("e => getComputedStyle(e).color") == "rgb(217, 21, 21)"
    # Removing the state machine's row saves the page's lists again; the disabled row stays as it was.
    page.locator("#machine-configurations tbody tr").first.get_by_role("button", name="Remove").click()
    expect(page.locator("#machine-configurations")).to_contain_text("No state machines started.")
    expect(page.locator("#configurations tbody tr.disabled")).to_have_count(1)
    page.set_input_files("#file-input", files=[{"name": "dog.jpg", "mimeType": "image/jpeg", "buffer": b"jpeg"}])
    failed = wait_until(lambda: [d for d in call("GET", f"/api/buckets/{bucket}/notifications")["deliveries"]
                                 if d["key"] == "dog.jpg"], 30, "the failed delivery")
    assert failed[0]["invocation_id"] is None and "was deleted" in failed[0]["error"]
    page.reload()
    expect(page.locator("#deliveries .delivery-error")).to_contain_text("was deleted")
    shot(page, "bucket-disabled-notification")
