"""rejoin: prepare a failback. Rebuild the old primary as a replica of the active region's
database, then report when it has caught up; the failback itself stays a separate, approved run.

Runs only for ``prepare-failback`` (validate -> lock -> rejoin, looped -> release -> record),
in the configured primary's runbook: the region being rebuilt, the one a failback would make
active. Each pass observes, then does at most the next thing (``Database.rejoin_as_replica``):

- RDS: the old primary's data is kept as its lost-writes snapshot first. The newest
  lost-writes record naming this region keeps its snapshot's name (the reconciler usually
  took it already); without a record, the snapshot is ``Names.lost_writes_snapshot`` of the
  epoch that fenced this region. A snapshot this step requests is written into the record
  (so the reconciler never tries to snapshot an instance that is gone). The old instance is
  deleted only once that snapshot is ``available``; then a cross-region read replica of the
  writer is created under the contract's instance name.
- Aurora: nothing is created; the old cluster must be a secondary of the global database
  again (AWS rejoins it after a switchover, and after an unplanned failover once its region
  is back). What is missing is reported.

Then the catch-up: ready when the replica is available and its replication lag (the
engine's metric, as ``Database.describe`` reads it) is at most ``rpo_budget_seconds``. Not 0:
while the active region takes writes a live replica's lag rarely reads 0, and the failback's
own promote waits for exactly 0 after its fence has stopped the writes (RPO 0 stays the
failback's guarantee); within the budget that wait is short. ``waiting`` loops through the
state machine's Wait (``REJOIN_POLL_SECONDS``) until ``REJOIN_DEADLINE_SECONDS`` after the
first check, then ``needs_human`` (the rebuild goes on in AWS: a new prepare-failback resumes
it). Nothing here changes the desired state, traffic or the lost-writes acknowledgement, so
a failback still refuses while the lost writes are not acknowledged.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from switchyard.adapters.database import RejoinPhase, RejoinProgress
from switchyard.contract import REJOIN_DEADLINE_SECONDS
from switchyard.deps import RunbookDeps
from switchyard.model import Action, DesiredState, StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import StepRun, start


def rejoin_old_primary(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("rejoin", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    if run.action is not Action.PREPARE_FAILBACK:
        return run.finish(StepStatus.SKIPPED, f"only {Action.PREPARE_FAILBACK} rebuilds the old primary")
    old, writer = run.target, run.source
    previous = state.result("rejoin")
    before: dict[str, Any] = previous.observed if previous is not None else {}
    checks = int(before.get("checks", 0)) + 1
    deadline = _deadline(run, before)
    run.observed.update({"checks": checks, "deadline": deadline.isoformat(), "writer_region": writer})
    desired = run.read_desired()
    if desired is None or desired.active_region != writer:
        active = desired.active_region if desired else "unknown (no desired state)"
        message = f"{writer} is not the active region ({active}): there is no writer to rebuild {old} from"
        return run.needs_human("active-region", message, active_region=active)
    snapshot, epoch = _lost_writes_snapshot(run, desired)
    progress = deps.database.rejoin_as_replica(old, writer_region=writer, snapshot=snapshot)
    _record(run, progress, epoch)
    if progress.phase is RejoinPhase.MISSING:
        return run.needs_human("rejoin", f"{old} cannot rejoin as a replica of {writer} by itself: {progress.detail}")
    ready = _caught_up(run, old) if progress.phase is RejoinPhase.REJOINED else None
    return ready or _not_ready_yet(run, progress, deadline)


def _not_ready_yet(run: StepRun, progress: RejoinProgress, deadline: datetime) -> StepResult:
    """``waiting`` (the state machine polls again), or ``needs_human`` past the deadline."""
    old, writer, checks = run.target, run.source, int(run.observed["checks"])
    detail = str(run.observed.get("catching_up") or progress.detail)
    if run.deps.clock() >= deadline:
        message = (
            f"{old} is not a caught-up replica of {writer} by {deadline.isoformat()} ({REJOIN_DEADLINE_SECONDS} s "
            f"after the first check): {detail}. AWS goes on; start prepare-failback again to keep waiting"
        )
        return run.needs_human("rejoin-deadline", message, checks=checks)
    return run.finish(StepStatus.WAITING, f"{old} not ready for failback yet (check {checks}): {detail}")


def _deadline(run: StepRun, before: dict[str, Any]) -> datetime:
    """The previous check's deadline, else REJOIN_DEADLINE_SECONDS from now (the first check)."""
    if isinstance(before.get("deadline"), str):
        return datetime.fromisoformat(str(before["deadline"]))
    return run.deps.clock() + timedelta(seconds=REJOIN_DEADLINE_SECONDS)


def _lost_writes_snapshot(run: StepRun, desired: DesiredState) -> tuple[str, int | None]:
    """The snapshot that keeps the old primary's data, and the lost-writes record's epoch it
    belongs to (None: no record names this region; the snapshot is named after the epoch
    that fenced it)."""
    deps = run.deps
    lock = deps.state.read_lock(run.target)
    up_to_epoch = max(desired.epoch, lock.epoch if lock else 0)
    records = [
        record
        for record in deps.state.read_lost_writes(run.target, up_to_epoch=up_to_epoch)
        if record.get("old_primary") == run.target
    ]
    if not records:
        return deps.names.lost_writes_snapshot(desired.epoch), None
    newest = max(records, key=lambda record: int(record["epoch"]))
    epoch = int(newest["epoch"])
    run.observed["lost_writes_epoch"] = epoch
    return str(newest.get("snapshot") or deps.names.lost_writes_snapshot(epoch)), epoch


def _record(run: StepRun, progress: RejoinProgress, epoch: int | None) -> None:
    """What this pass found and sent; a snapshot it requested goes into the lost-writes record."""
    run.observed["database"] = progress.as_observed()
    for operation in progress.operations:
        run.did(
            f"{operation} ({progress.identifier} in {progress.region})",
            "rebuilding old primary",
            operation=operation,
            database=progress.identifier,
            snapshot=progress.snapshot,
        )
    if epoch is None or progress.snapshot is None or "CreateDBSnapshot" not in progress.operations:
        return
    deps = run.deps
    if deps.state.record_lost_writes_snapshot(deps.region, epoch=epoch, snapshot=progress.snapshot, at=deps.now_iso()):
        run.did(f"recorded snapshot {progress.snapshot} for epoch {epoch}", "lost-writes snapshot recorded")


def _caught_up(run: StepRun, region: str) -> StepResult | None:
    """``done``/``noop`` once the replica is available with a lag within the RPO budget."""
    deps = run.deps
    status = deps.database.describe(region)
    budget = deps.config.rpo_budget_seconds
    lag = status.replication_lag_seconds
    run.observed.update({"replica": status.as_observed(), "lag_budget_seconds": budget})
    if not status.available or lag is None or lag > budget:
        shown = "unknown" if lag is None else f"{lag:g} s"
        run.observed["catching_up"] = f"{status.status}, lag {shown} (ready at <= {budget} s)"
        return None
    done = StepStatus.NOOP if not run.actions and int(run.observed["checks"]) == 1 else StepStatus.DONE
    message = (
        f"ready for failback: {status.identifier} in {region} is a replica of {run.source}, lag {lag:g} s "
        f"(<= {budget} s). Fail back with its own approved run: switchyard failback --env {deps.config.name}"
    )
    return run.finish(done, message)
