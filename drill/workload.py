"""The drill's steady-state workload: a writer that keeps committing numbered records
to whichever region the service name resolves to, and a reader that records which
region answers. Every acknowledged write is remembered, so the RPO is counted, not
estimated."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from drill.dataplane import ReplicatedDatabase, WriteRejectedError
from drill.world import Faults


@dataclass
class Observation:
    at: float
    region: str
    answered: bool


@dataclass
class Workload:
    database: ReplicatedDatabase
    resolve: Callable[[], str]
    faults: Faults
    clock: Callable[[], float]
    interval_seconds: float = 0.002
    acknowledged: set[int] = field(default_factory=set)
    rejected: int = 0
    observations: list[Observation] = field(default_factory=list)
    _next: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tick(self) -> None:
        """One write and one read (also callable directly, for deterministic tests)."""
        region = self.resolve()
        answered = self.faults.endpoint_healthy(region)
        with self._lock:
            sequence = self._next
            self._next += 1
            last = self.observations[-1] if self.observations else None
            if last is None or (last.region, last.answered) != (region, answered):
                self.observations.append(Observation(self.clock(), region, answered))
        if answered:
            try:
                self.database.write(sequence, region=region)
            except WriteRejectedError:
                with self._lock:
                    self.rejected += 1
            else:
                with self._lock:
                    self.acknowledged.add(sequence)
        self.database.replicate()

    def start(self) -> None:
        def run() -> None:
            while not self._stop.is_set():
                self.tick()
                time.sleep(self.interval_seconds)

        self._thread = threading.Thread(target=run, name="drill-workload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def first_answer_from(self, region: str, *, after: float) -> float | None:
        """When ``region`` first answered (resolved and healthy) at or after ``after``."""
        with self._lock:
            for observation in self.observations:
                if observation.at >= after and observation.region == region and observation.answered:
                    return observation.at
        return None

    def acknowledged_snapshot(self) -> set[int]:
        with self._lock:
            return set(self.acknowledged)
