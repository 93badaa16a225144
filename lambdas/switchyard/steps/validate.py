"""validate: the request fits this environment and its current desired state.

Read-only. A request that names a region outside the pair, a region other than the one
this runbook runs in (each region's runbook promotes its own region, with only that
region's APIs and permissions), the already-active region, or a failback to anywhere but
the configured primary is rejected (``needs_human`` with a blocker finding) before any
mutating call. So is a failback while any lost-writes record (``lost-writes#<app>#<epoch>``,
left by a data-losing failover) is not acknowledged: failing back rebuilds the old primary,
and the writes only it holds must have been looked at first
(``switchyard acknowledge-lost-writes``, runbooks/failback.md).

The request itself was validated strictly before this step runs (switchyard.model:
no coercion, ASCII identities, bounded free text, a size cap); text this step quotes
from the table (a lost-writes record's cause) is cut to ``MAX_PROBLEM_CHARS`` (:func:`bounded`).
"""

from __future__ import annotations

from switchyard.deps import RunbookDeps
from switchyard.model import Action, DesiredState, Severity, StepResult, StepStatus, bounded
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import StepRun, start


def validate_request(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("validate", state, deps)
    request = state.request
    try:
        deps.config.regions.other(request.target_region)
    except ValueError as exc:
        run.finding("target-region", Severity.BLOCKER, str(exc), target_region=request.target_region)
        return run.finish(StepStatus.NEEDS_HUMAN, f"rejected: {exc}")
    if deps.region != run.target:
        problem = (
            f"this runbook runs in {deps.region} and promotes only {deps.region}; "
            f"start the runbook of {run.target} to make {run.target} active"
        )
        run.finding("runs-in-target-region", Severity.BLOCKER, problem, runs_in=deps.region, target_region=run.target)
        return run.finish(StepStatus.NEEDS_HUMAN, f"rejected: {problem}")
    desired = deps.state.read_desired(run.target)
    active = desired.active_region if desired else deps.config.regions.primary
    run.observed.update(
        {
            "active_region": active,
            "epoch": desired.epoch if desired else 0,
            "desired_state_found": desired is not None,
            "runs_in": deps.region,
        }
    )
    already_done = desired is not None and desired.active_region == run.target and desired.updated_by == state.holder
    if not already_done:  # a re-run of this very execution after its flip is not "already active"
        try:
            request.validate_for(deps.config, active)
        except ValueError as exc:
            run.finding("request", Severity.BLOCKER, str(exc), action=str(request.action), active_region=active)
            return run.finish(StepStatus.NEEDS_HUMAN, f"rejected: {exc}")
    if request.action is Action.FAILBACK and (refused := _unacknowledged_lost_writes(run, desired)):
        return refused
    if desired is None:
        run.finding(
            "desired-state",
            Severity.WARNING,
            "no desired state in the target region's table; assuming the configured primary is active",
        )
    return run.finish(StepStatus.NOOP, f"{request.action} to {run.target} accepted (active: {active})")


def _unacknowledged_lost_writes(run: StepRun, desired: DesiredState | None) -> StepResult | None:
    """A needs-human result while a data-losing failover's lost writes are not acknowledged."""
    deps = run.deps
    lock = deps.state.read_lock(run.target)
    up_to_epoch = max(desired.epoch if desired else 0, lock.epoch if lock else 0)
    pending = [
        r for r in deps.state.read_lost_writes(run.target, up_to_epoch=up_to_epoch) if not r.get("acknowledged_by")
    ]
    run.observed["unacknowledged_lost_writes"] = [int(record["epoch"]) for record in pending]
    if not pending:
        return None
    for record in pending:
        epoch = int(record["epoch"])
        snapshot = record.get("snapshot") or "not taken yet"
        command = (
            f'switchyard acknowledge-lost-writes --env {deps.config.name} --epoch {epoch} --note "<what was done>"'
        )
        run.finding(
            "lost-writes",
            Severity.BLOCKER,
            bounded(
                f"epoch {epoch}: {record.get('old_primary')} may hold writes lost in the failover "
                f"({record.get('why')}); snapshot {snapshot}; reconcile them, then: {command}"
            ),
            epoch=epoch,
            snapshot=record.get("snapshot"),
        )
    epochs = ", ".join(str(record["epoch"]) for record in pending)
    return run.finish(StepStatus.NEEDS_HUMAN, f"rejected: lost writes of epoch(s) {epochs} are not acknowledged")
