"""The drill's stand-in for the database data plane.

moto stores RDS and Aurora *metadata* but has no database to write to, so the drill keeps
a tiny one here: one store per region, the active one writable, the other an asynchronous
replica that applies each committed write ``replication_lag_seconds`` after it was
acknowledged. Promotion and fencing act on it through the controller's own database
adapter (see ``drill.adapters``), so a lost acknowledged write here is a real RPO
measurement of the controller's ordering, not a number the drill made up.

It is a model, not PostgreSQL: no transactions, no conflicts, one writer at a time by
construction - the point is to count which acknowledged writes survive a failover.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

Method = TypeVar("Method", bound=Callable[..., Any])


def _announces_change(method: Method) -> Method:
    """After ``method`` (which may change which database can take writes), tell the listeners
    (the invariant checker samples the world on every such change, outside the lock)."""

    @functools.wraps(method)
    def wrapper(self: ReplicatedDatabase, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        for listener in list(self.change_listeners):
            listener()
        return result

    return wrapper  # type: ignore[return-value]


class WriteRejectedError(RuntimeError):
    """The region's database refused a write (read-only, fenced or unreachable)."""


@dataclass
class RegionStore:
    region: str
    writable: bool
    reachable: bool = True
    fenced: bool = False
    applied: dict[int, float] = field(default_factory=dict)  # sequence -> commit time


@dataclass(frozen=True)
class AcknowledgedWrite:
    """One write a database acknowledged: which region's database took it, and which one
    was the writer at that instant (the one replication flows from; the invariant checker
    flags any write taken by another)."""

    sequence: int
    region: str
    writer: str
    at: float


@dataclass(frozen=True)
class PendingWrite:
    sequence: int
    committed_at: float


