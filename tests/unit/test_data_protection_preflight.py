"""The data-protection checks preflight runs, on fakes: S3 replication health into the
target's bucket (switchyard.steps.readiness.s3_replication_readiness) and the newest recovery
point of the active database in the target's vault (backup_readiness), by action. (Preflight
itself reads S3 settings through real clients: its wiring is tested on moto, in
tests/controller/test_data_protection.py.)

dev: RDS PostgreSQL, us-east-1 primary, us-west-2 standby; bounds from config/dev.toml
(900 s latency, 1000 pending operations, recovery points at most 26 h old).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from switchyard.config import EnvironmentConfig
from switchyard.contract import Names, initial_desired_state
from switchyard.model import Action, Finding, Severity
from switchyard.steps.readiness import backup_readiness, s3_replication_readiness
from tests.fakes import Fakes

REPLICATION = "bucket-replication-health"
BACKUP = "backup-recovery-point"


@pytest.fixture
def fakes(dev_config: EnvironmentConfig) -> Fakes:
    world = Fakes(dev_config)
    world.seed_desired(initial_desired_state(dev_config))
    return world


def target_of(config: EnvironmentConfig, action: Action) -> str:
    """A failback returns to the configured primary; the other actions move to the standby."""
    return config.regions.primary if action is Action.FAILBACK else config.regions.standby


@dataclass(frozen=True)
class Checked:
    """Both checks' results, as preflight records them (findings and observed)."""

    findings: list[Finding]
    observed: dict[str, Any]


def preflight(fakes: Fakes, action: Action) -> Checked:
    """Run both checks as preflight does for ``action``: in the target, about the other region."""
    target = target_of(fakes.config, action)
    source = fakes.config.regions.other(target)
    deps = fakes.deps(target)
    replication = s3_replication_readiness(deps, action, source=source, target=target)
    backup = backup_readiness(deps, action, source=source, target=target)
    return Checked(
        findings=[Finding(check=c.check, severity=c.severity, message=c.message) for c in (replication, backup)],
        observed={"bucket_replication_health": replication.observed, "backup_recovery_point": backup.observed},
    )


def finding(result: Checked, check: str) -> Finding:
    [found] = [item for item in result.findings if item.check == check]
    return found


# -- S3 replication health ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "severity"),
    [(Action.SWITCHOVER, Severity.BLOCKER), (Action.FAILBACK, Severity.BLOCKER), (Action.FAILOVER, Severity.WARNING)],
)
def test_replication_behind_the_latency_bound_blocks_planned_moves_only(
    fakes: Fakes, action: Action, severity: Severity
) -> None:
    # GIVEN the rule into the target's bucket reports a latency one second above the bound
    bound = fakes.config.storage.max_replication_latency_seconds
    fakes.protection.set_replication(target_of(fakes.config, action), latency_seconds=bound + 1, pending_operations=0)
    # WHEN preflight runs
    result = preflight(fakes, action)
    # THEN a planned move is blocked by it, a failover carries it as a non-blocking finding
    assert finding(result, REPLICATION).severity is severity
    assert "is behind" in finding(result, REPLICATION).message
    assert result.observed["bucket_replication_health"]["status"] == "behind"


def test_replication_behind_the_pending_operations_bound_blocks_a_switchover(fakes: Fakes) -> None:
    # GIVEN no latency but more pending operations than the bound
    bound = fakes.config.storage.max_pending_replication_operations
    fakes.protection.set_replication(fakes.config.regions.standby, latency_seconds=0, pending_operations=bound + 1)
    # WHEN a switchover's preflight runs  THEN the pending operations block it
    assert finding(preflight(fakes, Action.SWITCHOVER), REPLICATION).severity is Severity.BLOCKER


def test_replication_exactly_at_its_bounds_is_caught_up(fakes: Fakes) -> None:
    # GIVEN latency and pending operations exactly at the configured bounds
    storage = fakes.config.storage
    fakes.protection.set_replication(
        fakes.config.regions.standby,
        latency_seconds=storage.max_replication_latency_seconds,
        pending_operations=storage.max_pending_replication_operations,
    )
    # WHEN a switchover's preflight runs
    result = preflight(fakes, Action.SWITCHOVER)
    # THEN the bound is inclusive: an informational finding, nothing blocks on it
    assert finding(result, REPLICATION).severity is Severity.INFO
    assert result.observed["bucket_replication_health"]["status"] == "caught-up"


