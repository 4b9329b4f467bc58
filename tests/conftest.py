"""Fixtures every test folder may use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def pytest_sessionfinish(session):
    """Removes the test database's write-ahead-log files, which threads still connected when
    pytest-django deleted the database leave behind."""
    from django.conf import settings

    if not settings.configured:
        return
    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and settings.DATABASES["default"]["ENGINE"] == "flowbench.sqlite":
        for suffix in ("-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One real Flowbench server for the run (tests/live_server.py): page tests and the AWS API's
    tests talk HTTP to it; yields {"base", "link", "data", "env"}."""
    from tests.live_server import running_server

    with running_server(tmp_path_factory.mktemp("flowbench-data")) as found:
        yield found


@pytest.fixture(scope="session")
def admin_keys(server) -> dict:
    """One access key of the server's first administrator for the whole run ({"key", "secret",
    "account"}): an administrator may hold two keys, so tests share this one rather than each
    making its own (the key page's own test needs the second place)."""
    from tests.live_server import manage

    return json.loads(manage(server["env"], code=ADMIN_KEY).strip().splitlines()[-1])


ADMIN_KEY = """
import json
from django.contrib.auth import get_user_model
from editor.services.access_keys import create_access_key
user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
key, secret = create_access_key(user)
print(json.dumps({"name": user.username, "key": key.access_key_id, "secret": secret,
                  "account": user.aws_account.account_id}))
"""


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, one for the whole run: Playwright's sync API runs one
    instance per thread, so page tests (e2e) and the fault tests (integration) share it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()
