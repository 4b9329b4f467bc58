"""Lambda's concurrency limits, counted where every process of the install sees them.

As in Lambda, each account (a person) may run FLOWBENCH_ACCOUNT_CONCURRENCY invocations at once
(AWS's default is 1,000 a Region), and a function's reserved concurrency is both a floor and a
ceiling: it runs at most that many at once, and those are set aside from the account's pool, which
the functions without a reservation share. An invocation past its limit is throttled
(TooManyRequestsException, "Rate Exceeded.") as Lambda throttles it; nothing else throttles: what
one process can run at once is its capacity, and an invocation beyond it waits for a slot
(runtime.functions.FunctionRunner).

Embedded, the counts live in this process. Distributed, they live in Redis, as sorted sets of
slots whose scores are their expiry times: the process holding a slot renews it while its
invocation runs, so the slots of a process that died expire within FLOWBENCH_LEASE_SECONDS and
its share of the limits comes back by itself. While Redis cannot be reached (a restart), invocations
run uncounted rather than fail, and the slots still held are written back when it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.db.models import Sum

from editor.models import Function

__all__ = ["pool_of", "slot", "LimitedRunner", "limiter"]

log = logging.getLogger(__name__)

# How long the account's reservations are read from the database once (they change rarely).
RESERVATIONS_SECONDS = 1.0


def _reserved_total(owner_id) -> int:
    return Function.objects.filter(owner_id=owner_id).aggregate(n=Sum("reserved_concurrency"))["n"] or 0


_reservations: dict = {}
_reservations_lock = threading.Lock()


def pool_of(function: Function) -> tuple[str, int]:
    """Returns (key, size) of the pool an invocation of `function` counts in: its own when it has
    reserved concurrency, else its account's unreserved one (the account's limit less what its
    functions reserved). Reads the database (the reservations at most once a second)."""
    if function.reserved_concurrency is not None:
        return f"fn:{function.pk}", function.reserved_concurrency
    now = time.monotonic()
    with _reservations_lock:
        known = _reservations.get(function.owner_id)
    if known is None or now - known[1] > RESERVATIONS_SECONDS:
        known = (_reserved_total(function.owner_id), now)
        with _reservations_lock:
            _reservations[function.owner_id] = known
    return f"account:{function.owner_id}", max(settings.FLOWBENCH_ACCOUNT_CONCURRENCY - known[0], 0)


class LocalLimiter:
    """The counts of the embedded mode, in this process."""

    def __init__(self):
        self.running: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, pool: tuple[str, int]):
        """Returns a slot of the pool, or None when the pool is full."""
        key, size = pool
        with self._lock:
            if self.running.get(key, 0) >= size:
                return None
            self.running[key] = self.running.get(key, 0) + 1
        return key

    def give_back(self, slot) -> None:
        with self._lock:
            self.running[slot] -= 1


# Drops the expired slots of a pool, then takes one if the pool has room: atomic in Redis.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
return 1
"""


class RedisLimiter:
    """The counts of the distributed mode, in Redis (see the module docstring)."""

    def __init__(self, url: str, ttl: float):
        import redis

        self.errors = (redis.RedisError, OSError)
        self.ttl = ttl
        self.client = redis.Redis.from_url(url, socket_timeout=5)
        self.take_script = self.client.register_script(_TAKE)
        self.held: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._renewer: threading.Thread | None = None
        # Set when Redis could not be reached: the next renewal adds the held slots back (a restarted
        # Redis lost them) instead of only extending those it still has.
        self._lost = False

    def take(self, pool: tuple[str, int]):
        key, size = pool
        key = f"flowbench:concurrency:{key}"
        member = f"{uuid.uuid4().hex}"
        now = time.time()
        try:
            if not self.take_script(keys=[key], args=[now, now + self.ttl, size, member]):
                return None
        except self.errors as exc:
            log.warning("concurrency is not counted while Redis cannot be reached (%s)", exc)
            self._lost = True
            return key, None
        with self._lock:
            self.held[(key, member)] = now
            self._start_renewer()
        return key, member

    def give_back(self, slot) -> None:
        if slot[1] is None:     # taken while Redis could not be reached: nothing was counted
            return
        with self._lock:
            self.held.pop(slot, None)
        try:
            self.client.zrem(*slot)
        except Exception as exc:   # it expires on its own
            log.warning("could not give a concurrency slot back (%s); it expires within %.0f s", exc, self.ttl)

    def _start_renewer(self) -> None:
        if self._renewer is None:
            self._renewer = threading.Thread(target=self._renew_forever, name="flowbench-concurrency", daemon=True)
            self._renewer.start()

    def _renew_forever(self) -> None:
        pause = threading.Event()
        while True:
            pause.wait(self.ttl / 3)
            self.renew()

    def renew(self) -> None:
        """Extends the expiry of the slots this process holds (the renewer calls it every third of
        the TTL)."""
        with self._lock:
            held = list(self.held)
        if not held:
            return
        expiry = time.time() + self.ttl
        restore, self._lost = self._lost, False
        try:
            with self.client.pipeline(transaction=False) as pipe:
                # Only extended (xx), so that a slot given back meanwhile is not added again;
                # added back after Redis was unreachable, since a restart lost them.
                for key, member in held:
                    pipe.zadd(key, {member: expiry}, xx=not restore)
                pipe.execute()
        except self.errors as exc:
            self._lost = True
            log.warning("could not renew %d concurrency slots (%s)", len(held), exc)


_limiter = None
_limiter_lock = threading.Lock()


def limiter():
    """Returns this process's limiter (Redis-backed in the distributed mode)."""
    global _limiter
    with _limiter_lock:
        if _limiter is None:
            if settings.FLOWBENCH_EXECUTOR == "celery":
                _limiter = RedisLimiter(settings.FLOWBENCH_REDIS_URL, settings.FLOWBENCH_LEASE_SECONDS)
            else:
                _limiter = LocalLimiter()
        return _limiter


@contextmanager
def slot(pool: tuple[str, int]):
    """Holds a place of `pool` (pool_of) while the block runs; raises runtime.functions'
    TooManyRequestsException (Lambda's throttle) when the pool is full. No database work."""
    from runtime.functions import TooManyRequestsException

    chosen = limiter()
    taken = chosen.take(pool)
    if taken is None:
        raise TooManyRequestsException("Rate Exceeded.")
    try:
        yield
    finally:
        chosen.give_back(taken)


class LimitedRunner:
    """This process's FunctionRunner as one function's invocations see it: each within its pool
    (for runtime.tasks.LambdaInvoker, which reports a throttle as Lambda.TooManyRequestsException)."""

    def __init__(self, pool: tuple[str, int]):
        self.pool = pool

    def invoke(self, spec, event=None, on_log=None, **options):
        from editor.services.runner import get_runner

        with slot(self.pool):
            return get_runner().invoke(spec, event, on_log, **options)
