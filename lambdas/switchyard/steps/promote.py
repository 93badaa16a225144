"""promote: make the target region's database the writer.

RDS: ``promote_read_replica``. Aurora: ``switchover_global_cluster`` when the current
writer is reachable (RPO 0), else ``failover_global_cluster`` with allow-data-loss.

Data-losing promotions (an RDS replica promotion in a failover, an Aurora failover) are
gated on the RPO budget: with the lag above budget or unknown and no ``approval`` in the
state document, this step refuses (``needs_human``) whatever the state machine did; an
approval present must hold (four eyes, age, accepted lag: runbook_state.approval_problems). A
planned switchover waits until the fenced primary's last writes replicated: it polls
within the invocation, then raises a retryable error for the state machine's Retry.

A promotion is sent at most once per lock epoch, across retries, timeouts and concurrent
invocations: the step observes first (already the writer, or AWS shows a promotion in
progress: NOOP, and the runbook's readiness loop waits for it), then claims the epoch's promotion record in the
state table with a condition before it sends the request, and settles the record with the
outcome. A retry that finds the record claimed and AWS showing nothing yet waits for the
promotion to become visible (describe can lag the accepted request), and hands the run to
a human if it never does. Only an answer proving AWS did not take the request (throttled,
never sent, refused) frees the record for another attempt.

A failover that may lose writes (an RDS replica promotion, which never demotes the old
primary; an Aurora failover with the primary unreachable) first records
``lost-writes#<app>#<epoch>``: the old primary is snapshotted before it is stopped or
rebuilt (switchyard.database_fence), and failback waits until an operator acknowledged it.
It is written before the promotion is sent, so a promote that dies after sending still
leaves it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from switchyard.adapters.database import (
    AURORA_FAILOVER,
    AURORA_SWITCHOVER,
    RDS_PROMOTION,
    DatabaseStatus,
    request_not_accepted,
)
from switchyard.adapters.state import PROMOTION_REFUSED
from switchyard.deps import RunbookDeps
from switchyard.model import Action, Severity, StepResult, StepStatus
from switchyard.retry import is_retryable
from switchyard.runbook_state import RunbookState, approval_problems
from switchyard.steps._common import RetryableStepError, StepRun, start
from switchyard.steps.gates import data_loss_gate, lag_evidence_due, target_loss_bound

# How long a promotion recorded as sent may stay invisible (describe showing the replica
# available, not promoting) before a human is asked: AWS's describe calls are eventually
# consistent, so a promotion it accepted can take a moment to show.
PROMOTION_VISIBLE_WITHIN_SECONDS = 300.0
PROMOTION_ISSUING = "issuing"  # claimed; the request is being sent (or the sender died)
PROMOTION_ACCEPTED = "accepted"  # AWS answered the request with success
PROMOTION_UNKNOWN = "unknown"  # the request failed in a way that may follow acceptance (read timeout, 5xx)


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
    if target.promotion_in_progress:
        return _wait_for_running_promotion(run, target)
    epoch = _epoch(run)
    recorded = deps.state.read_promotion(run.target, epoch=epoch)
    run.observed["promotion_record"] = recorded
    if recorded is not None and recorded.get("outcome") != PROMOTION_REFUSED:
        return _await_recorded_promotion(run, target, recorded)
    reachable = _primary_reachable(run)
    run.observed["primary_reachable"] = reachable
    refusal = _refuse_unsafe_promotion(run, target, reachable=reachable)
    return refusal or _issue_promotion(run, target, epoch, reachable=reachable)


def _wait_for_running_promotion(run: StepRun, target: DatabaseStatus) -> StepResult:
    """AWS shows a promotion running (this run's, sent by an invocation that timed out, or
    anyone's): never send another, and do not wait for it here either: the runbook's
    readiness loop (wait_ready) waits for the target to become the writer, up to its
    deadline."""
    run.observed["promotion_in_progress"] = target.promotion_in_progress
    return run.finish(
        StepStatus.NOOP,
        f"a promotion of {target.identifier} is already running ({target.promotion_in_progress}); "
        "not sending another: the readiness wait follows it",
    )


def _epoch(run: StepRun) -> int:
    """The lock epoch this run works under (the promotion record's key)."""
    return run.state.epoch if run.state.epoch is not None else 0


def _issue_promotion(run: StepRun, target: DatabaseStatus, epoch: int, *, reachable: bool) -> StepResult:
    """Claim the epoch's promotion, send it once, and record what AWS answered."""
    deps = run.deps
    record: dict[str, Any] = {
        "operation": _operation(run, reachable=reachable),
        "execution": run.state.execution,
        "target_region": run.target,
        "database": target.identifier,
        "issued_at": deps.now_iso(),
        "outcome": PROMOTION_ISSUING,
    }
    if not deps.state.claim_promotion(run.target, epoch=epoch, record=record):
        raise RetryableStepError(f"another invocation is sending the promotion of epoch {epoch}; not sending it again")
    _record_lost_writes(run, epoch, record)
    try:
        operation = deps.database.promote(run.target, primary_reachable=reachable)
    except Exception as exc:
        not_taken = request_not_accepted(exc) or not is_retryable(exc)
        outcome = PROMOTION_REFUSED if not_taken else PROMOTION_UNKNOWN
        deps.state.settle_promotion(
            run.target, epoch=epoch, record={**record, "outcome": outcome, "error": f"{type(exc).__name__}: {exc}"}
        )
        if is_retryable(exc):
            raise  # the step handler makes it a RetryableStepError for the state machine's Retry
        run.finding("promote", Severity.BLOCKER, f"{type(exc).__name__}: {exc}")
        return run.finish(StepStatus.NEEDS_HUMAN, f"promotion of {target.identifier} failed: {exc}")
    deps.state.settle_promotion(
        run.target, epoch=epoch, record={**record, "operation": operation, "outcome": PROMOTION_ACCEPTED}
    )
    run.did(
        f"{operation} {target.identifier}",
        "promoted standby database",
        operation=operation,
        db=target.identifier,
        promotion_epoch=epoch,
    )
    run.observed["operation"] = operation
    return run.finish(StepStatus.DONE, f"{operation} started for {target.identifier}")


def _record_lost_writes(run: StepRun, epoch: int, promotion: dict[str, Any]) -> None:
    """Leave the lost-writes record of a failover that may lose writes (written once)."""
    if run.action is not Action.FAILOVER or not run.observed.get("data_losing"):
        return
    lag = run.observed.get("replication_lag_seconds")
    approval = run.state.approval
    reasons = []
    if not run.observed.get("primary_reachable"):
        reasons.append(f"{run.source} unreachable at promote")
    if run.deps.config.database.engine == "rds-postgres":
        reasons.append(f"a replica promotion leaves {run.source} writable until it is fenced")
    record = {
        "old_primary": run.source,
        "new_writer": run.target,
        "execution": run.state.execution,
        "operation": promotion["operation"],
        "database": run.deps.names.db_instance(run.source)
        if run.deps.config.database.engine == "rds-postgres"
        else run.deps.names.db_cluster(run.source),
        "replication_lag_seconds": lag,
        "accepted_lag_seconds": approval.accepted_lag_seconds if approval else None,
        "why": "; ".join(reasons),
        "recorded_at": run.deps.now_iso(),
    }
    if run.deps.state.record_lost_writes(run.target, epoch=epoch, record=record):
        run.did(f"recorded possible lost writes of {run.source} at epoch {epoch}", "recorded lost writes", epoch=epoch)
    run.observed["lost_writes_record"] = run.deps.names.lost_writes_key(epoch)


def _operation(run: StepRun, *, reachable: bool) -> str:
    if run.deps.config.database.engine == "rds-postgres":
        return RDS_PROMOTION
    return AURORA_SWITCHOVER if reachable else AURORA_FAILOVER


def _await_recorded_promotion(run: StepRun, target: DatabaseStatus, recorded: dict[str, Any]) -> StepResult:
    """This epoch's promotion was sent (or may have been) and AWS shows neither it running
    nor its result: wait for it to show, never send it twice; past the visibility window,
    a human decides."""
    operation, issued_at, outcome = recorded.get("operation"), str(recorded.get("issued_at")), recorded.get("outcome")
    waited = (run.deps.clock() - datetime.fromisoformat(issued_at)).total_seconds()
    if waited < PROMOTION_VISIBLE_WITHIN_SECONDS:
        raise RetryableStepError(
            f"promotion in progress: {operation} sent at {issued_at} ({outcome}) under epoch {_epoch(run)} "
            f"is not visible on {target.identifier} yet; not sending it again"
        )
    message = (
        f"{operation} was sent at {issued_at} ({outcome}) under epoch {_epoch(run)}, but {target.identifier} "
        f"shows no promotion after {int(waited)}s (status {target.status}): check the database, promote it by "
        "hand if it is still a replica, then start a new run"
    )
    return run.needs_human("promotion-not-visible", message, promotion=recorded)


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


def _refuse_unsafe_promotion(run: StepRun, target: DatabaseStatus, *, reachable: bool) -> StepResult | None:
    """A needs-human result when promoting now could lose data nobody approved losing. A
    planned move waits for the raw lag to reach 0; a failover is gated on the bound on what
    the target can be missing (switchyard.steps.gates, the same figure preflight asked on)."""
    deps, state = run.deps, run.state
    lag = target.replication_lag_seconds
    rds_engine = deps.config.database.engine == "rds-postgres"
    if run.action.is_planned:
        if not reachable:
            return run.finish(StepStatus.NEEDS_HUMAN, f"planned {run.action} needs {run.source} reachable; it is not")
        if rds_engine and lag != 0:
            lag = _wait_for_catch_up(run, lag)
        run.observed["replication_lag_seconds"] = lag
        return _refuse_unacceptable_approval(run, lag, data_losing=False)
    data_losing = rds_engine or not reachable
    bound = target_loss_bound(deps, target, run.source)
    lag = bound.seconds
    gate = data_loss_gate(lag, deps.config.rpo_budget_seconds) if data_losing else None
    run.observed.update({"data_losing": data_losing, **bound.as_observed()})
    due = lag_evidence_due(deps, bound, action=run.action, approved=state.approval is not None) if gate else None
    if due:
        return run.finish(StepStatus.WAITING, due)  # PollPromoteAgain brings it back; nothing was sent
    if gate and state.approval is None:
        run.finding("rpo", Severity.BLOCKER, f"{gate}: a human must approve", replication_lag_seconds=lag)
        return run.finish(StepStatus.NEEDS_HUMAN, f"refused a data-losing promotion: {gate}")
    return _refuse_unacceptable_approval(run, lag, data_losing=data_losing)


def _refuse_unacceptable_approval(run: StepRun, lag: float | None, *, data_losing: bool) -> StepResult | None:
    """A needs-human result when the approval in the state document does not hold now:
    approved by the requester where four eyes are required, too old, or for a smaller lag
    than the one measured now (switchyard.runbook_state.approval_problems, which the CLI
    checks too). No approval: nothing to check here (the RPO gate above decides)."""
    approval, deps = run.state.approval, run.deps
    if approval is None:
        return None
    run.observed["approval"] = approval.model_dump(mode="json")
    problems = approval_problems(
        approval,
        run.state.request,
        data_losing=data_losing,
        measured_lag_seconds=lag,
        now=deps.clock(),
        max_age_seconds=deps.config.approvals.max_age_seconds,
    )
    for problem in problems:
        run.finding("approval", Severity.BLOCKER, problem, replication_lag_seconds=lag)
    if problems:
        return run.finish(StepStatus.NEEDS_HUMAN, f"refused the approval: {'; '.join(problems)}")
    return None