class ReplicatedDatabase:
    """Two regional stores with asynchronous one-way replication from the writer."""

    def __init__(
        self,
        *,
        primary: str,
        standby: str,
        replication_lag_seconds: float,
        clock: Callable[[], float],
        network_up: Callable[[str], bool] | None = None,
    ) -> None:
        """``network_up(region)`` lets the drill's fault model cut a region off as well."""
        if replication_lag_seconds < 0:
            raise ValueError("replication_lag_seconds must be >= 0")
        self._clock = clock
        self._network_up = network_up or (lambda _region: True)
        self._lock = threading.Lock()
        self.replication_lag_seconds = replication_lag_seconds
        self.stores = {
            primary: RegionStore(primary, writable=True),
            standby: RegionStore(standby, writable=False),
        }
        self._writer = primary
        self._replicating = True
        self._in_flight: list[PendingWrite] = []
        self.snapshots: dict[str, dict[int, float]] = {}  # snapshot name -> the store's applied writes then
        self.last_known_lag_seconds: float | None = 0.0  # measured while both sides were reachable
        self.acknowledged_writes: list[AcknowledgedWrite] = []  # every write any store acknowledged
        self.change_listeners: list[Callable[[], None]] = []  # called after fence/stop/promote/...

    # -- the application's view -------------------------------------------------------
    def write(self, sequence: int, *, region: str) -> None:
        """Commit ``sequence`` in ``region``; returns only once it is acknowledged."""
        with self._lock:
            store = self.stores[region]
            if not self._reachable(region):
                raise WriteRejectedError(f"{region}: database unreachable")
            if store.fenced or not store.writable:
                raise WriteRejectedError(f"{region}: database is read-only")
            now = self._clock()
            store.applied[sequence] = now
            self.acknowledged_writes.append(AcknowledgedWrite(sequence, region, self._writer, now))
            if self._replicating and region == self._writer:
                self._in_flight.append(PendingWrite(sequence, now))

    def replicate(self) -> None:
        """Apply every in-flight write older than the lag to the replica (call often)."""
        with self._lock:
            now = self._clock()
            self._apply(until=now - self.replication_lag_seconds)
            if self._both_reachable():
                self.last_known_lag_seconds = now - self._in_flight[0].committed_at if self._in_flight else 0.0

    def _apply(self, *, until: float) -> None:
        if not self._replicating:
            return
        if not self._both_reachable():
            return  # nothing crosses while either side is dark
        replica = self.stores[self._replica_region()]
        keep: list[PendingWrite] = []
        for write in self._in_flight:
            if write.committed_at <= until:
                replica.applied[write.sequence] = write.committed_at
            else:
                keep.append(write)
        self._in_flight = keep

    def _reachable(self, region: str) -> bool:
        return self.stores[region].reachable and self._network_up(region)

    def _both_reachable(self) -> bool:
        return all(self._reachable(region) for region in self.stores)

    def _replica_region(self) -> str:
        return next(region for region in self.stores if region != self._writer)

    # -- what the controller's adapter observes and does -------------------------------
    @property
    def writer_region(self) -> str:
        return self._writer

    def lag_seconds(self) -> float | None:
        """Age of the oldest write not yet on the replica; None when the writer is dark."""
        with self._lock:
            if not self._reachable(self._writer):
                return None
            if not self._in_flight:
                return 0.0
            return max(0.0, self._clock() - self._in_flight[0].committed_at)

    def catch_up(self) -> None:
        """Switchover: apply everything in flight (possible only with both sides up)."""
        with self._lock:
            self._apply(until=float("inf"))

    @_announces_change
    def fence(self, region: str) -> bool:
        """Stop ``region`` taking writes; False when it cannot be reached."""
        with self._lock:
            store = self.stores[region]
            if not self._reachable(region):
                return False
            store.fenced = True
            store.writable = False
            return True

    @_announces_change
    def stop(self, region: str) -> None:
        """The control plane stopped (RDS StopDBInstance) or demoted (Aurora) ``region``'s
        database: from now on it rejects writes. Unlike :meth:`fence` it needs no data-plane
        path to the store; :meth:`promote` and :meth:`rejoin_as_replica` undo it."""
        with self._lock:
            store = self.stores[region]
            store.fenced = True
            store.writable = False

    def snapshot(self, region: str, name: str) -> int:
        """Keep a copy of ``region``'s applied writes under ``name`` (a DB snapshot); how many."""
        with self._lock:
            self.snapshots[name] = dict(self.stores[region].applied)
            return len(self.snapshots[name])

    def preserved(self, name: str, sequences: list[int]) -> list[int]:
        """Which of ``sequences`` (e.g. the lost ones) the snapshot ``name`` holds."""
        with self._lock:
            kept = self.snapshots.get(name, {})
            return sorted(sequence for sequence in sequences if sequence in kept)

    @_announces_change
    def promote(self, region: str) -> None:
        """Make ``region`` the writer. Writes still in flight from the old writer are lost."""
        with self._lock:
            if region == self._writer and self.stores[region].writable:
                return
            self._replicating = False
            self._in_flight = []
            store = self.stores[region]
            store.writable = True
            store.fenced = False
            self._writer = region

    @_announces_change
    def switch_over(self, region: str) -> None:
        """Aurora's global switchover (``SwitchoverGlobalCluster``), as AWS documents it: the
        current writer is demoted to read-only, every secondary is synchronized with it, and
        only then does ``region`` take writes; the old writer stays a replica of the new one.
        Nothing acknowledged is lost. (An RDS replica promotion has no such step: see
        :meth:`promote`.)"""
        with self._lock:
            if region == self._writer and self.stores[region].writable:
                return
            old = self.stores[self._writer]
            old.writable = False  # demoted first: from here on it rejects writes
            self._apply(until=float("inf"))
            new = self.stores[region]
            new.writable = True
            new.fenced = False
            self._writer = region
            self._replicating = True
            self._in_flight = []

    @_announces_change
    def rejoin_as_replica(self, region: str) -> None:
        """Failback preparation: ``region`` is rebuilt as a replica of the current writer."""
        with self._lock:
            if region == self._writer:
                raise ValueError(f"{region} is the writer; it cannot rejoin as a replica")
            writer = self.stores[self._writer]
            replica = self.stores[region]
            replica.applied = dict(writer.applied)
            replica.writable = False
            replica.fenced = False
            self._replicating = True
            self._in_flight = []

    # -- fault injection -----------------------------------------------------------------
    @_announces_change
    def set_reachable(self, region: str, reachable: bool) -> None:
        with self._lock:
            self.stores[region].reachable = reachable

    # -- measurement ---------------------------------------------------------------------
    def writable_regions(self) -> tuple[str, ...]:
        """The regions whose database would acknowledge a write now: reachable, writable
        and not fenced (the engine's view; whether a client can reach it is the app tier's)."""
        with self._lock:
            return tuple(
                region
                for region, store in self.stores.items()
                if self._reachable(region) and store.writable and not store.fenced
            )

    def acknowledged_writes_snapshot(self) -> list[AcknowledgedWrite]:
        with self._lock:
            return list(self.acknowledged_writes)

    def lost(self, acknowledged: set[int]) -> list[int]:
        """Acknowledged sequences the current writer does not have."""
        with self._lock:
            present = self.stores[self._writer].applied
            return sorted(sequence for sequence in acknowledged if sequence not in present)
