"""The drill's steady-state workload: a writer that keeps committing numbered records
to whichever region the service name resolves to, and a reader that records which
region answers. Every acknowledged write is remembered with its time, so the RPO is
counted, not estimated.

A region *answers* when its endpoint is healthy and its application accepts traffic;
Switchyard's application contract is that an instance serves (and writes) only while
its region's traffic switch says on, which is what makes the fence a data-plane fence.

Each request also counts towards the application's steady-state signal in the region that
served it (``RequestCounts``: succeeded or failed, as the application would publish them;
a dark region publishes nothing). The drill's alarm model reads them (drill.adapters).

A *stale client* (``start_stale_client``) is a second writer that keeps writing straight
to one region, as a client holding a cached DNS answer for the old primary would; its
writes go through that region's app tier like any other, so they are acknowledged only if
that region still serves and its database still takes writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from drill.dataplane import ReplicatedDatabase, WriteRejectedError
from drill.world import Faults


@dataclass
class RequestCounts:
    """Requests a region's application served since the counts were last taken."""

    succeeded: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.succeeded + self.failed

    @property
    def success_percent(self) -> float:
        return 100.0 * self.succeeded / self.total if self.total else 100.0


@dataclass
class Observation:
    at: float
    region: str
    answered: bool


def _always(region: str) -> bool:  # noqa: ARG001
    return True


@dataclass
class Workload:
    database: ReplicatedDatabase
    resolve: Callable[[], str]
    faults: Faults
    clock: Callable[[], float]
    accepts: Callable[[str], bool] = _always
    interval_seconds: float = 0.005
    acknowledged: dict[int, float] = field(default_factory=dict)  # sequence -> acknowledged at
    rejected: int = 0
    observations: list[Observation] = field(default_factory=list)
    stale_region: str | None = None  # where the stale client writes; None: no stale client
    stale_attempts: int = 0
    stale_acknowledged: list[int] = field(default_factory=list)
    served: dict[str, RequestCounts] = field(default_factory=dict)  # by region, since take_request_counts
    _next: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tick(self) -> None:
        """One resolution and one write (also callable directly, for deterministic tests)."""
        region = self.resolve()
        answered = self.faults.endpoint_healthy(region) and self.accepts(region)
        with self._lock:
            sequence = self._next
            self._next += 1
            last = self.observations[-1] if self.observations else None
            if last is None or (last.region, last.answered) != (region, answered):
                self.observations.append(Observation(self.clock(), region, answered))
        succeeded = answered and self._write(sequence, region)
        self._count(region, succeeded=succeeded)
        stale = self.stale_region
        if stale is not None:
            self._stale_write(stale)
        self.database.replicate()

    def _write(self, sequence: int, region: str) -> bool:
        try:
            self.database.write(sequence, region=region)
        except WriteRejectedError:
            with self._lock:
                self.rejected += 1
            return False
        with self._lock:
            self.acknowledged[sequence] = self.clock()
        return True

    def _stale_write(self, region: str) -> None:
        """One write from the stale client, straight to ``region``'s endpoint."""
        with self._lock:
            sequence = self._next
            self._next += 1
            self.stale_attempts += 1
        succeeded = self.faults.endpoint_healthy(region) and self.accepts(region) and self._write(sequence, region)
        self._count(region, succeeded=succeeded)
        if succeeded:
            with self._lock:
                self.stale_acknowledged.append(sequence)

    def _count(self, region: str, *, succeeded: bool) -> None:
        """One request towards ``region``'s steady-state counts; a dark region's application
        neither serves nor publishes anything."""
        if self.faults.of(region).dark:
            return
        with self._lock:
            counts = self.served.setdefault(region, RequestCounts())
            if succeeded:
                counts.succeeded += 1
            else:
                counts.failed += 1

    def take_request_counts(self) -> dict[str, RequestCounts]:
        """The counts by region since the last call, and start new ones."""
        with self._lock:
            taken, self.served = self.served, {}
        return taken

    def wait_for_requests(self, count: int, *, timeout_seconds: float) -> None:
        """Block until ``count`` requests were counted since the last take (or the timeout: a
        workload that is not running sends none)."""
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            with self._lock:
                if sum(counts.total for counts in self.served.values()) >= count:
                    return
            if self._thread is None or not self._thread.is_alive():
                return
            time.sleep(self.interval_seconds)

    def start_stale_client(self, region: str) -> None:
        """From now on, every tick also writes straight to ``region`` (a cached DNS answer)."""
        self.stale_region = region

    def start(self, *, on_tick: Callable[[], None] | None = None, every: int = 20) -> None:
        """Run in a thread; ``on_tick`` (the world's constant work) runs every ``every`` ticks."""

        def run() -> None:
            count = 0
            while not self._stop.is_set():
                self.tick()
                count += 1
                if on_tick is not None and count % every == 0:
                    on_tick()
                time.sleep(self.interval_seconds)

        self._thread = threading.Thread(target=run, name="drill-workload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def first_answer_from(self, region: str, *, after: float) -> float | None:
        """When ``region`` first answered (resolved and accepted) at or after ``after``."""
        with self._lock:
            for observation in self.observations:
                if observation.at >= after and observation.region == region and observation.answered:
                    return observation.at
        return None

    def acknowledged_snapshot(self) -> set[int]:
        with self._lock:
            return set(self.acknowledged)

    def loss_window(self, lost: Iterable[int], fault_at: float) -> float | None:
        """The measured RPO over every lost write: from the oldest lost write's
        acknowledgement to the fault, or to the newest lost write when that one was
        acknowledged after the fault (None: no loss)."""
        with self._lock:
            times = [self.acknowledged[sequence] for sequence in lost if sequence in self.acknowledged]
        return max(0.0, max(fault_at, *times) - min(times)) if times else None
