"""The Deploy button installs requirements.txt and streams pip's log to the page over the Deploy
log socket (the Deploy request's answer carries no log: every line shown came through the socket);
the same file again comes from the cache; a requirement that does not resolve fails the Deploy with
pip's message and the deployed code keeps running."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.e2e.test_function_flow import create_function
from tests.e2e.test_machine_executions import api_caller

HANDLER = ("import six\n\n\ndef lambda_handler(event, context):\n"
           "    return {'six': six.__version__}\n")


def test_deploy_streams_the_install_log_uses_the_cache_and_reports_a_failed_install(server, page, shot):
    base, name = server["base"], f"deps-{uuid.uuid4().hex[:6]}"
    create_function(page, base, name)
    call = api_caller(page)
    # A requirement unique to this run, so that the first Deploy installs rather than hits the cache.
    marker = uuid.uuid4().hex[:8]
    requirements = f"six==1.16.0  # {marker}\n"
    call("PUT", f"/api/functions/{name}/code",
         {"files": {"lambda_function.py": HANDLER, "requirements.txt": requirements}})
    page.reload()
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")

    page.click("#deploy")
    log = page.locator("#deploy-log")
    expect(page.locator("#deploy-log-panel")).to_be_visible()
    expect(log).to_contain_text("Installing dependencies", timeout=120_000)
    expect(log).to_contain_text("Successfully installed six-1.16.0", timeout=120_000)
    expect(page.locator("#status-line")).to_contain_text("Deployed", timeout=120_000)
    shot(page, "deploy-log-installed")
    result = call("POST", f"/api/functions/{name}/test", {"event": {}})
    assert result["response"] == {"six": "1.16.0"}, result

    # The same requirements again (only the handler changed): the cached package, nothing installed.
    call("PUT", f"/api/functions/{name}/code",
         {"files": {"lambda_function.py": HANDLER + "# edited\n", "requirements.txt": requirements}})
    page.reload()
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")
    page.click("#deploy")
    expect(log).to_contain_text("cached package", timeout=60_000)
    expect(page.locator("#status-line")).to_contain_text("Deployed", timeout=60_000)
    expect(log).not_to_contain_text("Installing dependencies")

    # A requirement that does not resolve: pip's message on the page, the deployed code unchanged.
    call("PUT", f"/api/functions/{name}/code",
         {"files": {"lambda_function.py": "def lambda_handler(e, c):\n    return 'new'\n",
                    "requirements.txt": "flowbench-no-such-package-xyz==1.0\n"}})
    page.reload()
    expect(page.locator("#function-app")).to_have_attribute("data-ready", "true")
    page.click("#deploy")
    expect(log).to_contain_text("flowbench-no-such-package-xyz", timeout=120_000)
    expect(page.locator("#status-line")).to_contain_text("Installing requirements.txt failed", timeout=120_000)
    shot(page, "deploy-log-failed")
    result = call("POST", f"/api/functions/{name}/test", {"event": {}})
    assert result["response"] == {"six": "1.16.0"}, result
