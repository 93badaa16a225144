"""preflight: every readiness check, read-only; alone it is the dry run.

Checks the target (standby) database exists, is available and how far it lags, the
target ASG exists with its launch template, the target bucket is versioned and the
source bucket replicates to it, the target's Route 53 health checks exist, and no
other runbook holds the lock. Findings carry severities; any blocker -> ``needs_human``.

For the state machine, ``observed`` always carries:

- ``approval_required`` (bool): a human must approve before the mutating steps run:
  a failover whose replication lag is above ``config.rpo_budget_seconds`` or unknown,
  or any mutating run when ``config.mode == "manual"``; False once the state document
  carries an ``approval``;
- ``approval_reason`` (str): why, stating the lag and the budget ("" when not required);
- ``replication_lag_seconds`` (float | None): what the RPO gate decides on: the bound on
  the writes the standby can be missing (``switchyard.steps.gates.loss_bound``: its replay
  position from the lag metric, against the source's last heartbeat), None when unknown;
  ``replica_lag_reported_seconds``, ``replica_lag_observed_at`` and ``source_last_seen`` are
  what it was computed from.

The promote step enforces the same RPO gate itself, so skipping the approval cannot
lose data silently. Preflight asks for every failover over budget, even on Aurora where
promote may still find the primary reachable and switch over with RPO 0: reachability
can change between the two steps, so the question is asked early and conservatively.
"""

from __future__ import annotations

from typing import Any

from switchyard.contract import HEALTH_CHECK_PURPOSES
from switchyard.deps import RunbookDeps
from switchyard.model import Action, Severity, StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import StepRun, start
from switchyard.steps.gates import LossBound, data_loss_gate, lag_evidence_due, target_loss_bound
from switchyard.steps.readiness import backup_readiness, s3_replication_readiness


