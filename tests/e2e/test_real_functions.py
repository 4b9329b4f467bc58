"""The seed's reference functions, made and deployed from the browser with packages from PyPI: a
crawler (requests + beautifulsoup4) that fetches a page the test serves and returns its title and
links, with its network switch on; a photo function (Pillow) that makes a smaller copy of an image
given in the event. And the Deploy button while an install runs: the page shows it (the button says
Installing… and refuses a second Deploy), the log so far comes with the page, the end arrives over
the socket, and the Versions table opens each version's install log."""

from __future__ import annotations

import base64
import json
import struct
import threading
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import expect

from tests.e2e.test_function_flow import create_function, replace_editor_text
from tests.e2e.test_machine_executions import api_caller
from tests.wheel_server import WheelServer

INSTALL_TIMEOUT = 240_000   # ms: pip fetching from PyPI on a loaded machine

CRAWLER = """import requests
from bs4 import BeautifulSoup


def lambda_handler(event, context):
    response = requests.get(event["url"], timeout=10)
    response.raise_for_status()
    page = BeautifulSoup(response.text, "html.parser")
    links = [{"text": a.get_text(strip=True), "href": a["href"]} for a in page.find_all("a", href=True)]
    print(f"crawled {event['url']}: {len(links)} links")
    return {"status": response.status_code, "title": page.title.get_text(strip=True), "links": links}
"""

PHOTO = """import base64
import io

from PIL import Image


def lambda_handler(event, context):
    original = Image.open(io.BytesIO(base64.b64decode(event["image"])))
    smaller = original.copy()
    smaller.thumbnail((event.get("max_side", 64), event.get("max_side", 64)))
    out = io.BytesIO()
    smaller.save(out, format="PNG")
    print(f"resized {original.size} -> {smaller.size}")
    return {"format": original.format, "original": list(original.size), "size": list(smaller.size),
            "thumbnail": base64.b64encode(out.getvalue()).decode()}
"""

SITE = """<!doctype html><html><head><title>Flowbench crawl target</title></head><body>
<h1>Drills</h1><a href="/attack">Attack training</a> <a href="https://example.org/pass">Passing</a>
<p>no link here</p></body></html>"""


