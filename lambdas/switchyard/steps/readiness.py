"""What "ready" means for the target region: its database and capacity (shared by wait_ready
and verify), and the data protection preflight reports (S3 replication health, backups)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchyard.deps import RunbookDeps
from switchyard.model import Action, Severity


@dataclass(frozen=True)
class Readiness:
    ready: bool
    observed: dict[str, Any]
    missing: list[str] = field(default_factory=list)


def target_readiness(deps: RunbookDeps, region: str) -> Readiness:
    """Database writable and available; ASG InService count at its wanted capacity; the
    image its launch template launches available in the region (AMIs are regional)."""
    database = deps.database.describe(region)
    group = deps.compute.describe(region)
    image = deps.compute.image(region)
    wanted = min(deps.config.capacity.standby_scale_up_target, group.max_size)
    missing = []
    if not (database.writable and database.available):
        missing.append(
            f"database {database.identifier} writable+available (is {database.status}, writable={database.writable})"
        )
    if group.in_service < wanted:
        missing.append(f"{group.name} InService {group.in_service}/{wanted}")
    if not image.available:
        missing.append(image.problem or f"image {image.image_id} available in {region}")
    observed = {
        "database": database.as_observed(),
        "asg": group.as_observed(),
        "wanted_in_service": wanted,
        "image": image.as_observed(),
    }
    return Readiness(not missing, observed, missing)


@dataclass(frozen=True)
class ProtectionCheck:
    """One data-protection readiness check: a finding (severity by the action) and what it read."""

    check: str
    severity: Severity
    message: str
    observed: dict[str, Any]


def s3_replication_readiness(deps: RunbookDeps, action: Action, *, source: str, target: str) -> ProtectionCheck:
    """Is S3 replication into ``target``'s bucket caught up? Behind the configured bounds:
    a blocker for a switchover or failback (planned: they can wait), a finding shown in the
    approval for a failover (the source may be gone; waiting cannot help). No datapoint is
    "unknown", never "healthy", and is a warning for every action: S3 may publish nothing for
    an idle rule, so an unknown must not block a planned move on its own."""
    storage = deps.config.storage
    check = "bucket-replication-health"
    if not storage.replication_time_control:
        return ProtectionCheck(
            check,
            Severity.WARNING,
            "S3 replication health unknown: replication metrics are off (storage.replication_time_control)",
            {"status": "unknown"},
        )
    health = deps.protection.replication(source, target)
    observed = health.as_observed()
    into = f"S3 replication {health.source_bucket} -> {health.destination_bucket} (rule {health.rule_id})"
    if not health.known:
        observed["status"] = "unknown"
        why = health.error or f"no ReplicationLatency and OperationsPendingReplication datapoints in {source}"
        return ProtectionCheck(check, Severity.WARNING, f"{into} is unknown, not proven caught up: {why}", observed)
    latency, pending = health.latency_seconds or 0.0, health.pending_operations or 0.0
    bounds = f"bounds {storage.max_replication_latency_seconds} s, {storage.max_pending_replication_operations} pending"
    state = f"latency {latency:g} s, {pending:g} operations pending ({bounds})"
    if latency > storage.max_replication_latency_seconds or pending > storage.max_pending_replication_operations:
        observed["status"] = "behind"
        severity = Severity.BLOCKER if action.is_planned else Severity.WARNING
        consequence = "wait for it to catch up" if action.is_planned else f"objects written in {source} may be missing"
        return ProtectionCheck(check, severity, f"{into} is behind: {state}; {consequence}", observed)
    observed["status"] = "caught-up"
    return ProtectionCheck(check, Severity.INFO, f"{into} is caught up: {state}", observed)


def backup_readiness(deps: RunbookDeps, action: Action, *, source: str, target: str) -> ProtectionCheck:
    """How old is the newest recovery point of the active (``source``) database in
    ``target``'s vault? Missing, unreadable or older than ``backup.max_recovery_point_age_hours``:
    a blocker for a failback (the region it returns to must hold a recent copy of the data it
    takes over), a warning otherwise."""
    bound = deps.config.backup.max_recovery_point_age_hours
    database = deps.names.database_arn(source)
    points = deps.protection.newest_recovery_point(target, database)
    now = deps.clock()
    observed = {**points.as_observed(now), "max_age_hours": bound}
    severity = Severity.BLOCKER if action is Action.FAILBACK else Severity.WARNING
    where = f"{points.vault} ({target})"
    age = points.age_hours(now)
    if points.error:
        observed["status"] = "unknown"
        message = f"could not read recovery points of {database} in {where}: {points.error}"
    elif not points.vault_exists:
        observed["status"] = "missing-vault"
        message = f"no backup vault {where}"
    elif age is None:
        observed["status"] = "none"
        message = f"no completed recovery point of {database} in {where}"
    elif age > bound:
        observed["status"] = "stale"
        message = f"newest recovery point of {database} in {where} is {age:g} h old (bound {bound} h)"
    else:
        observed["status"] = "fresh"
        severity = Severity.INFO
        message = f"newest recovery point of {database} in {where} is {age:g} h old (bound {bound} h)"
    return ProtectionCheck("backup-recovery-point", severity, message, observed)
