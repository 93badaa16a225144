"""flip: make the target the active region, at this run's epoch.

The flip is a data-plane write of ``active_region=<target>`` into the TARGET region's
replica of the desired state; the traffic switches (and Route 53 health checks reading
them) follow. The table is MRSC, so that write is what every region reads (the old
region's replica too, once it can answer): there is no second write into the old region. A
retryable failure of the target's own table write (throttling, 5xx, timeout) propagates,
for the state machine's Retry; any other failure of that write tries the Route 53 record
edit fallback, and then it still asks for a human. It refuses (traffic untouched) when a
newer epoch exists: a newer run superseded this one.

When it runs (runbook.asl.json, the TakeOver branch beside ScaleUp:
FlipTrafficFirst -> Fence -> Promote -> FlipTraffic, the same function twice):

- a failover flips in FlipTrafficFirst, right after the lock, preflight and approval, so
  the traffic switch's propagation (Route 53's checks, then the alias answers' cache, about
  105 s) runs while the old primary is fenced and the standby promoted (RDS: minutes);
  FlipTraffic then finds it done (noop);
- a planned move (switchover, failback) answers noop in FlipTrafficFirst and flips in
  FlipTraffic, once its promotion was sent: the old primary is healthy, so traffic stays
  on it until the promotion is under way, and a refused promotion leaves it untouched.

Neither waits for the target database to be writable, and neither can make a second writer:
- writes reach a database only through the app tier of a region whose switch says it is
  active (the application's contract; the drill's invariant checker counts a database as
  accepting writes only when its app tier is on AND it is writable);
- this one write is also the fence of traffic: ``active_region=<target>`` with
  ``fenced_region=<old>`` at this epoch, in the MRSC table, so the old region's switch
  answers 503 from the moment any region can read it (the fence step writes the same
  fenced_region, and keeps the active region it finds);
- the target's database is a read-only replica until the promotion completes, and the
  promotion is sent only after the fence step, so until then the new region answers with
  errors on writes rather than taking them.
What a failover's early flip costs: when promote then refuses (the RPO gate, an approval
that does not hold), traffic points at a region that cannot take writes yet, while the old
primary is failing anyway (the monitor's partition-proof quorum decided so); the run stops
for a human (FailedAfterChanges), who promotes or fails back. A planned switchover keeps its
RPO 0: promote sends the promotion only after the fenced primary's last writes replicated.
"""

from __future__ import annotations

from switchyard.deps import RunbookDeps
from switchyard.model import DesiredState, Severity, StepResult, StepStatus
from switchyard.retry import is_retryable
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import StepRun, start


def flip_traffic(state: RunbookState, deps: RunbookDeps) -> StepResult:  # noqa: PLR0911 - one exit per rule
    run = start("flip", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    epoch = state.require_epoch()
    desired = run.read_desired()
    if desired is not None and desired.epoch == epoch and desired.active_region == run.target:
        return run.finish(StepStatus.NOOP, f"{run.target} already active at epoch {epoch}")
    if state.request.action.is_planned and state.result("promote") is None:
        return run.finish(
            StepStatus.NOOP, f"planned {state.request.action}: traffic moves once the promotion was sent (FlipTraffic)"
        )
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
    return run.finish(StepStatus.DONE, f"traffic flipped to {run.target} at epoch {epoch}")


def _refuse_flip(run: StepRun, desired: DesiredState | None, epoch: int) -> StepResult | None:
    """Traffic stays where it is when a newer run exists. Not when the target database is
    still being promoted: see the module docstring for why that cannot make a second writer."""
    if desired is not None and desired.epoch > epoch:
        return run.finish(StepStatus.NEEDS_HUMAN, f"superseded by epoch {desired.epoch}; traffic untouched")
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
