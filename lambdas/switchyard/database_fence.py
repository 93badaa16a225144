"""A fenced region's database accepts no writes; the writes it may hold are preserved first.

After an RDS cross-region replica promotion the old primary stays a writable standalone
instance, and after an Aurora unplanned failover the old writer is demoted only when its
region recovers. Neither depends on a client to stop writing, so the fence is enforced on
the database itself, as constant work:

1. every lost-writes record (``lost-writes#<app>#<epoch>``, written by promote before a
   data-losing promotion) that names this region as the old primary and has no snapshot
   yet: snapshot the old primary (``Database.snapshot``: an RDS DB snapshot, or the Aurora
   copy of AWS's unplanned-failover snapshot) and record the snapshot in the record;
2. only once every such snapshot exists: ``Database.fence_writer`` (RDS: stop it once it
   no longer has a read replica; Aurora: verify it is no longer a writer).

The old region's reconciler runs this every minute (it runs within a minute of the region
returning, and re-stops an instance AWS restarted after 7 days); the runbook's fence step
runs it once, best-effort, from the target region.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchyard.adapters.database import FenceOutcome, FenceResult, SnapshotNotReadyError
from switchyard.deps import RunbookDeps

SNAPSHOT_FIRST = "pending: the lost writes are snapshotted first"


@dataclass(frozen=True)
class DatabaseFence:
    """What one pass found and did. ``result`` is None when the fence was not attempted
    because a lost-writes snapshot could not be taken yet."""

    region: str
    result: FenceResult | None
    snapshots: dict[str, str] = field(default_factory=dict)  # epoch -> snapshot id, or "pending: why"
    taken: tuple[str, ...] = ()  # snapshots this pass created and recorded

    @property
    def key(self) -> str:
        """The audit trail's name for this fence (``fences`` in the audit item)."""
        return f"database@{self.region}"

    @property
    def label(self) -> str:
        return SNAPSHOT_FIRST if self.result is None else self.result.label

    @property
    def fenced(self) -> bool:
        return self.result is not None and self.result.fenced

    @property
    def refused(self) -> bool:
        """The database may still take writes and AWS will not stop it now: a human looks."""
        return self.result is not None and self.result.outcome is FenceOutcome.REFUSED

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.key,
            "fence": self.label,
            "operation": self.result.operation if self.result else None,
            "lost_writes_snapshots": self.snapshots,
        }


def preserve_then_fence(
    deps: RunbookDeps, region: str, *, up_to_epoch: int, best_effort: bool = False
) -> DatabaseFence:
    """Snapshot ``region``'s old primary for each unsnapshotted lost-writes record that names
    it, then fence it. The records are read from ``deps.region``'s replica of the state table
    (strongly consistent); ``best_effort`` (the fence step's calls into a failing region)
    uses short timeouts and one attempt."""
    snapshots: dict[str, str] = {}
    taken: list[str] = []
    waiting = False
    for record in deps.state.read_lost_writes(deps.region, up_to_epoch=up_to_epoch):
        if record.get("old_primary") != region:
            continue
        epoch = int(record["epoch"])
        if record.get("snapshot"):
            snapshots[str(epoch)] = str(record["snapshot"])
            continue
        try:
            snapshot = deps.database.snapshot(region, deps.names.lost_writes_snapshot(epoch), best_effort=best_effort)
        except SnapshotNotReadyError as exc:
            snapshots[str(epoch)] = f"pending: {exc}"
            waiting = True
            continue
        deps.state.record_lost_writes_snapshot(deps.region, epoch=epoch, snapshot=snapshot, at=deps.now_iso())
        snapshots[str(epoch)] = snapshot
        taken.append(snapshot)
    if waiting:
        return DatabaseFence(region, None, snapshots, tuple(taken))
    return DatabaseFence(region, deps.database.fence_writer(region, best_effort=best_effort), snapshots, tuple(taken))
