"""Links shared by flows: max-min fair rates, recomputed only when something changes.

A `Link` carries transfers (flows) of known size. Rates are the max-min fair share of the
link (water-filling: a flow whose own cap is below the equal share gets its cap, the rest
share what is left), recomputed when a flow starts or ends or the link goes down or up —
never per packet. Between changes every flow moves at a constant rate, so the next
completion is known exactly and is the only event scheduled (a generation number makes
older timers harmless). With one flow and no cap the time is simply bytes / capacity.

A link may also carry **continuous replication** as a fluid queue: writes come in at
`write_rate` (bytes/s); the replication is served first, at the write rate while there is no
backlog, at the whole capacity while there is one; the backlog grows whenever the capacity
(a path down, the link down, or simply a link smaller than the write rate) is below the
write rate, and drains afterwards. The lag — how many seconds of writes a disaster would
lose — is backlog / write rate; the link keeps its maximum and the time spent lagging.
Flows share what the replication leaves.
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
    """A link of `capacity` bytes/s; continuous replication of `write_rate` goes first."""

    def __init__(self, env: simpy.Environment, name: str, capacity: float, write_rate: float = 0.0):
        self.env = env
        self.name = name
        self.capacity = float(capacity)
        self.write_rate = float(write_rate)
        self.up = True
        self.flows: list[Flow] = []
        self.delivered = 0.0  # bytes moved by flows, integrated over time
        self.busy_s = 0.0  # time with at least one flow moving
        self.backlog = 0.0  # replication bytes written but not yet sent
        self.replicated = 0.0  # replication bytes sent
        self.max_lag_s = 0.0
        self.lagging_s = 0.0  # time with a backlog
        self._last = env.now
        self._gen = 0
        self._capped = 0  # flows with a cap of their own

    @property
    def current(self) -> float:
        return self.capacity if self.up else 0.0

    @property
    def replication_rate(self) -> float:
        """What the replication sends now: all it can while behind, else the write rate."""
        c = self.current
        return c if self.backlog > 0 else min(self.write_rate, c)

    @property
    def available(self) -> float:
        return max(0.0, self.current - self.replication_rate)

    @property
    def lag_s(self) -> float:
        return self.backlog / self.write_rate if self.write_rate > 0 else 0.0

    def transfer(self, nbytes: float, cap: float | None = None) -> Flow:
        """Start a flow of `nbytes`; its `done` event fires when the last byte arrives."""
        flow = Flow(self.env, float(nbytes), cap)
        if flow.size <= 0:
            flow.finished = self.env.now
            flow.done.succeed(flow)
            return flow
        self._advance()
        self.flows.append(flow)
        self._capped += cap is not None
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

    def set_write_rate(self, write_rate: float) -> None:
        """The replicated data grew (or shrank): writes come in at a new rate."""
        self._advance()
        self.write_rate = float(write_rate)
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
            if self.write_rate > 0:
                out = self.replication_rate
                if self.backlog > 0 or out < self.write_rate:
                    self.lagging_s += dt
                grown = self.backlog + (self.write_rate - out) * dt
                self.replicated += out * dt
                # a crumb below a byte (or a millisecond of writes) is a drained queue
                drained = self.current >= self.write_rate and grown <= max(
                    1.0, self.write_rate * 1e-3
                )
                self.backlog = 0.0 if drained else max(0.0, grown)
                self.max_lag_s = max(self.max_lag_s, self.lag_s)
        self._last = now

    def _reallocate(self) -> None:
        flows = self.flows
        left = self.available
        n = len(flows)
        soonest: float | None = None
        if not self._capped:  # the common case: equal shares
            share = left / n if n else 0.0
            for f in flows:
                f.rate = share
            if share > 0:
                soonest = min(f.remaining for f in flows) / share
        else:
            for k, f in enumerate(
                sorted(flows, key=lambda f: f.cap if f.cap is not None else float("inf"))
            ):
                share = left / (n - k)
                f.rate = share if f.cap is None or f.cap >= share else f.cap
                left -= f.rate
            soonest = min((f.remaining / f.rate for f in flows if f.rate > 0), default=None)
        self._gen += 1
        if self.backlog > 0 and self.current > self.write_rate:  # the queue drains then
            drained = self.backlog / (self.current - self.write_rate)
            soonest = drained if soonest is None else min(soonest, drained)
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
                self._capped -= f.cap is not None
            else:
                still.append(f)
        self.flows = still
        if self.backlog > 0 and self.current > self.write_rate:
            if self.backlog / (self.current - self.write_rate) <= TIME_EPS:
                self.backlog = 0.0
        self._reallocate()
