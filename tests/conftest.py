"""Fixtures every test folder may use."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_sessionfinish(session):
    """Removes the test database's write-ahead-log files, which threads still connected when
    pytest-django deleted the database leave behind."""
    from django.conf import settings

    if not settings.configured:
        return
    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
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