def png(width: int, height: int) -> bytes:
    """Returns an RGB PNG of a gradient, written by hand (the test needs no imaging library)."""
    rows = b"".join(b"\0" + bytes(v for x in range(width) for v in (x % 256, y % 256, 128)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def add_file(page, name: str, text: str) -> None:
    page.once("dialog", lambda dialog: dialog.accept(name))
    page.click("#file-add")
    expect(page.locator(f'.filetab[data-file="{name}"]')).to_have_class("filetab active")
    page.locator("#code-editor .cm-content").click()
    page.keyboard.insert_text(text)


def write_code(page, handler: str, requirements: str) -> None:
    replace_editor_text(page, "#code-editor", handler)
    add_file(page, "requirements.txt", requirements)
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Draft saved")


def deploy_and_wait(page) -> None:
    page.click("#deploy")
    expect(page.locator("#deploy")).to_have_text("Installing…")   # in the background: not cached
    expect(page.locator("#deploy-log-panel")).to_be_visible(timeout=INSTALL_TIMEOUT)
    expect(page.locator("#status-line")).to_contain_text("Deployed: $LATEST now runs", timeout=INSTALL_TIMEOUT)
    expect(page.locator("#deploy")).to_have_text("Deploy")
    expect(page.locator("#deploy")).to_be_enabled()


def run_test_event(page, name: str, event: dict) -> dict:
    page.click('.tabs [data-tab="test"]')
    page.fill("#event-name", name)
    replace_editor_text(page, "#event-editor", json.dumps(event))
    page.click("#event-save")
    expect(page.locator("#status-line")).to_contain_text(f"Saved test event {name}")
    page.click("#run-test")
    expect(page.locator("#result")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    return json.loads(page.locator("#result-response").inner_text())


class Site:
    """The page the crawler fetches, served on 127.0.0.1."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = SITE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/drills"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_the_crawler_with_requests_and_beautifulsoup_deploys_from_the_browser_and_crawls_a_page(server, page, shot):
    base, name = server["base"], f"crawler-{uuid.uuid4().hex[:6]}"
    create_function(page, base, name)
    # A comment of this run's own: never in the package cache, so pip really installs from PyPI.
    write_code(page, CRAWLER, f"requests==2.32.3\nbeautifulsoup4==4.12.3\n# {name}\n")
    page.click('.tabs [data-tab="configuration"]')
    page.check("#cfg-network")
    page.click("#config-save")
    expect(page.locator("#status-line")).to_contain_text("Configuration saved")
    page.click('.tabs [data-tab="code"]')
    deploy_and_wait(page)
    expect(page.locator("#deploy-log")).to_contain_text("Successfully installed beautifulsoup4-4.12.3")
    site = Site()
    try:
        result = run_test_event(page, "crawl", {"url": site.url})
    finally:
        site.close()
    assert result == {"status": 200, "title": "Flowbench crawl target", "links": [
        {"text": "Attack training", "href": "/attack"}, {"text": "Passing", "href": "https://example.org/pass"}]}
    expect(page.locator("#result-logs")).to_contain_text(f"crawled {site.url}: 2 links")
    shot(page, "real-crawler")


def test_the_photo_function_with_pillow_deploys_from_the_browser_and_makes_a_smaller_copy(server, page, shot):
    base, name = server["base"], f"photo-{uuid.uuid4().hex[:6]}"
    create_function(page, base, name)
    write_code(page, PHOTO, f"Pillow==11.0.0\n# {name}\n")
    deploy_and_wait(page)
    expect(page.locator("#deploy-log")).to_contain_text("Successfully installed Pillow-11.0.0")
    image = png(320, 200)
    result = run_test_event(page, "photo", {"image": base64.b64encode(image).decode(), "max_side": 64})
    assert (result["format"], result["original"], result["size"]) == ("PNG", [320, 200], [64, 40])
    thumbnail = base64.b64decode(result["thumbnail"])
    assert thumbnail.startswith(b"\x89PNG") and struct.unpack(">II", thumbnail[16:24]) == (64, 40)
    expect(page.locator("#result-logs")).to_contain_text("resized (320, 200) -> (64, 40)")
    shot(page, "real-photo")


def test_the_page_shows_an_install_in_progress_refuses_a_second_deploy_and_opens_old_install_logs(server, page, shot):
    base, name = server["base"], f"installing-{uuid.uuid4().hex[:6]}"
    create_function(page, base, name)
    call = api_caller(page)
    with WheelServer() as wheels:
        write_code(page, "import flowbench_probe\n\ndef lambda_handler(e, c):\n    return flowbench_probe.VALUE\n",
                   wheels.requirements())
        page.click("#deploy")
        expect(page.locator("#deploy")).to_have_text("Installing…")
        expect(page.locator("#deploy")).to_be_disabled()
        wheels.wait_for_download()
        # A second Deploy (from another tab, a script) is refused while it installs, saying why.
        refused = page.evaluate("""async (path) => {
          const token = document.querySelector('meta[name="csrf-token"]').content;
          const response = await fetch(path, {method: "POST", headers: {"X-CSRFToken": token}});
          return [response.status, await response.json()];
        }""", f"/api/functions/{name}/deploy")
        assert refused[0] == 409 and refused[1]["error"]["code"] == "UpdateInProgress", refused
        assert "dependencies are installing" in refused[1]["error"]["message"]
        # Opened again meanwhile, the page shows the install still running, with its log so far.
        page.reload()
        expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")
        expect(page.locator("#deploy")).to_have_text("Installing…")
        expect(page.locator("#deploy")).to_be_disabled()
        expect(page.locator("#deploy-log")).to_contain_text("Installing dependencies", timeout=30_000)
        expect(page.locator("#status-line")).to_contain_text("installing the dependencies")
        shot(page, "deploy-installing")
        wheels.open()
        expect(page.locator("#status-line")).to_contain_text("Deployed: $LATEST now runs", timeout=INSTALL_TIMEOUT)
    expect(page.locator("#deploy")).to_be_enabled()
    assert call("POST", f"/api/functions/{name}/test", {"event": {}})["response"] == "probe"
    page.click("#publish")
    page.click("#publish-go")
    expect(page.locator("#status-line")).to_contain_text("Published version 1")
    page.click('.tabs [data-tab="versions"]')
    page.locator(".install-log-link[data-version='1']").click()
    expect(page.locator("#version-title")).to_have_text("Install log of version 1")
    expect(page.locator("#version-code")).to_contain_text("Successfully installed flowbench-probe-1.0")
    shot(page, "versions-install-log")
