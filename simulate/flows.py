"""Links shared by flows: max-min fair rates, recomputed only when something changes.

A `Link` carries transfers (flows) of known size. Rates are the max-min fair share of the
link (water-filling: a flow whose own cap is below the equal share gets its cap, the rest
share what is left), recomputed when a flow starts or ends or the link goes down or up —
never per packet. Between changes every flow moves at a constant rate, so the next
completion is known exactly and is the only event scheduled (a generation number makes
older timers harmless). With one flow and no cap the time is simply bytes / capacity.
"""

from __future__ import annotations

import simpy

REL_EPS = 1e-9
TIME_EPS = 1e-6  # seconds


class Flow:
    __slots__ = ("size", "remaining", "cap", "rate", "done", "started", "finished")

    def __init__(self, env: simpy.Environment, size: float, cap: float | None):
        self.size = size
        self.remaining = size
        self.cap = cap
        self.rate = 0.0
        self.done = env.event()
        self.started = env.now
        self.finished: float | None = None


class Link:
    """A link of `capacity` bytes/s, less what continuous replication reserves."""

    def __init__(self, env: simpy.Environment, name: str, capacity: float, reserved: float = 0.0):
        self.env = env
        self.name = name
        self.capacity = float(capacity)
        self.reserved = float(reserved)
        self.up = True
        self.flows: list[Flow] = []
        self.delivered = 0.0  # bytes moved by flows, integrated over time
        self.busy_s = 0.0  # time with at least one flow moving
        self._last = env.now
        self._gen = 0

    @property
    def available(self) -> float:
        return max(0.0, self.capacity - self.reserved) if self.up else 0.0

    def transfer(self, nbytes: float, cap: float | None = None) -> Flow:
        """Start a flow of `nbytes`; its `done` event fires when the last byte arrives."""
        flow = Flow(self.env, float(nbytes), cap)
        if flow.size <= 0:
            flow.finished = self.env.now
            flow.done.succeed(flow)
            return flow
        self._advance()
        self.flows.append(flow)
        self._reallocate()
        return flow

    def set_up(self, up: bool) -> None:
        self._advance()
        self.up = up
        self._reallocate()

    def set_capacity(self, capacity: float) -> None:
        """A path of a multi-path link failed or came back: share what is left."""
        self._advance()
        self.capacity = float(capacity)
        self._reallocate()

    def _advance(self) -> None:
        now = self.env.now
        dt = now - self._last
        if dt > 0:
            moved = 0.0
            for f in self.flows:
                step = f.rate * dt
                f.remaining -= step
                moved += step
            self.delivered += moved
            if moved > 0:
                self.busy_s += dt
        self._last = now

    def _reallocate(self) -> None:
        flows = self.flows
        left = self.available
        n = len(flows)
        if all(f.cap is None for f in flows):  # the common case: equal shares
            share = left / n if n else 0.0
            for f in flows:
                f.rate = share
        else:
            for k, f in enumerate(
                sorted(flows, key=lambda f: f.cap if f.cap is not None else float("inf"))
            ):
                share = left / (n - k)
                f.rate = share if f.cap is None or f.cap >= share else f.cap
                left -= f.rate
        self._gen += 1
        soonest = min((f.remaining / f.rate for f in flows if f.rate > 0), default=None)
        if soonest is not None:
            gen = self._gen
            self.env.timeout(max(0.0, soonest)).callbacks.append(lambda _e: self._on_timer(gen))

    def _on_timer(self, gen: int) -> None:
        if gen != self._gen:
            return
        self._advance()
        now = self.env.now
        still = []
        for f in self.flows:
            # tolerances in bytes and in time: at t ≈ 3e7 s (a year) a float step is ~4e-9 s,
            # so anything finer would spin on zero-length timers
            if f.remaining <= REL_EPS * f.size + 1.0 or (
                f.rate > 0 and f.remaining / f.rate <= TIME_EPS
            ):
                self.delivered += f.remaining  # the rounding crumb
                f.remaining = 0.0
                f.finished = now
                f.done.succeed(f)
            else:
                still.append(f)
        self.flows = still
        self._reallocate()
