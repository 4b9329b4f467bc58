"""The Layers page in a real browser: upload a zip as a layer version, list it on a function's
Configuration, see the function run with it under /opt and the page say who uses it, refuse a zip
escaping its root, delete the version."""

from __future__ import annotations

import io
import uuid
import zipfile

from playwright.sync_api import expect

from tests.e2e.test_function_flow import create_function, replace_editor_text
from tests.e2e.test_machine_executions import api_caller


def zipped(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def test_a_layer_is_uploaded_used_by_a_function_and_deleted(server, page, shot):
    base, layer, fn = server["base"], f"utils-{uuid.uuid4().hex[:6]}", f"uses-{uuid.uuid4().hex[:6]}"
    page.goto(f"{base}/layers/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.fill("#layer-name", layer)
    page.fill("#layer-description", "greetings")
    page.fill("#layer-runtimes", "python3.11")
    page.set_input_files("#layer-zip", files=[{"name": "layer.zip", "mimeType": "application/zip",
                                              "buffer": zipped({"python/greet.py": "WORD = 'hello from a layer'\n"})}])
    page.click("#layer-create")
    row = page.locator("#layers tbody tr", has_text=layer)
    expect(row).to_contain_text("greetings")
    expect(row).to_contain_text("no function")
    arn = row.get_attribute("data-arn")
    assert arn.endswith(f":layer:{layer}:1")

    # A zip escaping its root is refused, naming the entry, and nothing is added.
    page.fill("#layer-name", layer)
    page.set_input_files("#layer-zip", files=[{"name": "bad.zip", "mimeType": "application/zip",
                                              "buffer": zipped({"../evil.py": "x"})}])
    page.click("#layer-create")
    expect(page.locator('.field-error[data-field="zip"]')).to_contain_text("../evil.py")
    expect(page.locator("#layers tbody tr", has_text=layer)).to_have_count(1)

    create_function(page, base, fn)
    call = api_caller(page)
    call("PUT", f"/api/functions/{fn}/code", {"files": {"lambda_function.py":
         "import greet\n\n\ndef lambda_handler(event, context):\n    return [greet.WORD, greet.__file__]\n"}})
    call("POST", f"/api/functions/{fn}/deploy")
    page.reload()
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")
    page.click('.tabs [data-tab="configuration"]')
    page.fill("#cfg-layers", arn)
    page.click("#config-save")
    expect(page.locator("#status-line")).to_contain_text("Configuration saved")
    shot(page, "function-layers")
    result = call("POST", f"/api/functions/{fn}/test", {"event": {}})
    assert result["response"] == ["hello from a layer", "/opt/python/greet.py"], result

    page.goto(f"{base}/layers/")
    row = page.locator("#layers tbody tr", has_text=layer)
    expect(row).to_contain_text(fn)
    shot(page, "layers-page")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.locator("#layers tbody tr", has_text=layer)).to_have_count(0)
    # The function keeps running with the deleted version.
    result = call("POST", f"/api/functions/{fn}/test", {"event": {}})
    assert result["response"][0] == "hello from a layer", result
