"""The seed's photo proxies and crawler apps, loaded by `manage.py prepare` on a server of their own
(with a fresh package cache, so prepare really installs Pillow, requests and Beautiful Soup from
PyPI and must wait for them), used from Chromium: the Samples pages; a PNG uploaded under uploads/
on the Buckets page gets its smaller copy under proxies/ (previewed), a text file ends in
NotAPhoto; the crawler's Run now and its schedule (moved by UpdateSchedule to an at() a moment
ahead) go down the success branch and the failure branch."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from playwright.sync_api import expect

from runtime.asl import state_id
from tests.conftest import ADMIN_KEY
from tests.e2e.conftest import sign_in, signed_in_page
from tests.e2e.test_machine_executions import api_caller
from tests.e2e.test_real_functions import png
from tests.integration.cluster import wait_until
from tests.live_server import manage, new_person, running_server

RUN_TIMEOUT = 120     # s: an execution whose functions start cold (Pillow, requests) on a loaded machine
INSTALLS = """
import json
from django.contrib.auth import get_user_model
from editor.models import FunctionUpdate
admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
print(json.dumps([{"function": u.function.name, "status": u.status, "attempts": u.attempts, "runner": u.runner,
                   "log": u.log, "reason": u.reason, "deployed": u.function.deployed_id is not None, "state": u.function.state}
                  for u in FunctionUpdate.objects.filter(function__owner=admin).select_related("function")]))
