"""Sending Celery jobs, and the Redis transport the Celery app uses, Kombu's own with one repair.

send_job() hands a job to the broker and never fails its caller: every job the studio sends
(running an execution, installing packages, an asynchronous invocation) is a database row with a
lease first, so a job the broker refuses (Redis restarting) is sent again by a worker's sweep when
the lease runs out.

When Redis restarts, a worker's consumer closes its broker connection and opens a new one. A job
taken on the old connection may be acknowledged afterwards (a thread starts it just then); Kombu
then reaches for the closed connection's settings and fails with an AttributeError, which is not
a connection error to Celery, so it ends the worker. Here a channel whose connection is closed
says so with Redis's ConnectionError: Celery logs that it could not acknowledge the job and goes
on, and the job comes back from Redis (at worst) to a worker, whose lease check makes it harmless.
"""

from __future__ import annotations

import logging

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

log = logging.getLogger(__name__)


def send_job(task: str, key, what: str) -> None:
    """Sends the Celery job `task` with the one argument `key` (the row's id); a broker that
    refuses it is logged ("<what> <key>: the broker refused its job"), not raised."""
    from celery import current_app

    try:
        current_app.send_task(task, args=[str(key)])
    except Exception as exc:
        log.warning("%s %s: the broker refused its job (%s); a worker's sweep will send it", what, key, exc)


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection this channel belonged to was closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
