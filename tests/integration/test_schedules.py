"""Schedules in the distributed mode: Celery beat sends `flowbench.fire_schedules` every second and
the two workers take the jobs. Two beats run here, so every second's job arrives twice and the
workers race for each tick: every tick fires once, with one invocation each, run by a worker."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.cluster import wait_until

SCHEDULES = 6


@pytest.fixture
def beats(cluster):
    cluster.start_beat()
    cluster.start_beat()
    try:
        yield cluster
    finally:
        cluster.stop_beats()


def test_each_tick_fires_once_with_two_beats_and_two_workers(beats, admin):
    cluster, tag = beats, uuid.uuid4().hex[:6]
    function, role = f"it-sched-{tag}", f"it-sched-role-{tag}"
    admin.ok("POST", "/api/functions", {"name": function, "runtime": "python"})
    admin.ok("POST", f"/api/functions/{function}/deploy")
    admin.ok("POST", "/api/roles", {"name": role, "trusted": ["scheduler"]})
    account = re.search(r":(\d{12}):", json.dumps(admin.ok("GET", "/api/roles/default-policy"))).group(1)
    when = (datetime.now(timezone.utc) + timedelta(seconds=6)).strftime("%Y-%m-%dT%H:%M:%S")
    for index in range(SCHEDULES):
        admin.ok("POST", "/api/schedules", {
            "Name": f"it-{tag}-{index}", "ScheduleExpression": f"at({when})", "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": f"arn:aws:lambda:us-east-1:{account}:function:{function}",
                       "RoleArn": f"arn:aws:iam::{account}:role/{role}", "Input": json.dumps({"index": index})}})

    def fires():
        return cluster.sql("SELECT schedule_name, tick_at, fired_at, invocation_id, error FROM editor_schedulefire "
                           "WHERE schedule_name LIKE %s", [f"it-{tag}-%"])

    wait_until(lambda: len(fires()) >= SCHEDULES, 60, "every schedule to fire")
    running = ("SELECT count(*) FROM editor_invocation i JOIN editor_function f ON f.id = i.function_id "
               "WHERE f.name = %s AND i.status = 'running'")
    wait_until(lambda: cluster.sql(running, [function])[0][0] == 0, 120, "the scheduled invocations to end")
    found = fires()
    assert sorted(row[0] for row in found) == [f"it-{tag}-{index}" for index in range(SCHEDULES)]
    for name, tick, fired, invocation, error in found:
        assert error == "" and invocation is not None, (name, error)
        assert timedelta(0) <= fired - tick < timedelta(seconds=10), (name, tick, fired)
    invocations = cluster.sql(
        "SELECT i.request, i.status, i.source FROM editor_invocation i JOIN editor_function f ON f.id = i.function_id "
        "WHERE f.name = %s", [function])
    assert sorted(row[0]["index"] for row in invocations) == list(range(SCHEDULES))
    assert {(row[1], row[2]) for row in invocations} == {("succeeded", "schedule")}
    cluster.check_alive()
