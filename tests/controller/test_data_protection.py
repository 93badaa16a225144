"""Preflight's data-protection checks on moto: S3 replication metrics read from CloudWatch
(AWS/S3, in the source bucket's region, for the rule into the target's bucket) and the
newest recovery point in the target's vault (modelled: moto has no recovery points).

Every call is labelled with its step, so the teardown checks it against the synthesized
IAM policy of the preflight function.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from switchyard.adapters.protection import (
    MODELLED_BACKUP_AND_COPY_DURATION,
    PENDING_OPERATIONS_METRIC,
    REPLICATION_LATENCY_METRIC,
    S3_METRICS_NAMESPACE,
    ModelledRecoveryPoints,
)
from switchyard.contract import Names
from switchyard.model import Action, Severity, StepResult
from switchyard.retry import ClientFactory
from switchyard.steps import STEPS
from tests.controller.conftest import Controller, failover_state

REPLICATION = "bucket-replication-health"
BACKUP = "backup-recovery-point"


def publish_s3_replication(controller: Controller, *, source: str, target: str, latency: float, pending: float) -> None:
    """What S3 publishes for the rule from ``source``'s bucket into ``target``'s, 30 s ago."""
    names = Names(controller.config)
    dimensions = [
        {"Name": "SourceBucket", "Value": names.bucket(source)},
        {"Name": "DestinationBucket", "Value": names.bucket(target)},
        {"Name": "RuleId", "Value": names.replication_rule(target)},
    ]
    at = controller.clock() - timedelta(seconds=30)
    controller.aws("cloudwatch", source).put_metric_data(
        Namespace=S3_METRICS_NAMESPACE,
        MetricData=[
            {"MetricName": REPLICATION_LATENCY_METRIC, "Dimensions": dimensions, "Timestamp": at, "Value": latency},
            {"MetricName": PENDING_OPERATIONS_METRIC, "Dimensions": dimensions, "Timestamp": at, "Value": pending},
        ],
    )


def preflight(controller: Controller, action: Action) -> StepResult:
    config = controller.config
    target = config.regions.primary if action is Action.FAILBACK else config.regions.standby
    with controller.call_log.step("preflight"):
        return STEPS["preflight"](failover_state(config, action=action, target_region=target), controller.deps(target))


def severity_of(result: StepResult, check: str) -> Severity:
    [severity] = [finding.severity for finding in result.findings if finding.check == check]
    return severity


def test_a_switchover_is_blocked_while_replication_into_the_standby_is_behind(rds: Controller) -> None:
    # GIVEN S3 reports the primary -> standby rule 20 minutes behind
    primary, standby = rds.config.regions.pair
    publish_s3_replication(rds, source=primary, target=standby, latency=1200, pending=3)
    rds.publish_lag(0.0)
    # WHEN a switchover's preflight runs
    result = preflight(rds, Action.SWITCHOVER)
    # THEN the replication health blocks it, with what was read
    assert severity_of(result, REPLICATION) is Severity.BLOCKER
    assert result.observed["bucket_replication_health"]["latency_seconds"] == 1200
    assert result.observed["bucket_replication_health"]["rule_id"] == Names(rds.config).replication_rule(standby)


def test_a_failover_carries_replication_behind_as_a_finding_for_the_approval(rds: Controller) -> None:
    # GIVEN the same lag  WHEN a failover's preflight runs
    primary, standby = rds.config.regions.pair
    publish_s3_replication(rds, source=primary, target=standby, latency=1200, pending=3)
    rds.publish_lag(0.0)
    result = preflight(rds, Action.FAILOVER)
    # THEN it is a warning (in the result the approval request carries), not a blocker
    assert severity_of(result, REPLICATION) is Severity.WARNING


def test_a_failback_reads_the_reverse_rule_into_the_primary(rds: Controller) -> None:
    # GIVEN the reverse rule (standby -> primary) is caught up and nothing is published for the forward one
    primary, standby = rds.config.regions.pair
    publish_s3_replication(rds, source=standby, target=primary, latency=2, pending=0)
    # WHEN a failback's preflight runs
    result = preflight(rds, Action.FAILBACK)
    # THEN it read the reverse rule's metrics, in the standby's region, and found them caught up
    assert result.observed["bucket_replication_health"]["status"] == "caught-up"
    assert result.observed["bucket_replication_health"]["source_bucket"] == Names(rds.config).bucket(standby)


def test_no_published_metrics_read_as_unknown(rds: Controller) -> None:
    # GIVEN S3 published no replication metric  WHEN a switchover's preflight runs
    rds.publish_lag(0.0)
    result = preflight(rds, Action.SWITCHOVER)
    # THEN the health is unknown (a warning), not caught up
    assert result.observed["bucket_replication_health"]["status"] == "unknown"
    assert severity_of(result, REPLICATION) is Severity.WARNING


def test_preflight_reports_the_modelled_recovery_point_in_the_targets_vault(controller: Controller) -> None:
    # GIVEN the backup plans ran on schedule (modelled: moto lists no recovery points)
    controller.publish_lag(0.0)
    # WHEN a failover's preflight runs
    result = preflight(controller, Action.FAILOVER)
    # THEN it asked the standby's vault, and the newest copy is within the configured bound
    observed = result.observed["backup_recovery_point"]
    assert observed["vault"] == Names(controller.config).backup_vault(controller.config.regions.standby)
    assert observed["status"] == "fresh"
    assert severity_of(result, BACKUP) is Severity.INFO
    assert "ListRecoveryPointsByBackupVault" in controller.call_log.operations()


@pytest.mark.parametrize("hours", [0, 1, 3, 5, 23])
def test_the_modelled_newest_copy_is_between_the_copy_time_and_one_period_later(rds: Controller, hours: int) -> None:
    # GIVEN the clock at a time of day
    rds.clock.now = rds.clock.now.replace(hour=hours, minute=30)
    points = ModelledRecoveryPoints(rds.config, ClientFactory(), rds.clock)
    # WHEN asked for the standby's newest recovery point
    newest = points.newest(rds.config.regions.standby, Names(rds.config).database_arn(rds.config.regions.primary))
    # THEN its age is at least the modelled copy time and at most one backup period more
    age = rds.clock() - newest.newest_created_at if newest.newest_created_at else None
    period = timedelta(hours=rds.config.backup.frequency_hours)
    assert age is not None
    assert MODELLED_BACKUP_AND_COPY_DURATION <= age < MODELLED_BACKUP_AND_COPY_DURATION + period
