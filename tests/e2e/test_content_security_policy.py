"""Every page works under the Content-Security-Policy in a real browser: the `page` fixture fails
a test on any refusal the browser reports (an inline style or script, an eval, a connection)."""

import pytest

PAGES = [
    "/", "/functions/new", "/functions/team-picker/", "/roles/", "/roles/new", "/roles/flowbench-sample-role/",
    "/state-machines/", "/state-machines/new", "/state-machines/youth-football-training/",
    "/state-machines/youth-football-training/executions/",
    "/buckets/", "/scheduler/", "/http-apis/", "/websocket-apis/", "/layers/", "/security-credentials/", "/admin/", "/admin/auth/user/", "/admin/auth/user/add/", "/admin/editor/function/",
    "/admin/editor/accesskey/",
]


@pytest.mark.parametrize("path", PAGES)
def test_the_page_loads_with_no_policy_refusal(server, page, shot, path):
    response = page.goto(server["base"] + path)
    assert response.status == 200, path
    assert "'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    shot(page, "csp" + path.replace("/", "-").rstrip("-"))
