"""Never two writers: the invariant checker run over every drill history.

Switchyard's invariant (issue 9, DESIGN principle 4) over the whole run, fault and
recovery included:

(a) at most one region active at any instant. A region is *active* when its traffic
    switch says on: the real switch logic over a strongly consistent read of that region's
    replica of the desired state (a region that cannot answer, dark or without a majority
    of the state table, is not active: nobody can reach its switch, and the switch answers
    503 when its read fails).
(b) at most one database accepting writes. Two counts are recorded:
    - *writable*: the engine's view, a database that is reachable, writable and not fenced;
    - *accepting*: a database a client could get a write acknowledged by: its region's app
      tier is on (the region is active: the application serves and writes only while its
      switch says on, which is Switchyard's application contract) AND the database is
      writable.
    The invariant uses **accepting**. An old primary that comes back after a data-losing
    failover is writable at the engine level from the moment it is reachable until the
    reconciler in its region fences it (RDS read-only or stopped): no controller can act
    on a database before it can reach it, so the engine count is 2 for up to one
    reconciler interval by construction. What makes that window harmless is that its app
    tier refuses (its switch reads "not active" through the majority), so no write can be
    acknowledged by it; a second *accepting* database is the split brain that loses data.
    The engine count is reported next to it (how long two engines were writable) so a
    fence that never comes is visible.
(c) zero acknowledged writes taken by a database that was not the writer at that instant.
    Every acknowledged write is recorded atomically with the data plane's writer (the
    database replication flows from, the one the controller promoted last): a write taken
    by any other database is a write a failover will not carry.

The history is sampled by the workload thread every 10th 5 ms tick, and at once after
every change of the state table (the MRSC model calls back on each write), of the faults,
and of the data plane's writers (fence, stop, promote, switchover, rejoin call back);
every acknowledged write is recorded by the data plane itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from drill.dataplane import AcknowledgedWrite


@dataclass(frozen=True)
class WriterSample:
    """Who could serve and write at one instant (drill clock)."""

    at: float
    active_regions: tuple[str, ...]
    writable_databases: tuple[str, ...]
    accepting_databases: tuple[str, ...]

    @property
    def state(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        return self.active_regions, self.writable_databases, self.accepting_databases


@dataclass
class WriterHistory:
    """Every sample taken, kept compactly: the first one and each change."""

    changes: list[WriterSample] = field(default_factory=list)
    samples: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, sample: WriterSample) -> None:
        with self._lock:
            self.samples += 1
            if not self.changes or self.changes[-1].state != sample.state:
                self.changes.append(sample)

    def snapshot(self) -> list[WriterSample]:
        with self._lock:
            return list(self.changes)


@dataclass(frozen=True)
class InvariantVerdict:
    samples: int
    max_active_regions: int
    max_accepting_databases: int
    max_writable_databases: int
    two_engines_writable_seconds: float  # how long two databases were writable at the engine level
    writes_by_non_writer: tuple[AcknowledgedWrite, ...]

    @property
    def passed(self) -> bool:
        return self.max_active_regions <= 1 and self.max_accepting_databases <= 1 and not self.writes_by_non_writer

    def detail(self) -> str:
        foreign = self.writes_by_non_writer
        first = ""
        if foreign:
            write = foreign[0]
            first = f" (first: #{write.sequence} taken by {write.region} while {write.writer} was the writer)"
        return (
            f"{self.samples} samples: at most {self.max_active_regions} active region(s), "
            f"{self.max_accepting_databases} database(s) accepting writes "
            f"(engine level: {self.max_writable_databases} writable, "
            f"two for {self.two_engines_writable_seconds:.3f} s); "
            f"{len(foreign)} acknowledged write(s) taken by a database that was not the writer" + first
        )


def check(
    history: Iterable[WriterSample], acknowledged: Iterable[AcknowledgedWrite], *, samples: int, end: float
) -> InvariantVerdict:
    """Judge a run's history; ``end`` (drill clock) closes the last sample's interval."""
    changes = list(history)
    two_writable = 0.0
    ends = [change.at for change in changes[1:]] + ([end] if changes else [])
    for current, until in zip(changes, ends, strict=True):
        if len(current.writable_databases) > 1:
            two_writable += max(0.0, until - current.at)
    return InvariantVerdict(
        samples=samples,
        max_active_regions=max((len(s.active_regions) for s in changes), default=0),
        max_accepting_databases=max((len(s.accepting_databases) for s in changes), default=0),
        max_writable_databases=max((len(s.writable_databases) for s in changes), default=0),
        two_engines_writable_seconds=round(two_writable, 3),
        writes_by_non_writer=tuple(write for write in acknowledged if write.region != write.writer),
    )
