"""A Deploy's install survives its installer being stopped mid-install (SIGKILL as a crash; and
SIGTERM, for the web process), in
both modes: the embedded install (the web process installs on a thread; the restarted process takes
the install up again as it starts) and the distributed one (a Celery worker runs the install job;
another worker's lease sweep sends it again once the dead one's lease ran out). Either way the
install runs again, the Deploy ends Successful and the function runs with the package; in the
cluster the install's log and end reach the page's socket from the worker, through Redis.

pip is held mid-install by the test's own wheel server (tests/wheel_server.py), so the kill lands
while pip really runs."""

from __future__ import annotations

import signal
import uuid

import pytest

from tests.integration.cluster import Cluster, wait_until
from tests.wheel_server import WheelServer

USES_PROBE = "import flowbench_probe\n\ndef lambda_handler(e, c):\n    return flowbench_probe.VALUE\n"


def start_install(client, wheels: WheelServer) -> str:
    """Creates a function and Deploys code whose requirements.txt names the held wheel; returns its name."""
    name = f"inst-{uuid.uuid4().hex[:8]}"
    client.ok("POST", "/api/functions", {"name": name, "runtime": "python"}, status=201)
    client.ok("PUT", f"/api/functions/{name}/code", {"files": {
        "lambda_function.py": USES_PROBE, "requirements.txt": wheels.requirements()}})
    answer = client.ok("POST", f"/api/functions/{name}/deploy", status=202)
    assert answer["function"]["last_update"]["status"] == "InProgress", answer
    return name


def finished(client, name: str) -> dict:
    def ended():
        update = client.ok("GET", f"/api/functions/{name}")["last_update"]
        return update if update["status"] != "InProgress" else None
    return wait_until(ended, 180, "the Deploy's install to end after the restart")


def assert_runs_with_the_package(client, name: str, update: dict) -> None:
    assert update["status"] == "Successful", update
    assert "installing again (attempt 2 of 3)" in update["log"], update["log"]
    result = client.ok("POST", f"/api/functions/{name}/test", {"event": {}})
    assert result["response"] == "probe", result


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_an_install_cut_off_by_the_web_process_stopping_is_taken_up_when_it_starts_again(sig):
    server = Cluster(embedded=True, lease_seconds=30).start()
    try:
        with WheelServer() as wheels:
            client = server.client()
            name = start_install(client, wheels)
            wheels.wait_for_download()   # pip is installing, in the web process's sandbox
            server.kill_web(sig)   # SIGTERM: the process stops without waiting for pip
            server.start_web()
            # The restarted process installs again without any request: pip asks for the wheel anew.
            wheels.wait_for_download(2)
            wheels.open()
            update = finished(client, name)
        assert_runs_with_the_package(client, name, update)
    finally:
        server.stop()


@pytest.mark.slow
def test_an_install_whose_worker_is_killed_moves_to_another_worker_and_streams_to_the_page(cluster, admin):
    with WheelServer() as wheels:
        name = f"inst-{uuid.uuid4().hex[:8]}"
        admin.ok("POST", "/api/functions", {"name": name, "runtime": "python"}, status=201)
        admin.ok("PUT", f"/api/functions/{name}/code", {"files": {
            "lambda_function.py": USES_PROBE, "requirements.txt": wheels.requirements()}})
        with admin.websocket(f"/ws/functions/{name}/deploy/") as socket:
            assert socket.receive_json()["type"] == "ready"
            admin.ok("POST", f"/api/functions/{name}/deploy", status=202)
            wheels.wait_for_download()
            runner = wait_until(lambda: cluster.sql(
                "SELECT u.runner FROM editor_functionupdate u JOIN editor_function f ON f.id = u.function_id "
                "WHERE f.name = %s AND u.status = 'InProgress'", [name])[0][0], 30, "the install's runner")
            pid = int(runner.split(":")[1])
            index = next(i for i, p in cluster.worker_processes.items() if p.pid == pid)
            cluster.kill_worker(index, signal.SIGKILL)
            try:
                # The other worker takes the job up once the dead worker's lease ran out.
                wheels.wait_for_download(2, timeout=120)
                wheels.open()
                lines, end = [], None
                while end is None:
                    message = socket.receive_json(timeout=180)
                    if message["type"] == "log":
                        lines.append(message["line"])
                    elif message["type"] == "end":
                        end = message
            finally:
                cluster.start_worker(index)
    assert (end["status"], end["version"]) == ("Successful", "$LATEST"), end
    assert any("Successfully installed flowbench-probe-1.0" in line for line in lines), lines
    assert_runs_with_the_package(admin, name, finished(admin, name))
