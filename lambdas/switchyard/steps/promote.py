"""promote: make the target region's database the writer.

RDS: ``promote_read_replica``. Aurora: ``switchover_global_cluster`` when the current
writer is reachable (RPO 0), else ``failover_global_cluster`` with allow-data-loss.

Data-losing promotions (an RDS replica promotion in a failover, an Aurora failover) are
gated on the RPO budget: with the lag above budget or unknown and no ``approval`` in the
state document, this step refuses (``needs_human``) whatever the state machine did. A
planned switchover waits until the fenced primary's last writes replicated: it polls
within the invocation, then raises a retryable error for the state machine's Retry.
"""

from __future__ import annotations

from switchyard.deps import RunbookDeps
from switchyard.model import Severity, StepResult, StepStatus
from switchyard.retry import is_retryable
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import RetryableStepError, StepRun, start
from switchyard.steps.gates import data_loss_gate


def promote_standby_database(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("promote", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    target = deps.database.describe(run.target)
    run.observed["target_database"] = target.as_observed()
    if target.writable:
        return run.finish(StepStatus.NOOP, f"{target.identifier} is already the writer")
    if not target.exists:
        run.finding("target-database", Severity.BLOCKER, f"no database {target.identifier} in {run.target}")
        return run.finish(StepStatus.NEEDS_HUMAN, f"no database to promote in {run.target}")
    reachable = _primary_reachable(run)
    run.observed["primary_reachable"] = reachable
    refusal = _refuse_unsafe_promotion(run, target.replication_lag_seconds, reachable=reachable)
    if refusal is not None:
        return refusal
    try:
        operation = deps.database.promote(run.target, primary_reachable=reachable)
    except Exception as exc:
        if is_retryable(exc):
            raise  # the step handler makes it a RetryableStepError for the state machine's Retry
        run.finding("promote", Severity.BLOCKER, f"{type(exc).__name__}: {exc}")
        return run.finish(StepStatus.NEEDS_HUMAN, f"promotion of {target.identifier} failed: {exc}")
    run.did(f"{operation} {target.identifier}", "promoted standby database", operation=operation, db=target.identifier)
    run.observed["operation"] = operation
    return run.finish(StepStatus.DONE, f"{operation} started for {target.identifier}")


def _primary_reachable(run: StepRun) -> bool:
    try:
        source = run.deps.database.describe(run.source, best_effort=True)
    except Exception:  # noqa: BLE001 - unreachable is an answer here
        return False
    return source.exists and source.available


def _wait_for_catch_up(run: StepRun, lag: float | None) -> float:
    """A planned move promotes only once the fenced primary's last writes replicated.

    ReplicaLag is a one-minute metric, so the newest datapoint can predate the fence by up
    to a minute: poll within this invocation (``deps.readiness`` bounds it) before handing
    the wait to the state machine's Retry, which gives several such windows in all.
    """
    polling, deps = run.deps.readiness, run.deps
    for _ in range(polling.attempts):
        deps.sleep(polling.interval_seconds)
        lag = deps.database.describe(run.target).replication_lag_seconds
        if lag == 0:
            return 0.0
    raise RetryableStepError(f"waiting for the replica to catch up (lag {lag}s) before promoting")


def _refuse_unsafe_promotion(run: StepRun, lag: float | None, *, reachable: bool) -> StepResult | None:
    """A needs-human result when promoting now could lose data nobody approved losing."""
    deps, state = run.deps, run.state
    rds_engine = deps.config.database.engine == "rds-postgres"
    if run.action.is_planned:
        if not reachable:
            return run.finish(StepStatus.NEEDS_HUMAN, f"planned {run.action} needs {run.source} reachable; it is not")
        if rds_engine and lag != 0:
            lag = _wait_for_catch_up(run, lag)
        run.observed["replication_lag_seconds"] = lag
        return None
    data_losing = rds_engine or not reachable
    gate = data_loss_gate(lag, deps.config.rpo_budget_seconds) if data_losing else None
    run.observed.update({"data_losing": data_losing, "replication_lag_seconds": lag})
    if gate and state.approval is None:
        run.finding("rpo", Severity.BLOCKER, f"{gate}: a human must approve", replication_lag_seconds=lag)
        return run.finish(StepStatus.NEEDS_HUMAN, f"refused a data-losing promotion: {gate}")
    if gate and state.approval is not None:
        run.observed["approval"] = state.approval.model_dump(mode="json")
    return None