def test_replication_without_datapoints_is_unknown_never_healthy(fakes: Fakes) -> None:
    # GIVEN the rule into the target's bucket has no recent datapoint of either metric
    fakes.protection.set_replication(fakes.config.regions.standby, latency_seconds=None, pending_operations=None)
    # WHEN a switchover's preflight runs
    result = preflight(fakes, Action.SWITCHOVER)
    # THEN it says unknown (a warning), and nothing calls it caught up
    assert finding(result, REPLICATION).severity is Severity.WARNING
    assert "unknown" in finding(result, REPLICATION).message
    assert result.observed["bucket_replication_health"]["status"] == "unknown"


def test_replication_with_one_metric_missing_is_still_unknown(fakes: Fakes) -> None:
    # GIVEN a latency datapoint but no pending-operations one
    fakes.protection.set_replication(fakes.config.regions.standby, latency_seconds=1.0, pending_operations=None)
    # WHEN preflight runs  THEN one metric cannot prove the rule caught up
    assert preflight(fakes, Action.SWITCHOVER).observed["bucket_replication_health"]["status"] == "unknown"


def test_unreadable_replication_metrics_say_why(fakes: Fakes) -> None:
    # GIVEN the source region's CloudWatch cannot be reached
    fakes.protection.replication_unreadable(fakes.config.regions.standby, "EndpointConnectionError: us-east-1")
    # WHEN a failover's preflight runs  THEN the finding is unknown and names the error
    message = finding(preflight(fakes, Action.FAILOVER), REPLICATION).message
    assert "unknown" in message
    assert "EndpointConnectionError" in message


# -- the newest recovery point in the target's vault -------------------------------------------


def test_a_fresh_recovery_point_is_reported_with_its_age(fakes: Fakes) -> None:
    # GIVEN the standby's vault holds a recovery point 3 hours old
    fakes.protection.set_recovery_point(fakes.config.regions.standby, age=timedelta(hours=3))
    # WHEN a failover's preflight runs
    result = preflight(fakes, Action.FAILOVER)
    # THEN readiness reports its age, informational
    assert finding(result, BACKUP).severity is Severity.INFO
    assert result.observed["backup_recovery_point"]["newest_age_hours"] == 3.0
    assert result.observed["backup_recovery_point"]["status"] == "fresh"


@pytest.mark.parametrize(
    ("action", "severity"),
    [(Action.FAILOVER, Severity.WARNING), (Action.SWITCHOVER, Severity.WARNING), (Action.FAILBACK, Severity.BLOCKER)],
)
def test_a_stale_recovery_point_warns_and_blocks_only_a_failback(
    fakes: Fakes, action: Action, severity: Severity
) -> None:
    # GIVEN the target's newest recovery point is an hour past the configured bound
    stale = timedelta(hours=fakes.config.backup.max_recovery_point_age_hours + 1)
    fakes.protection.set_recovery_point(target_of(fakes.config, action), age=stale)
    # WHEN preflight runs
    result = preflight(fakes, action)
    # THEN a warning for a failover or switchover, a blocker for a failback
    assert finding(result, BACKUP).severity is severity
    assert result.observed["backup_recovery_point"]["status"] == "stale"


@pytest.mark.parametrize(
    ("action", "severity"), [(Action.FAILOVER, Severity.WARNING), (Action.FAILBACK, Severity.BLOCKER)]
)
def test_a_missing_vault_is_said_so(fakes: Fakes, action: Action, severity: Severity) -> None:
    # GIVEN the target region has no backup vault
    fakes.protection.set_recovery_point(target_of(fakes.config, action), age=None, vault_exists=False)
    # WHEN preflight runs
    result = finding(preflight(fakes, action), BACKUP)
    # THEN the finding names the missing vault
    assert result.message.startswith("no backup vault")
    assert result.severity is severity


def test_a_vault_without_recovery_points_is_said_so(fakes: Fakes) -> None:
    # GIVEN the primary's vault exists but holds no completed recovery point
    fakes.protection.set_recovery_point(fakes.config.regions.primary, age=None)
    # WHEN a failback's preflight runs
    result = finding(preflight(fakes, Action.FAILBACK), BACKUP)
    # THEN it blocks, saying there is none
    assert result.severity is Severity.BLOCKER
    assert result.message.startswith("no completed recovery point")


def test_the_target_vault_is_asked_for_the_active_databases_copies(fakes: Fakes) -> None:
    # GIVEN a failback (the standby's database is the active one)
    config = fakes.config
    # WHEN its preflight runs
    preflight(fakes, Action.FAILBACK)
    # THEN the primary's vault is asked for recovery points of the standby's database
    assert fakes.protection.asked == [(config.regions.primary, Names(config).db_instance_arn(config.regions.standby))]
