"""The Security credentials page (the account id, access keys: the secret shown once, deactivate,
delete) and a role's named inline policies on its page."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.test_function_flow import replace_editor_text


def caller(base: str, key: str, secret: str) -> httpx.Response:
    """Calls STS GetCallerIdentity signed with the key (botocore's signer)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=f"{base}/", data=b"Action=GetCallerIdentity&Version=2011-06-15",
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key, secret), "sts", "us-east-1").add_auth(request)
    return httpx.post(f"{base}/", content=request.body, headers=dict(request.headers.items()))


def test_an_access_key_is_created_with_its_secret_shown_once_then_deactivated_and_deleted(server, page, shot):
    base = server["base"]
    page.goto(f"{base}/")
    page.click("#security-credentials-link")
    page.wait_for_url(f"{base}/security-credentials/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#account-id")).to_have_text(re.compile(r"^\d{12}$"))
    before = page.locator("#access-keys tbody tr[data-key]").count()
    page.click("#create-key")
    dialog = page.locator("#secret-dialog")
    expect(dialog).to_be_visible()
    key = page.locator("#new-key-id").input_value()
    secret = page.locator("#new-key-secret").input_value()
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", key) and len(secret) == 40
    shot(page, "aws-access-key-created")
    page.click("#secret-done")
    expect(dialog).to_be_hidden()
    row = page.locator(f'#access-keys tr[data-key="{key}"]')
    expect(row).to_contain_text("Active")
    expect(page.locator("#access-keys tbody tr[data-key]")).to_have_count(before + 1)
    assert secret not in page.content()   # shown once: gone from the page with the dialog
    assert caller(base, key, secret).status_code == 200
    page.reload()
    expect(row).to_contain_text("sts, us-east-1")   # last used
    row.locator('[data-action="toggle"]').click()
    expect(row).to_contain_text("Inactive")
    assert caller(base, key, secret).status_code == 403
    shot(page, "aws-access-keys")
    page.once("dialog", lambda confirm: confirm.accept())
    row.locator('[data-action="delete"]').click()
    expect(row).to_have_count(0)
    expect(page.locator("#status-line")).to_contain_text("deleted")


def test_a_roles_inline_policies_are_listed_added_edited_and_deleted_on_its_page(server, page, shot):
    base = server["base"]
    page.goto(f"{base}/roles/flowbench-sample-role/")
    expect(page.locator("#role-app")).to_have_attribute("data-ready", "true")
    expect(page.locator('#role-policies tr[data-policy="flowbench-policy"]')).to_be_visible()
    page.click("#policy-add")
    page.fill("#policy-name", "no-deletes")
    replace_editor_text(page, "#policy-editor", '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", '
                        '"Action": "lambda:DeleteFunction", "Resource": "*"}]}')
    expect(page.locator("#policy-diagnostics")).to_contain_text("The policy is valid")
    page.click("#policy-save")
    added = page.locator('#role-policies tr[data-policy="no-deletes"]')
    expect(added).to_be_visible()
    expect(page.locator("#policy-count")).to_have_text("(2)")
    shot(page, "aws-role-inline-policies")
    page.once("dialog", lambda confirm: confirm.accept())
    added.locator('[data-action="delete"]').click()
    expect(added).to_have_count(0)
    expect(page.locator("#policy-count")).to_have_text("(1)")
