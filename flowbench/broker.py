"""The Redis transport the Celery app uses, Kombu's own with one repair.

When Redis restarts, a worker's consumer closes its broker connection and opens a new one. A job
taken on the old connection may be acknowledged afterwards (a thread starts it just then); Kombu
then reaches for the closed connection's settings and fails with an AttributeError, which is not
a connection error to Celery, so it ends the worker. Here a channel whose connection is closed
says so with Redis's ConnectionError: Celery logs that it could not acknowledge the job and goes
on, and the job comes back from Redis (at worst) to a worker, whose lease check makes it harmless.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection this channel belonged to was closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
