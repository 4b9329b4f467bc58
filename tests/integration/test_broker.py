"""The broker transport (flowbench.broker): a job acknowledged after its connection was replaced
(Redis restarted under a worker) is logged as not acknowledged, never an error that ends the
worker."""

from __future__ import annotations

import logging
import subprocess
import sys

from kombu import Connection

from flowbench.broker import Transport
from tests.integration.cluster import ROOT


def test_a_message_acknowledged_after_its_connection_closed_is_logged_not_raised(cluster, caplog):
    connection = Connection(f"redis://127.0.0.1:{cluster.redis_port}/7", transport=Transport)
    queue = connection.SimpleQueue("flowbench-broker-test")
    queue.put({"job": 1})
    message = queue.get(timeout=5)
    # What a consumer's restart leaves: its connection closed and the channel's pools dropped
    # (kombu drops them when the connection breaks).
    connection.close()
    message.channel._disconnect_pools()
    with caplog.at_level(logging.CRITICAL):
        message.ack_log_error(logging.getLogger("celery.worker"), connection.connection_errors)
    assert "Couldn't ack" in caplog.text
    assert "the broker connection this channel belonged to was closed" in caplog.text
    assert not message.acknowledged


def test_the_celery_app_of_the_distributed_mode_uses_this_transport(cluster):
    code = ("import django; django.setup(); from flowbench.celery import app; "
            "print(type(app.connection_for_write().transport).__module__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=cluster.env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "flowbench.broker"
