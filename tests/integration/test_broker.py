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


def test_a_job_the_broker_refuses_is_logged_and_its_caller_goes_on(caplog):
    # The row behind a job (an execution, an update, an invocation) has a lease, so a sweep sends
    # it again: the caller (a request answering StartExecution) must not fail with the broker.
    from celery import Celery, current_app

    from flowbench.broker import send_job
    from tests.integration.cluster import free_port

    before = current_app._get_current_object()
    app = Celery("refused", broker=f"redis://127.0.0.1:{free_port()}/0", set_as_current=True)
    app.conf.broker_connection_retry = False
    app.conf.broker_connection_max_retries = 0
    try:
        with caplog.at_level(logging.WARNING, logger="flowbench.broker"):
            send_job("flowbench.run_execution", "e-1", "execution")
    finally:
        before.set_current()
    assert "execution e-1: the broker refused its job" in caplog.text
