"""Debian's Chromium signed in to the real Flowbench server (tests/conftest.py's `server`) for page tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SCREENSHOTS = Path(os.environ.get("FLOWBENCH_SCREENSHOTS", "/tmp/flowbench-screenshots"))


def sign_in(browser, server, folder: Path) -> str:
    """Signs in to `server` with its one-time link; returns the file (in `folder`) holding the
    session, for new browser contexts."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(server["link"])
    page.wait_for_url(f"{server['base']}/")
    state = folder / "state.json"
    context.storage_state(path=str(state))
    context.close()
    return str(state)


@pytest.fixture(scope="session")
def signed_in(server, browser, tmp_path_factory):
    """Signs in once with the one-time link; returns the saved session for new browser contexts."""
    return sign_in(browser, server, tmp_path_factory.mktemp("browser"))


@pytest.fixture
def page(browser, signed_in):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US",
                                  storage_state=signed_in)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A Content-Security-Policy refusal is only a console message: it fails the test as well.
    page.on("console", lambda message: errors.append(f"{message.text} at {message.location}")
            if message.type == "error" and "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert not errors, f"JavaScript errors or CSP refusals on the page: {errors}"


@pytest.fixture
def shot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str):
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
