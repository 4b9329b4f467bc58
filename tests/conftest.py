"""Fixtures every test folder may use."""

from __future__ import annotations

import pytest


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