"""


@pytest.fixture(scope="module")
def apps_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("flowbench-apps")
    # A package cache of its own, empty: prepare installs from PyPI (pip in the sandbox, under uids of
    # its own, must reach it: not below pytest's private temporary folder).
    packages = tempfile.mkdtemp(prefix="flowbench-apps-packages-")
    os.chmod(packages, 0o755)
    try:
        with running_server(data, sample_apps=True, extra_env={"FLOWBENCH_PACKAGES_DIR": packages}) as found:
            found["keys"] = json.loads(manage(found["env"], code=ADMIN_KEY).strip().splitlines()[-1])
            yield found
    finally:
        shutil.rmtree(packages, ignore_errors=True)


@pytest.fixture(scope="module")
def apps_signed_in(apps_server, browser, tmp_path_factory):
    return sign_in(apps_server, browser, tmp_path_factory.mktemp("apps-browser"))


@pytest.fixture
def apps_page(browser, apps_signed_in):
    yield from signed_in_page(browser, apps_signed_in)


def aws(server, service: str):
    keys = server["keys"]
    return boto3.session.Session(aws_access_key_id=keys["key"], aws_secret_access_key=keys["secret"],
                                 region_name="us-east-1").client(service, endpoint_url=server["base"],
                                                                 config=Config(retries={"max_attempts": 1}))


def executions(call, machine: str) -> dict:
    return {e["id"]: e for e in call("GET", f"/api/state-machines/{machine}/executions")["executions"]}


def ended(call, machine: str, execution_id: str) -> dict | None:
    found = executions(call, machine).get(execution_id)
    return found if found and found["status"] != "RUNNING" else None


def new_execution(call, machine: str, before: set) -> dict:
    """Waits for an execution of `machine` not in `before` to end; returns it."""
    return wait_until(lambda: [e for i, e in executions(call, machine).items() if i not in before
                               and e["status"] != "RUNNING"], RUN_TIMEOUT, f"a new execution of {machine}")[0]


def upload_and_run(page, call, name: str, mime: str, data: bytes) -> dict:
    """Uploads a file with the Buckets page's upload control (into the folder it shows); returns
    the photo-proxies execution the upload started, once it ended."""
    before = set(executions(call, "photo-proxies"))
    page.set_input_files("#file-input", files=[{"name": name, "mimeType": mime, "buffer": data}])
    expect(page.locator(f'#uploads li[data-name="{name}"]')).to_contain_text("uploaded")
    return new_execution(call, "photo-proxies", before)


def open_failed(page, base: str, execution: dict, error: str) -> None:
    assert execution["status"] == "FAILED", execution
    page.goto(f"{base}/executions/{execution['id']}/")
    expect(page.locator("#execution-app")).to_have_attribute("data-status", "FAILED")
    expect(page.locator("#execution-error")).to_contain_text(error)


def graph_state(page, name: str):
    return page.locator(f'#exec-graph g.fb-state[id="{state_id("/States/" + name)}"]')


def test_prepare_installed_the_packages_itself_before_the_server_started(apps_server):
    installs = json.loads(manage(apps_server["env"], code=INSTALLS).strip().splitlines()[-1])
    by_function = {i["function"]: i for i in installs}
    assert set(by_function) == {"photo-proxy", "crawl-page"}, installs   # the others need no package
    daphne = f":{apps_server['process'].pid}:"
    for name, package in (("photo-proxy", "Pillow-11.0.0"), ("crawl-page", "beautifulsoup4-4.12.3")):
        install = by_function[name]
        # Installed once, by prepare's own process: the web server had nothing left to take up.
        assert (install["status"], install["attempts"], install["deployed"], install["state"]) == \
            ("Successful", 1, True, "Active"), install
        assert daphne not in install["runner"], install
        assert "Successfully installed" in install["log"] and package in install["log"], install["log"][-500:]


def test_the_photo_app_makes_a_proxy_of_an_uploaded_photo_and_refuses_a_text(apps_server, apps_page, shot):
    page, base = apps_page, apps_server["base"]
    bucket = f"photos-{apps_server['keys']['account']}"
    page.goto(f"{base}/")
    page.locator(".topnav").get_by_role("link", name="Samples").click()
    page.wait_for_url(f"{base}/samples/")
    for app in ("photo-proxies", "crawler"):
        expect(page.locator(f'.sample-card[data-app="{app}"] .sample-state')).to_contain_text("Loaded")
    expect(page.locator(".sample-card .installing")).to_have_count(0)
    shot(page, "samples")
    page.locator('.sample-card[data-app="photo-proxies"] h2 a').click()
    page.wait_for_url(f"{base}/samples/photo-proxies/")
    expect(page.locator("#sample-loaded")).to_be_visible()
    expect(page.locator("#sample-load")).to_have_count(0)
    expect(page.locator("#sample-resources")).to_contain_text(bucket)
    expect(page.locator("#sample-resources tr.missing")).to_have_count(0)
    shot(page, "sample-photo-proxies")

    call = api_caller(page)
    page.click("#photo-upload-link")
    page.wait_for_url(re.compile(re.escape(f"{base}/buckets/{bucket}/?prefix=uploads")))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#drop-prefix")).to_have_text(f"{bucket}/uploads/")
    run = upload_and_run(page, call, "pitch.png", "image/png", png(400, 300))
    assert run["status"] == "SUCCEEDED", run
    expect(page.locator('#objects tr[data-key="uploads/pitch.png"]')).to_contain_text("image/png")
    proxy = [o for o in call("GET", f"/api/buckets/{bucket}/objects?prefix=proxies/")["objects"]
             if o["key"] == "proxies/pitch.png"][0]
    head = aws(apps_server, "s3").head_object(Bucket=bucket, Key="proxies/pitch.png")
    assert head["ContentType"] == "image/png" and proxy["size"] == head["ContentLength"]
    assert {k.lower(): v for k, v in head["Metadata"].items()} == {"source": "uploads/pitch.png",
                                                                   "source-size": "400x300"}

    page.goto(f"{base}/buckets/{bucket}/?prefix=proxies/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator('#objects tr[data-key="proxies/pitch.png"] a.fname').click()
    image = page.locator("#preview img.preview-image")
    expect(image).to_be_visible()
    assert wait_until(lambda: image.evaluate("i => i.complete && [i.naturalWidth, i.naturalHeight]"), 10,
                      "the proxy's preview") == [256, 192]
    shot(page, "sample-photo-proxy-preview")

    # Not a photo: the Choice sends a text to the failure state, which says why. A PNG by its name and
    # type that is no image passes the check, Pillow cannot read it, and the proxy Task's Catch ends
    # it in NotAPhoto as well.
    for name, mime, data, cause, states in (
            ("notes.txt", "text/plain", b"kick-off", "text/plain, not a photo",
             {"Not a photo": "failed", "Make the proxy": "not-run"}),
            ("fake.png", "image/png", b"not a png", "not an image Pillow can read",
             {"Make the proxy": "caught", "Read the error": "succeeded", "Unreadable photo": "failed"})):
        page.goto(f"{base}/buckets/{bucket}/?prefix=uploads/")
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        open_failed(page, base, upload_and_run(page, call, name, mime, data), "NotAPhoto")
        expect(page.locator("#execution-error")).to_contain_text(cause)
        expect(page.locator("#execution-error")).not_to_contain_text("errorMessage")
        for state, status in states.items():
            expect(graph_state(page, state)).to_have_class(re.compile(f"fb-status-{status}"))
        shot(page, f"sample-photo-refused-{name}")
    assert call("GET", f"/api/buckets/{bucket}/objects?prefix=proxies/")["objects"] == [proxy]


def test_the_crawler_runs_now_and_on_its_schedule_down_the_success_and_the_failure_branch(apps_server, apps_page, shot):
    page, base = apps_page, apps_server["base"]
    page.goto(f"{base}/samples/crawler/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#crawler-schedule")).to_contain_text("ENABLED")
    expect(page.locator("#crawler-next-runs time")).to_have_count(3)
    shot(page, "sample-crawler")

    page.click("#crawler-run-now")
    page.wait_for_url(re.compile(re.escape(f"{base}/executions/")))
    expect(page.locator("#execution-app")).to_have_attribute("data-status", "SUCCEEDED", timeout=RUN_TIMEOUT * 1000)
    expect(graph_state(page, "Record the summary")).to_have_class(re.compile("fb-status-succeeded"))
    expect(graph_state(page, "Record the failure")).to_have_class(re.compile("fb-status-not-run"))
    call = api_caller(page)
    execution_id = page.url.rstrip("/").rsplit("/", 1)[1]
    output = json.loads(call("GET", f"/api/executions/{execution_id}")["output"])
    assert output["crawl"]["title"] == "Flowbench youth football: this week"
    assert [link["text"] for link in output["crawl"]["links"]] == ["Attack training", "Passing training",
                                                                  "Defence training"]
    assert output["summary"]["links"] == 3 and "/lambda-url/" in output["crawl"]["url"]
    shot(page, "sample-crawler-succeeded")

    # The schedule itself, moved to a moment ahead, with an input whose page answers 500.
    scheduler = aws(apps_server, "scheduler")
    current = scheduler.get_schedule(Name="crawler-every-10-minutes")
    assert current["State"] == "ENABLED" and current["ScheduleExpression"] == "rate(10 minutes)"
    before = set(executions(call, "crawler"))
    moment = (datetime.now(timezone.utc) + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S")
    scheduler.update_schedule(Name="crawler-every-10-minutes", ScheduleExpression=f"at({moment})",
                              ScheduleExpressionTimezone="UTC", FlexibleTimeWindow={"Mode": "OFF"},
                              Target={**current["Target"],
                                      "Input": json.dumps({"function": "crawl-target", "query": "fail=500"})})
    failed = new_execution(call, "crawler", before)
    fires = call("GET", "/api/schedules")["schedules"]
    fired = next(s for s in fires if s["name"] == "crawler-every-10-minutes")["fires"]
    assert fired[0]["execution"] == failed["id"], fired
    open_failed(page, base, failed, "CrawlFailed")
    expect(graph_state(page, "Record the failure")).to_have_class(re.compile("fb-status-succeeded"))
    expect(graph_state(page, "Record the summary")).to_have_class(re.compile("fb-status-not-run"))
    detail = call("GET", f"/api/executions/{failed['id']}")
    assert "answered 500" in detail["cause"], detail
    shot(page, "sample-crawler-failed")

    # Back to every 10 minutes, as loaded.
    scheduler.update_schedule(Name="crawler-every-10-minutes", ScheduleExpression="rate(10 minutes)",
                              ScheduleExpressionTimezone="UTC", FlexibleTimeWindow={"Mode": "OFF"},
                              Target=current["Target"])
    page.goto(f"{base}/samples/crawler/")
    expect(page.locator("#crawler-next-runs time")).to_have_count(3)


def test_a_person_without_the_samples_loads_them_with_the_button(apps_server, browser, tmp_path, shot):
    person = new_person(apps_server["env"], "sam")
    state = sign_in({**apps_server, "link": person["link"]}, browser, tmp_path)
    for page in signed_in_page(browser, state):
        base = apps_server["base"]
        page.goto(f"{base}/samples/")
        expect(page.locator(".sample-card .sample-state").filter(has_text="Not loaded")).to_have_count(3)
        shot(page, "samples-not-loaded")
        page.goto(f"{base}/samples/photo-proxies/")
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        expect(page.locator("#sample-resources tr.missing")).not_to_have_count(0)
        shot(page, "sample-photo-proxies-not-loaded")
        page.click("#sample-load")
        expect(page.locator("#sample-loaded")).to_be_visible()
        expect(page.locator("#sample-resources tr.missing")).to_have_count(0)
        bucket = f"photos-{person['account']}"
        expect(page.locator("#photo-upload-link")).to_have_attribute("href", f"/buckets/{bucket}/?prefix=uploads/")
        page.goto(f"{base}/samples/crawler/")
        page.click("#sample-load")
        expect(page.locator("#sample-loaded")).to_be_visible()
        expect(page.locator("#crawler-run-now")).to_be_visible()
        page.goto(f"{base}/samples/chat/")
        page.click("#sample-load")
        expect(page.locator("#sample-loaded")).to_be_visible()
        page.goto(f"{base}/samples/")
        expect(page.locator(".sample-card .sample-state").filter(has_text="Not loaded")).to_have_count(0)
        # Their own copies: the administrator's are untouched and not theirs to see.
        call = api_caller(page)
        names = {f["name"] for f in call("GET", "/api/functions")["functions"]}
        assert {"photo-check", "photo-proxy", "crawl-target", "crawl-page", "crawl-succeeded", "crawl-failed"} <= names
        buckets = [b["name"] for b in call("GET", "/api/buckets")["buckets"]]
        assert sorted(buckets) == sorted([bucket, f"chat-rooms-{person['account']}"]), buckets
