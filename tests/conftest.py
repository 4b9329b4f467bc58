"""Fixtures every test folder may use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SUMMARY = pytest.StashKey[list]()


def summary_lines(config) -> list:
    """Lines printed under the run's summary whether its tests pass or fail (measured figures, where
    a failed test's logs were kept); under pytest-xdist each worker's lines reach the summary too."""
    return config.stash.setdefault(SUMMARY, [])


@pytest.fixture(scope="session")
def figures(request) -> list:
    """Lines of measured figures, printed in the run's summary whether the tests pass or fail."""
    return summary_lines(request.config)


def _group(nodeid: str) -> str:
    """The pytest-xdist work unit of a test: its file, or one of the two groups of integration
    tests: those of the shared cluster (PostgreSQL database, Redis, daphne, Celery workers: one per
    pytest worker that runs any, and PostgreSQL's connections are few) and the embedded-mode
    variants of the restart tests, which each start a default install of their own (a SQLite file)."""
    path = nodeid.split("::", 1)[0]
    if not path.startswith("tests/integration/"):
        return path
    return "integration-embedded" if "[embedded" in nodeid else "integration"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (`make test`), each work unit of _group runs whole on one worker, with its
    module's fixtures, in the order of the collection (pytest_collection_modifyitems)."""
    from xdist.scheduler import LoadScopeScheduling

    class Groups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    config.option.loadscopereorder = False
    return Groups(config, log)


def pytest_collection_modifyitems(config, items):
    """A pytest-xdist worker's collection lists the integration tests first: they are the longest
    part of the run, so two workers start them at once while the others take the rest file by file."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: not _group(item.nodeid).startswith("integration"))


def pytest_terminal_summary(terminalreporter, config):
    for line in summary_lines(config):
        terminalreporter.write_line(line)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller: a worker's summary lines join the controller's."""
    summary_lines(node.config).extend(node.workeroutput.get("summary", []))


def pytest_sessionfinish(session):
    """Removes the test database's write-ahead-log files, which threads still connected when
    pytest-django deleted the database leave behind; a pytest-xdist worker hands its summary lines
    to the controller."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["summary"] = list(summary_lines(session.config))
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


