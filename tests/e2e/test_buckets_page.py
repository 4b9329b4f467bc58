"""The Buckets pages in a real browser: create a bucket, upload files by dropping them (progress
bars), browse into a folder, preview an image and a text, download, delete; the notifications
card shows a configuration set through S3's API and the delivery an upload made."""

from __future__ import annotations

import base64
import json
import struct
import uuid
import zlib

import boto3
from botocore.config import Config
from playwright.sync_api import expect

from tests.aws.s3_support import allow_s3
from tests.e2e.test_machine_executions import api_caller
from tests.integration.cluster import wait_until

# Drops files (name, type, base64 of the bytes: a list of numbers per byte took Playwright most of
# a minute to hand over for 2 MB) on the element `selector`.
DROP = """([selector, files]) => {
  const transfer = new DataTransfer();
  for (const [name, type, text] of files) {
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type }));
  }
  document.querySelector(selector).dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
}"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def png(width: int = 96, height: int = 64) -> bytes:
    """Returns a small RGB PNG (a gradient), written with zlib alone."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 2, y * 3, 160)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_a_bucket_is_made_filled_by_drag_and_drop_browsed_previewed_and_emptied(server, admin_keys, page, shot, tmp_path):
    base, name, fn = server["base"], f"page-{uuid.uuid4().hex[:8]}", f"on-upload-{uuid.uuid4().hex[:6]}"
    page.goto(f"{base}/buckets/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.fill("#bucket-name", "Not_Valid")
    page.click("#bucket-create")
    expect(page.locator('.field-error[data-field="name"]')).to_contain_text("not valid")
    page.fill("#bucket-name", name)
    page.click("#bucket-create")
    page.wait_for_url(f"{base}/buckets/{name}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    # A function of the same person is notified of uploads under docs/ (set through S3's API).
    call = api_caller(page)
    call("POST", "/api/functions", {"name": fn, "runtime": "python"})
    call("POST", f"/api/functions/{fn}/deploy")
    admin = admin_keys
    s3 = boto3.session.Session(aws_access_key_id=admin["key"], aws_secret_access_key=admin["secret"],
                               region_name="us-east-1").client("s3", endpoint_url=base,
                                                               config=Config(retries={"max_attempts": 1}))
    arn = f"arn:aws:lambda:us-east-1:{admin['account']}:function:{fn}"
    lam = boto3.session.Session(aws_access_key_id=admin["key"], aws_secret_access_key=admin["secret"],
                                region_name="us-east-1").client("lambda", endpoint_url=base,
                                                                config=Config(retries={"max_attempts": 1}))
    allow_s3(lam, arn, name)   # S3 invokes a function only when its policy allows it
    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"LambdaFunctionConfigurations": [
        {"Id": "docs-created", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "docs/"}]}}}]})

    big = bytes(range(256)) * 8192   # 2 MB: the progress bar has something to show
    page.evaluate(DROP, ["#dropzone", [["photo.png", "image/png", b64(png())],
                                       ["notes.txt", "text/plain", b64(b"first line\nsecond line\n")],
                                       ["data.bin", "application/octet-stream", b64(big)]]])
    for file in ("photo.png", "notes.txt", "data.bin"):
        expect(page.locator(f'#uploads li[data-name="{file}"]')).to_contain_text("uploaded")
    assert page.locator('#uploads li[data-name="data.bin"] progress').evaluate("p => p.value === p.max")
    expect(page.locator('#objects tr[data-key="photo.png"]')).to_contain_text("image/png")
    assert s3.get_object(Bucket=name, Key="data.bin")["Body"].read() == big

    page.locator('#objects tr[data-key="photo.png"] a.fname').click()
    image = page.locator("#preview img.preview-image")
    expect(image).to_be_visible()
    wait_until(lambda: image.evaluate("i => i.complete && i.naturalWidth") == 96, 10, "the image preview")
    shot(page, "bucket-image-preview")
    page.locator('#objects tr[data-key="notes.txt"] a.fname').click()
    expect(page.locator("#preview pre.preview-text")).to_have_text("first line\nsecond line\n")

    with page.expect_download() as download:
        page.locator('#objects tr[data-key="notes.txt"]').get_by_role("link", name="Download").click()
    saved = tmp_path / "notes.txt"
    download.value.save_as(saved)
    assert saved.read_bytes() == b"first line\nsecond line\n"

    s3.put_object(Bucket=name, Key="docs/guide/intro.md", Body=b"# Intro", ContentType="text/markdown")
    page.reload()
    expect(page.locator('#objects tr[data-prefix="docs/"]')).to_be_visible()
    page.locator('#objects tr[data-prefix="docs/"] a').click()
    expect(page.locator("#crumbs")).to_contain_text("docs")
    expect(page.locator('#objects tr[data-prefix="docs/guide/"]')).to_be_visible()
    page.set_input_files("#file-input", files=[{"name": "readme.txt", "mimeType": "text/plain",
                                                "buffer": b"inside docs"}])
    expect(page.locator('#objects tr[data-key="docs/readme.txt"]')).to_be_visible()
    assert s3.get_object(Bucket=name, Key="docs/readme.txt")["Body"].read() == b"inside docs"

    # A state machine started by uploads under docs/guide/, set on the page.
    machine = f"on-guide-{uuid.uuid4().hex[:6]}"
    call("POST", "/api/state-machines", {"name": machine, "type": "STANDARD", "role": "flowbench-sample-role",
                                         "definition": json.dumps({"StartAt": "P", "States": {
                                             "P": {"Type": "Pass", "End": True}}})})
    call("POST", f"/api/state-machines/{machine}/versions")
    page.reload()
    expect(page.locator("#notifications")).to_have_attribute("data-ready", "true")
    page.select_option("#machine-name", machine)
    page.fill("#machine-prefix", "docs/guide/")
    page.click("#machine-add")
    expect(page.locator("#machine-configurations")).to_contain_text("prefix: docs/guide/")
    s3.put_object(Bucket=name, Key="docs/guide/next.md", Body=b"# Next", ContentType="text/markdown")
    started = wait_until(lambda: [d for d in call("GET", f"/api/buckets/{name}/notifications")["deliveries"]
                                  if d["execution_id"]], 30, "the execution")
    assert started[0]["key"] == "docs/guide/next.md" and started[0]["target_arn"].endswith(f":stateMachine:{machine}")

    wait_until(lambda: call("GET", f"/api/buckets/{name}/notifications")["deliveries"], 30, "the delivery")
    page.reload()
    expect(page.locator("#deliveries")).to_contain_text("execution:")
    expect(page.locator("#configurations")).to_contain_text("docs-created")
    expect(page.locator("#configurations")).to_contain_text("prefix: docs/")
    expect(page.locator("#deliveries")).to_contain_text("docs/readme.txt")
    expect(page.locator("#deliveries")).to_contain_text("ObjectCreated:Put")
    shot(page, "bucket-folder-notifications")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('#objects tr[data-key="docs/readme.txt"]').get_by_role("button", name="Delete").click()
    expect(page.locator('#objects tr[data-key="docs/readme.txt"]')).to_have_count(0)
    page.goto(f"{base}/buckets/")
    row = page.locator(f'#buckets tr[data-bucket="{name}"]')
    expect(row).to_contain_text("1 to functions")
    shot(page, "buckets-list")