def preflight_checks(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("preflight", state, deps)
    bound = _check_database(run)
    if bound is not None:
        run.observed.update(bound.as_observed())
    if state.request.action.is_planned:
        _check_source_reachable(run)
    _check_compute(run)
    _check_storage(run)
    _check_health_checks(run)
    _check_lock(run)
    _decide_approval(run, bound)
    blockers = [finding.check for finding in run.findings if finding.severity is Severity.BLOCKER]
    if blockers:
        return run.finish(StepStatus.NEEDS_HUMAN, f"preflight blockers: {', '.join(blockers)}")
    return run.finish(StepStatus.NOOP, f"ready to {state.request.action} to {run.target}")


def _check_database(run: StepRun) -> LossBound | None:
    database = run.deps.database.describe(run.target)
    run.observed["target_database"] = database.as_observed()
    if not database.exists:
        run.finding("target-database", Severity.BLOCKER, f"no database {database.identifier} in {run.target}")
        return None
    if not database.available:
        run.finding("target-database", Severity.BLOCKER, f"{database.identifier} is {database.status}")
    if database.writable:
        run.finding("target-database", Severity.INFO, f"{database.identifier} is already writable")
        return None
    return target_loss_bound(run.deps, database, run.source)


def _check_source_reachable(run: StepRun) -> None:
    source = _best_effort(run, "source-database", lambda: run.deps.database.describe(run.source, best_effort=True))
    reachable = source is not None and source.available
    run.observed["source_database_reachable"] = reachable
    target = run.observed.get("target_database", {})
    if reachable and source.writable and target.get("writable"):
        run.finding(
            "two-writers",
            Severity.BLOCKER,
            f"both {source.identifier} and {target.get('identifier')} are writable: re-create {run.target}'s "
            "database as a replica of the active one before a planned move",
        )
    if not reachable:
        run.finding(
            "source-database",
            Severity.BLOCKER,
            f"a planned {run.action} needs the current primary in {run.source} reachable (RPO 0); use failover",
        )


def _check_compute(run: StepRun) -> None:
    group = run.deps.compute.describe(run.target)
    run.observed["target_asg"] = group.as_observed()
    wanted = run.deps.config.capacity.standby_scale_up_target
    if not group.exists:
        run.finding("target-asg", Severity.BLOCKER, f"no Auto Scaling group {group.name} in {run.target}")
    elif not group.launch_template:
        run.finding("target-asg", Severity.BLOCKER, f"{group.name} has no launch template")
    elif group.max_size < wanted:
        run.finding(
            "target-asg", Severity.WARNING, f"{group.name} max {group.max_size} is below the scale-up target {wanted}"
        )
    # AMIs are regional: the target launches nothing unless its own copy of the image exists
    image = run.deps.compute.image(run.target)
    run.observed["target_image"] = image.as_observed()
    if not image.available:
        run.finding("target-image", Severity.BLOCKER, image.problem or f"image {image.image_id} not available")


def _best_effort(run: StepRun, check: str, read: Any) -> Any:
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - an unreadable optional check is a warning
        run.finding(check, Severity.WARNING, f"could not check: {type(exc).__name__}: {exc}")
        return None


def _check_storage(run: StepRun) -> None:
    names = run.deps.names
    target_bucket = names.bucket(run.target)
    s3_target = run.deps.clients.client("s3", run.target, best_effort=True)
    versioning = _best_effort(run, "target-bucket", lambda: s3_target.get_bucket_versioning(Bucket=target_bucket))
    if versioning is not None:
        run.observed["target_bucket_versioning"] = versioning.get("Status", "Disabled")
        if versioning.get("Status") != "Enabled":
            run.finding("target-bucket", Severity.WARNING, f"{target_bucket} is not versioned")
    s3_source = run.deps.clients.client("s3", run.source, best_effort=True)
    replication = _best_effort(
        run, "bucket-replication", lambda: s3_source.get_bucket_replication(Bucket=names.bucket(run.source))
    )
    if replication is not None:
        destinations = [
            rule.get("Destination", {}).get("Bucket", "")
            for rule in replication.get("ReplicationConfiguration", {}).get("Rules", [])
            if rule.get("Status") == "Enabled"
        ]
        replicates = any(destination.endswith(f":::{target_bucket}") for destination in destinations)
        run.observed["bucket_replication_to_target"] = replicates
        if not replicates:
            run.finding("bucket-replication", Severity.WARNING, f"no enabled replication rule to {target_bucket}")
    _check_data_protection(run)


def _check_data_protection(run: StepRun) -> None:
    """S3 replication health into the target's bucket and the newest recovery point of the
    active database in the target's vault (switchyard.steps.readiness): behind or stale is a
    blocker for a planned move only as those functions decide; the findings ride in the
    approval request either way."""
    for key, check in (
        ("bucket_replication_health", s3_replication_readiness),
        ("backup_recovery_point", backup_readiness),
    ):
        result = check(run.deps, run.action, source=run.source, target=run.target)
        run.observed[key] = result.observed
        run.finding(result.check, result.severity, result.message)


def _check_health_checks(run: StepRun) -> None:
    checks = _best_effort(run, "health-checks", lambda: run.deps.health.health_checks(run.target))
    if checks is None:
        return
    run.observed["target_health_checks"] = checks
    missing = [purpose for purpose in HEALTH_CHECK_PURPOSES if purpose not in checks]
    if missing:
        run.finding("health-checks", Severity.WARNING, f"{run.target} lacks Route 53 health checks: {missing}")


def _check_lock(run: StepRun) -> None:
    lock = run.deps.state.read_lock(run.target)
    if lock is None:
        return
    run.observed["lock"] = {"holder": lock.holder, "epoch": lock.epoch, "held": lock.held}
    if lock.held and lock.holder != run.state.holder:
        run.finding("lock", Severity.BLOCKER, f"a runbook is already in progress: {lock.holder} at epoch {lock.epoch}")


def _decide_approval(run: StepRun, bound: LossBound | None) -> None:
    """Ask a human when a failover's RPO bound is over budget (or unknown), or in manual mode.
    Not while fresher lag evidence is due for an automatic failover (gates.lag_evidence_due):
    promote waits for it and decides then, so traffic need not wait for the metric."""
    config = run.deps.config
    lag = bound.seconds if bound else None
    reasons = []
    if run.action is Action.FAILOVER:
        gate = data_loss_gate(lag, config.rpo_budget_seconds)
        due = lag_evidence_due(run.deps, bound, action=run.action, approved=run.state.approval is not None)
        if gate and due:
            run.observed["lag_evidence_pending"] = due
            run.finding("rpo", Severity.INFO, f"{gate}; {due}: promote waits for it")
        elif gate:
            reasons.append(gate)
    if config.mode == "manual" and run.action.mutates:
        reasons.append(f"environment {config.name} is in manual mode")
    required = bool(reasons) and run.state.approval is None
    run.observed.update(
        {
            "replication_lag_seconds": lag,
            "rpo_budget_seconds": config.rpo_budget_seconds,
            "approval_required": required,
            "approval_reason": "; ".join(reasons) if required else "",
            "approval_present": run.state.approval is not None,
        }
    )
    if required:
        run.finding("approval", Severity.WARNING, "; ".join(reasons), replication_lag_seconds=lag)
