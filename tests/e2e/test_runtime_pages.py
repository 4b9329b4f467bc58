"""Ruby and custom runtimes from the Create form, and the Code tab's "Upload from .zip file" and
"Download .zip", in Debian's Chromium against the real server."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from playwright.sync_api import expect

from tests.aws.lambda_kit import zipped_with_modes
from tests.e2e.test_function_flow import create_function, replace_editor_text
from tests.unit.functions.test_ruby_and_custom_runtimes import build_go_bootstrap


@pytest.fixture(scope="module")
def go_bootstrap(tmp_path_factory) -> bytes:
    return build_go_bootstrap(tmp_path_factory.mktemp("go"))


def run_test(page, event: dict) -> dict:
    page.click('.tabs [data-tab="test"]')
    replace_editor_text(page, "#event-editor", json.dumps(event))
    page.click("#run-test")
    expect(page.locator("#result")).not_to_have_attribute("data-status", "running")
    return json.loads(page.locator("#result-response").inner_text())


def test_the_create_form_offers_ruby_and_custom_runtimes_and_their_samples_pass_the_test_button(
        server, page, shot):
    base = server["base"]
    page.goto(f"{base}/functions/new")
    options = page.locator("#runtime option")
    expect(options).to_have_count(5)
    labels = " | ".join(options.all_inner_texts())
    assert "Ruby" in labels and "Amazon Linux 2023" in labels and "Amazon Linux 2 " in labels
    page.select_option("#runtime", "provided.al2023")
    shot(page, "runtimes-01-create-form")

    create_function(page, base, "ruby-hello", "ruby")
    expect(page.locator('.filetab[data-file="function.rb"]')).to_be_visible()
    replace_editor_text(page, "#code-editor",
                        "def handler(event:, context:)\n"
                        "  puts \"ruby sees #{event['drill']}\"\n"
                        "  { 'drill' => event['drill'], 'left_ms' => context.get_remaining_time_in_millis > 0 }\n"
                        "end\n")
    page.click("#deploy")
    expect(page.locator("#status-line")).to_contain_text("Deployed")
    assert run_test(page, {"drill": "패스 훈련"}) == {"drill": "패스 훈련", "left_ms": True}
    expect(page.locator("#result")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#result-logs")).to_contain_text("ruby sees 패스 훈련")
    shot(page, "runtimes-02-ruby-test")

    create_function(page, base, "shell-runtime", "provided.al2023")
    expect(page.locator('.filetab[data-file="bootstrap"]')).to_be_visible()
    expect(page.locator("#code-editor .cm-content")).to_contain_text("AWS_LAMBDA_RUNTIME_API")
    response = run_test(page, {"key": "value"})
    assert response["statusCode"] == 200 and response["event"] == {"key": "value"}
    expect(page.locator("#result-logs")).to_contain_text('event: {"key": "value"}')
    shot(page, "runtimes-03-shell-bootstrap-test")


def test_a_go_program_uploaded_as_a_zip_deploys_passes_the_test_button_and_downloads(
        server, page, shot, go_bootstrap, tmp_path):
    base = server["base"]
    create_function(page, base, "go-upload", "provided.al2023")
    archive = tmp_path / "go-function.zip"
    archive.write_bytes(zipped_with_modes([("bootstrap", go_bootstrap, 0o100755)]))
    page.set_input_files("#zip-upload", str(archive))
    expect(page.locator("#status-line")).to_contain_text("Uploaded go-function.zip")
    # Past the console's 3 MB: the editor says so instead of showing the files.
    expect(page.locator("#code-notice")).to_be_visible()
    expect(page.locator("#code-notice")).to_contain_text("too large to enable inline code editing")
    expect(page.locator("#undeployed")).to_be_visible()
    shot(page, "runtimes-04-uploaded-too-big-to-edit")
    page.click("#deploy")
    expect(page.locator("#status-line")).to_contain_text("Deployed")
    assert run_test(page, {"name": "browser"}) == {"greeting": "Hello, browser!", "deadline": True}
    page.click('.tabs [data-tab="code"]')
    with page.expect_download() as caught:
        page.click("#zip-download")
    with zipfile.ZipFile(io.BytesIO(open(caught.value.path(), "rb").read())) as got:
        assert got.read("bootstrap") == go_bootstrap
        assert (got.getinfo("bootstrap").external_attr >> 16) & 0o777 == 0o755


@pytest.mark.parametrize("entries, words", [
    ([("../escape.rb", "x", 0o100644)], "../escape.rb"),
    ([("/etc/function.rb", "x", 0o100644)], "/etc/function.rb"),
    ([("function.rb", "x", 0o100644), ("passwd", "../../etc/passwd", 0o120777)], "passwd"),
], ids=["dotdot", "absolute", "symlink-out"])
def test_a_bad_zip_is_refused_on_the_page_naming_its_path_and_the_draft_stays(server, page, shot, tmp_path,
                                                                             entries, words):
    base = server["base"]
    name = f"bad-zip-{len(words)}"
    create_function(page, base, name, "ruby")
    archive = tmp_path / "bad.zip"
    archive.write_bytes(zipped_with_modes(entries))
    page.set_input_files("#zip-upload", str(archive))
    expect(page.locator("#status-line")).to_contain_text(words)
    expect(page.locator("#status-line")).to_have_class("status-line error")
    expect(page.locator('.filetab[data-file="function.rb"]')).to_be_visible()
    expect(page.locator("#code-editor .cm-content")).to_contain_text("Hello from Flowbench")
    shot(page, f"runtimes-05-bad-zip-{words.replace('/', '_')}")


def test_a_binary_file_shows_a_note_in_place_of_its_bytes(server, page, shot, tmp_path):
    base = server["base"]
    create_function(page, base, "with-binary", "ruby")
    archive = tmp_path / "small.zip"
    archive.write_bytes(zipped_with_modes([("function.rb", "def handler(event:, context:)\n  1\nend\n", 0o100644),
                                           ("lib/native.so", b"\x7fELF\x00\xff" * 100, 0o100755)]))
    page.set_input_files("#zip-upload", str(archive))
    expect(page.locator("#status-line")).to_contain_text("Uploaded small.zip")
    expect(page.locator("#code-notice")).to_be_hidden()
    page.click('.filetab[data-file="lib/native.so"]')
    expect(page.locator("#code-editor .cm-content")).to_contain_text("binary file (600 bytes, executable)")
    shot(page, "runtimes-06-binary-file")
    page.click('.filetab[data-file="function.rb"]')
    replace_editor_text(page, "#code-editor", "def handler(event:, context:)\n  2\nend\n")
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Draft saved")
    files = page.evaluate("fetch('/api/functions/with-binary').then(r => r.json())")["files"]
    assert files["lib/native.so"]["executable"] is True and files["function.rb"].endswith("2\nend\n")
