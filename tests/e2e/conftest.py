"""A real Flowbench server (prepare + daphne, fresh database) and Debian's Chromium for page tests."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("FLOWBENCH_SCREENSHOTS", "/tmp/flowbench-screenshots"))


def new_signin_link(env: dict) -> str:
    """Runs `manage.py prepare` (the first run creates the database and the administrator) and
    returns the one-time sign-in link it prints, a new one each run."""
    prepared = subprocess.run([sys.executable, "manage.py", "prepare"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=True)
    return re.search(r"(http://\S+/login/\S+)", prepared.stdout).group(1)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Starts `manage.py prepare` then daphne on a free port; yields (base url, sign-in link)."""
    data = tmp_path_factory.mktemp("flowbench-data")
    # The test binds the port and hands the socket to daphne (--fd): connections wait in its
    # backlog until daphne accepts them, so nothing polls or sleeps until the server is up.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "FLOWBENCH_DATA_DIR": str(data), "FLOWBENCH_BASE_URL": base,
           "DJANGO_SETTINGS_MODULE": "flowbench.settings", "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    link = new_signin_link(env)
    log = open(data / "daphne.log", "w")
    daphne = subprocess.Popen([sys.executable, "-m", "flowbench.serve", "--fd", str(listener.fileno()),
                               "flowbench.asgi:application"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, pass_fds=[listener.fileno()])
    listener.close()
    try:
        yield {"base": base, "link": link, "data": data, "env": env}
    finally:
        daphne.terminate()
        daphne.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def signed_in(server, browser, tmp_path_factory):
    """Signs in once with the one-time link; returns the saved session for new browser contexts."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(server["link"])
    page.wait_for_url(f"{server['base']}/")
    state = tmp_path_factory.mktemp("browser") / "state.json"
    context.storage_state(path=str(state))
    context.close()
    return str(state)


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
