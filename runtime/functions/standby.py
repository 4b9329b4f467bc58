"""Standby workers: sandboxes started before their function is known, so that a cold start does
not pay for the sandbox and the interpreter (as Lambda's provisioned concurrency spares it).

A sandbox depends on its function only through its shape: the runtime, the memory size (its
cgroup and /dev/shm; Node.js's heap limit), the /tmp size and the network switch (a namespace made
at start). Everything else (the code, the environment, the credentials, the handler) is given when
a function takes it (Sandbox.assume): its code is linked into the standby's own empty code folder
and its environment replaces the one the worker started with, then the handler loads as in a
worker started for it. Functions with installed packages or layers (mounted at start) and custom
runtimes (the bootstrap is the function's own program) start as before.

The pool keeps `per_shape` standby workers for each shape it has seen a cold start of, or was
asked to keep ready (`ensure(..., pinned=True)`); taking one starts its replacement in the
background. At most `max_shapes` shapes are kept (the least recently used goes), and a shape not
pinned and not used for the runner's idle timeout has its workers stopped.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable

from .runtimes import Runtime
from .sandbox import Sandbox
from .spec import FunctionSpec

__all__ = ["STANDBY_FAMILIES", "Shape", "StandbyPool", "shape_of"]

STANDBY_FAMILIES = frozenset({"python", "nodejs", "ruby"})
Shape = tuple[str, int, int, bool]   # runtime id, memory MB, /tmp MB, network on


def shape_of(spec: FunctionSpec, runtime: Runtime) -> Shape | None:
    """Returns the shape of sandbox `spec` needs, or None when a standby worker cannot serve it."""
    if runtime.family not in STANDBY_FAMILIES or spec.packages or spec.layers:
        return None
    return (runtime.id, spec.memory, spec.tmp_mb, bool(spec.network))


class _Kept:
    def __init__(self, pinned: bool):
        self.ready: list[Sandbox] = []
        self.starting = 0
        self.pinned = pinned
        self.used = time.monotonic()


class StandbyPool:
    """Standby workers by shape. `start(shape, spec, runtime)` starts one (blocking) for the shape
    of `spec`; the pool calls it on threads of its own."""

    def __init__(self, per_shape: int, start: Callable[[Shape, FunctionSpec, Runtime], Sandbox],
                 max_shapes: int = 8):
        self.per_shape = per_shape
        self.max_shapes = max_shapes
        self._start = start
        self._lock = threading.Condition()
        self._shapes: OrderedDict[Shape, _Kept] = OrderedDict()
        self._closed = False
        self._starting_now = 0   # starts under way, evicted shapes' included
        self.taken = 0   # how many cold starts a standby worker served

    def take(self, spec: FunctionSpec, runtime: Runtime) -> Sandbox | None:
        """Returns a live standby worker of `spec`'s shape (its replacement starts in the
        background), or None: the caller starts a worker itself and the shape is kept from now on."""
        shape = shape_of(spec, runtime) if self.per_shape else None
        if shape is None:
            return None
        found, dead = None, []
        with self._lock:
            kept = self._keep(shape, pinned=False)
            while kept.ready:
                sandbox = kept.ready.pop()
                if sandbox.alive:
                    found = sandbox
                    break
                dead.append(sandbox)   # died while it waited (stopped by the host, say)
            if found is not None:
                self.taken += 1
            doomed = self._refill(shape, kept, spec, runtime)
        for sandbox in dead + doomed:
            sandbox.stop()
        return found

    def ensure(self, spec: FunctionSpec, runtime: Runtime, *, pinned: bool = True, wait: bool = False,
               timeout: float = 30) -> None:
        """Keeps standby workers ready for `spec`'s shape (pinned: kept however long it goes
        unused); with `wait`, returns once they are ready (or `timeout` seconds passed)."""
        shape = shape_of(spec, runtime) if self.per_shape else None
        if shape is None:
            return
        with self._lock:
            kept = self._keep(shape, pinned=pinned)
            doomed = self._refill(shape, kept, spec, runtime)
            if wait:
                deadline = time.monotonic() + timeout
                while (kept.starting and not self._closed and self._shapes.get(shape) is kept
                       and time.monotonic() < deadline):
                    self._lock.wait(timeout=max(deadline - time.monotonic(), 0.01))
        for sandbox in doomed:
            sandbox.stop()

    def counts(self) -> dict[Shape, int]:
        """Returns {shape: standby workers ready} for every kept shape."""
        with self._lock:
            return {shape: len(kept.ready) for shape, kept in self._shapes.items()}

    @property
    def starting(self) -> int:
        with self._lock:
            return sum(kept.starting for kept in self._shapes.values())

    def retire_unused(self, older_than: float) -> int:
        """Stops the workers of shapes neither pinned nor used for `older_than` seconds; returns
        how many it stopped."""
        now = time.monotonic()
        with self._lock:
            doomed = []
            for shape, kept in list(self._shapes.items()):
                if not kept.pinned and now - kept.used > older_than:
                    doomed += kept.ready
                    kept.ready = []
                    if not kept.starting:
                        del self._shapes[shape]
        for sandbox in doomed:
            sandbox.stop()
        return len(doomed)

    def close(self, timeout: float = 30) -> None:
        """Stops every standby worker, and returns once those still starting have stopped too
        (or `timeout` seconds passed)."""
        with self._lock:
            self._closed = True
            doomed = [sandbox for kept in self._shapes.values() for sandbox in kept.ready]
            for kept in self._shapes.values():
                kept.ready = []
            self._lock.notify_all()
        for sandbox in doomed:
            sandbox.stop()
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._starting_now and time.monotonic() < deadline:
                self._lock.wait(timeout=max(deadline - time.monotonic(), 0.01))

    # --- under the lock --------------------------------------------------------------------

    def _keep(self, shape: Shape, pinned: bool) -> _Kept:
        kept = self._shapes.get(shape)
        if kept is None:
            kept = self._shapes[shape] = _Kept(pinned)
        kept.pinned = kept.pinned or pinned
        kept.used = time.monotonic()
        self._shapes.move_to_end(shape)
        return kept

    def _refill(self, shape: Shape, kept: _Kept, spec: FunctionSpec, runtime: Runtime) -> list[Sandbox]:
        """Starts what `shape` lacks on threads; returns the workers of the shapes it evicts
        (to stop outside the lock)."""
        doomed = []
        while len(self._shapes) > self.max_shapes:
            _, evicted = self._shapes.popitem(last=False)
            doomed += evicted.ready
            evicted.ready = []
        if self._closed:
            return doomed
        for _ in range(self.per_shape - len(kept.ready) - kept.starting):
            kept.starting += 1
            self._starting_now += 1
            threading.Thread(target=self._start_one, args=(shape, kept, spec, runtime), daemon=True,
                             name="flowbench-standby-start").start()
        return doomed

    def _start_one(self, shape: Shape, kept: _Kept, spec: FunctionSpec, runtime: Runtime) -> None:
        sandbox = None
        try:
            sandbox = self._start(shape, spec, runtime)
        except Exception:   # noqa: BLE001 -- a failed standby start only means a normal cold start
            sandbox = None
        finally:
            with self._lock:
                kept.starting -= 1
                keep = sandbox is not None and not self._closed and self._shapes.get(shape) is kept
                if keep:
                    kept.ready.append(sandbox)
                self._lock.notify_all()
            if sandbox is not None and not keep:
                sandbox.stop()
            with self._lock:
                self._starting_now -= 1
                self._lock.notify_all()
