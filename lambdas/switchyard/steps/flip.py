"""flip: make the target the active region, at this run's epoch.

The flip is a data-plane write of ``active_region=<target>`` into the TARGET region's
replica of the desired state; the traffic switches (and Route 53 health checks reading
them) follow. It refuses unless the target database is the writer (traffic untouched
when promotion failed). Best-effort afterwards: the same state into the old region's
replica. A retryable failure of the target's own table write (throttling, 5xx, timeout)
propagates, for the state machine's Retry; any other failure of that write tries the
Route 53 record edit fallback, and then it still asks for a human.
"""

from __future__ import annotations

from switchyard.deps import RunbookDeps
from switchyard.model import DesiredState, Severity, StepResult, StepStatus
from switchyard.retry import is_retryable
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import StepRun, start


def flip_traffic(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("flip", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    epoch = state.require_epoch()
    desired = run.read_desired()
    if desired is not None and desired.epoch == epoch and desired.active_region == run.target:
        return run.finish(StepStatus.NOOP, f"{run.target} already active at epoch {epoch}")
    refusal = _refuse_flip(run, desired, epoch)
    if refusal is not None:
        return refusal
    flipped = DesiredState(
        active_region=run.target,
        epoch=epoch,
        fenced_region=run.source,
        updated_by=state.holder,
        reason=f"{state.request.action} to {run.target}: {state.request.reason}",
        updated_at=deps.now_iso(),
    )
    try:
        written = deps.state.write_desired(run.target, flipped)
    except Exception as exc:
        if is_retryable(exc):
            raise  # throttled or timed out: the step handler makes it a RetryableStepError, the state machine retries
        return _fallback(run, exc)  # the table refuses the write: try the fallback, then a human
    if not written:
        return run.finish(StepStatus.NEEDS_HUMAN, "a newer epoch appeared while flipping; traffic untouched")
    run.did(
        f"wrote active_region={run.target} at epoch {epoch} into {run.target}'s state table",
        "flipped traffic",
        active_region=run.target,
        fenced_region=run.source,
    )
    try:
        deps.state.write_desired(run.source, flipped)
        run.did(f"copied the desired state into {run.source}'s replica", "copied desired state", region=run.source)
    except Exception as exc:  # noqa: BLE001 - the old region may be down; replication carries it later
        run.finding("old-replica", Severity.INFO, f"could not write {run.source}'s replica: {exc}")
    return run.finish(StepStatus.DONE, f"traffic flipped to {run.target} at epoch {epoch}")


def _refuse_flip(run: StepRun, desired: DesiredState | None, epoch: int) -> StepResult | None:
    """Traffic stays where it is when a newer run exists or the target cannot take writes."""
    if desired is not None and desired.epoch > epoch:
        return run.finish(StepStatus.NEEDS_HUMAN, f"superseded by epoch {desired.epoch}; traffic untouched")
    database = run.deps.database.describe(run.target)
    run.observed["target_database"] = database.as_observed()
    if not database.writable:
        run.finding("target-database", Severity.BLOCKER, f"{database.identifier} is not the writer")
        return run.finish(StepStatus.NEEDS_HUMAN, f"{database.identifier} is not writable; traffic untouched")
    return None


def _fallback(run: StepRun, exc: Exception) -> StepResult:
    run.finding("desired-state", Severity.BLOCKER, f"could not write {run.target}'s state table: {exc}")
    try:
        changed = run.deps.traffic_records.make_primary(run.target)
        run.did(
            f"Route 53 fallback: {run.target} record PRIMARY (changed={changed})",
            "route53 fallback attempted",
            changed=changed,
        )
    except Exception as fallback_exc:  # noqa: BLE001 - best-effort control plane call
        run.finding("route53-fallback", Severity.WARNING, f"record edit failed too: {fallback_exc}")
    return run.finish(StepStatus.NEEDS_HUMAN, "the desired-state write failed; a human must confirm traffic")
