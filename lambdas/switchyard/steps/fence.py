"""fence: stop the old primary taking traffic and writes, before the promotion.

The one required action is a write into the TARGET region's replica of the desired
state: ``fenced_region=<old>`` at this run's epoch. The old region's traffic switch then
answers 503 and its reconciler scales it to the standby's warm minimum, whenever it
reads the newer epoch (replication), so nothing here needs the failing region.

Then, best-effort (short timeouts, one attempt, never blocking): the same fence into the
old region's own replica, and the old region's ASG down to the warm minimum. What could
and could not be fenced is in ``observed.fenced`` / ``observed.not_fenced``.
"""

from __future__ import annotations

from collections.abc import Callable

from switchyard.deps import RunbookDeps
from switchyard.model import DesiredState, Severity, StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import start


def fence_old_primary(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("fence", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    epoch = state.require_epoch()
    desired = run.read_desired()
    if desired is not None and desired.epoch > epoch:
        run.finding(
            "epoch", Severity.BLOCKER, f"a newer epoch {desired.epoch} exists; this run (epoch {epoch}) is stale"
        )
        return run.finish(StepStatus.NEEDS_HUMAN, f"superseded by epoch {desired.epoch}")
    already = desired is not None and desired.epoch == epoch and desired.fenced_region == run.source
    fence = DesiredState(
        active_region=desired.active_region if desired else run.source,
        epoch=epoch,
        fenced_region=run.source,
        updated_by=state.holder,
        reason=f"fence {run.source} for {state.request.action} to {run.target}: {state.request.reason}",
        updated_at=deps.now_iso(),
    )
    fenced: list[str] = []
    not_fenced: dict[str, str] = {}
    if already:
        fenced.append(f"desired-state@{run.target}")
    elif deps.state.write_desired(run.target, fence):
        fenced.append(f"desired-state@{run.target}")
        run.did(
            f"wrote fence of {run.source} at epoch {epoch} into {run.target}'s state table",
            "fenced old primary",
            fenced_region=run.source,
        )
    else:
        return run.finish(StepStatus.NEEDS_HUMAN, "a newer epoch appeared while fencing; this run is stale")
    if not already:  # a re-run leaves the old replica to replication
        _best_effort(
            f"desired-state@{run.source}", lambda: deps.state.write_desired(run.source, fence), fenced, not_fenced
        )
    warm_min = deps.config.capacity.standby_warm_min
    _best_effort(
        f"asg@{run.source}",
        lambda: deps.compute.set_desired(run.source, warm_min, best_effort=True),
        fenced,
        not_fenced,
    )
    run.observed.update({"fenced": fenced, "not_fenced": not_fenced, "epoch": epoch})
    for what, why in not_fenced.items():
        run.finding("fence", Severity.WARNING, f"could not fence {what}: {why}")
    if already:
        return run.finish(StepStatus.NOOP, f"{run.source} already fenced at epoch {epoch}")
    return run.finish(StepStatus.DONE, f"fenced {run.source} at epoch {epoch} ({len(not_fenced)} best-effort misses)")


def _best_effort(what: str, action: Callable[[], object], fenced: list[str], not_fenced: dict[str, str]) -> None:
    try:
        outcome = action()
    except Exception as exc:  # noqa: BLE001 - best-effort against a possibly failed region
        not_fenced[what] = f"{type(exc).__name__}: {exc}"
        return
    if outcome is False:
        not_fenced[what] = "refused: that replica holds a newer epoch"
    else:
        fenced.append(what)
