"""Data protection outside the database's own replication: S3 replication health and the
newest AWS Backup recovery point of a database in a region's vault.

- S3 publishes a replication rule's metrics (with Replication Time Control or replication
  metrics on) in the SOURCE bucket's region, namespace ``AWS/S3``, dimensioned by
  SourceBucket, DestinationBucket and RuleId: ``ReplicationLatency`` (seconds) and
  ``OperationsPendingReplication`` (count). No datapoint means "unknown", never "healthy":
  S3 may publish nothing for an idle rule, and a failed source region answers nothing.
- AWS Backup lists a vault's recovery points (``ListRecoveryPointsByBackupVault``, filtered
  by the protected resource's ARN; a copy keeps its source's ResourceArn).

moto stores backup vaults but not recovery points (ListRecoveryPointsByBackupVault answers
a bare 404): :class:`ModelledRecoveryPoints` models them for the drill and the
moto tests (``modelled_protection``); the unit tier uses ``switchyard_sim``'s FakeProtection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from switchyard.config import EnvironmentConfig
from switchyard.contract import BACKUP_START_HOUR_UTC, Names
from switchyard.retry import ClientFactory, error_code

Clock = Callable[[], datetime]

S3_METRICS_NAMESPACE = "AWS/S3"
REPLICATION_LATENCY_METRIC = "ReplicationLatency"
PENDING_OPERATIONS_METRIC = "OperationsPendingReplication"
REPLICATION_METRICS_PERIOD = timedelta(minutes=1)
# The newest datapoint within this window counts; older ones say nothing about now.
REPLICATION_METRICS_LOOKBACK = timedelta(minutes=10)
RECOVERY_POINT_PAGES = 10  # 10 x 1000 recovery points: far beyond a 35-day retention at one an hour
COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class ReplicationHealth:
    """The newest metrics of the replication rule that feeds one bucket."""

    source_bucket: str
    destination_bucket: str
    rule_id: str
    latency_seconds: float | None = None
    pending_operations: float | None = None
    observed_at: datetime | None = None
    error: str | None = None  # why the metrics could not be read

    @property
    def known(self) -> bool:
        """Both metrics have a recent datapoint (one alone cannot prove the rule caught up)."""
        return self.latency_seconds is not None and self.pending_operations is not None

    def as_observed(self) -> dict[str, Any]:
        return {
            "source_bucket": self.source_bucket,
            "destination_bucket": self.destination_bucket,
            "rule_id": self.rule_id,
            "latency_seconds": self.latency_seconds,
            "pending_operations": self.pending_operations,
            "observed_at": self.observed_at.isoformat() if self.observed_at else None,
            "error": self.error,
        }


@dataclass(frozen=True)
class RecoveryPoints:
    """What a vault holds of one protected resource: whether the vault exists, and its newest
    completed recovery point."""

    vault: str
    region: str
    resource_arn: str
    vault_exists: bool
    newest_created_at: datetime | None = None
    completed: int = 0
    error: str | None = None  # why the vault could not be read

    def age_hours(self, now: datetime) -> float | None:
        if self.newest_created_at is None:
            return None
        return round((now - self.newest_created_at).total_seconds() / 3600, 2)

    def as_observed(self, now: datetime) -> dict[str, Any]:
        return {
            "vault": self.vault,
            "region": self.region,
            "resource_arn": self.resource_arn,
            "vault_exists": self.vault_exists,
            "completed_recovery_points": self.completed,
            "newest_created_at": self.newest_created_at.isoformat() if self.newest_created_at else None,
            "newest_age_hours": self.age_hours(now),
            "error": self.error,
        }


class RecoveryPointSource(Protocol):
    def newest(self, region: str, resource_arn: str) -> RecoveryPoints:
        """The newest completed recovery point of ``resource_arn`` in ``region``'s vault."""
        ...


class Protection(Protocol):
    def replication(self, source_region: str, destination_region: str) -> ReplicationHealth:
        """The replication rule from ``source_region``'s data bucket into ``destination_region``'s."""
        ...

    def newest_recovery_point(self, region: str, resource_arn: str) -> RecoveryPoints:
        """The newest completed recovery point of ``resource_arn`` in ``region``'s backup vault."""
        ...


class AwsBackupRecoveryPoints:
    """AWS Backup's ``ListRecoveryPointsByBackupVault`` on the contract's vault of a region."""

    def __init__(self, config: EnvironmentConfig, clients: ClientFactory) -> None:
        self._names = Names(config)
        self._clients = clients

    def newest(self, region: str, resource_arn: str) -> RecoveryPoints:
        vault = self._names.backup_vault(region)
        client = self._clients.client("backup", region, best_effort=True)
        created: list[datetime] = []
        token: str | None = None
        try:
            for _ in range(RECOVERY_POINT_PAGES):
                page = client.list_recovery_points_by_backup_vault(
                    BackupVaultName=vault, ByResourceArn=resource_arn, **({"NextToken": token} if token else {})
                )
                created += [
                    point["CreationDate"]
                    for point in page.get("RecoveryPoints", [])
                    if point.get("Status") == COMPLETED
                ]
                token = page.get("NextToken")
                if not token:
                    break
        except Exception as exc:  # noqa: BLE001 - an unreadable vault is reported, never raised
            if error_code(exc) == "ResourceNotFoundException":
                return RecoveryPoints(vault, region, resource_arn, vault_exists=False)
            return RecoveryPoints(vault, region, resource_arn, vault_exists=False, error=f"{type(exc).__name__}: {exc}")
        return RecoveryPoints(
            vault,
            region,
            resource_arn,
            vault_exists=True,
            newest_created_at=max(created, default=None),
            completed=len(created),
        )


class AwsProtection:
    """S3 replication metrics from CloudWatch; recovery points from ``recovery_points``
    (AWS Backup by default)."""

    def __init__(
        self,
        config: EnvironmentConfig,
        clients: ClientFactory,
        clock: Clock,
        recovery_points: RecoveryPointSource | None = None,
    ) -> None:
        self._names = Names(config)
        self._clients = clients
        self._clock = clock
        self._recovery_points = recovery_points or AwsBackupRecoveryPoints(config, clients)

    def replication(self, source_region: str, destination_region: str) -> ReplicationHealth:
        names = self._names
        health = ReplicationHealth(
            source_bucket=names.bucket(source_region),
            destination_bucket=names.bucket(destination_region),
            rule_id=names.replication_rule(destination_region),
        )
        # the metrics live in the source's region, which a failover may find unreachable
        cloudwatch = self._clients.client("cloudwatch", source_region, best_effort=True)
        dimensions = [
            {"Name": "SourceBucket", "Value": health.source_bucket},
            {"Name": "DestinationBucket", "Value": health.destination_bucket},
            {"Name": "RuleId", "Value": health.rule_id},
        ]
        try:
            latency = self._newest(cloudwatch, REPLICATION_LATENCY_METRIC, dimensions)
            pending = self._newest(cloudwatch, PENDING_OPERATIONS_METRIC, dimensions)
        except Exception as exc:  # noqa: BLE001 - unreadable metrics are "unknown"
            return replace(health, error=f"{type(exc).__name__}: {exc}")
        observed = [point[0] for point in (latency, pending) if point is not None]
        return replace(
            health,
            latency_seconds=None if latency is None else latency[1],
            pending_operations=None if pending is None else pending[1],
            observed_at=min(observed) if observed else None,
        )

    def _newest(self, cloudwatch: Any, metric: str, dimensions: list[dict[str, str]]) -> tuple[datetime, float] | None:
        now = self._clock()
        response = cloudwatch.get_metric_statistics(
            Namespace=S3_METRICS_NAMESPACE,
            MetricName=metric,
            Dimensions=dimensions,
            StartTime=now - REPLICATION_METRICS_LOOKBACK,
            EndTime=now,
            Period=int(REPLICATION_METRICS_PERIOD.total_seconds()),
            Statistics=["Maximum"],
        )
        points = sorted(response.get("Datapoints", []), key=lambda point: point["Timestamp"])
        if not points:
            return None
        newest = points[-1]
        return newest["Timestamp"] + REPLICATION_METRICS_PERIOD, float(newest["Maximum"])

    def newest_recovery_point(self, region: str, resource_arn: str) -> RecoveryPoints:
        return self._recovery_points.newest(region, resource_arn)


# Modelled, not measured (no AWS account): a backup's recovery point completes in the source
# region and its copy in the other region's vault this long after the scheduled start.
MODELLED_BACKUP_AND_COPY_DURATION = timedelta(hours=1)
# moto's answer to ListRecoveryPointsByBackupVault: a bare HTTP 404 ("Not yet implemented" in
# process, a "Not Found" page from its server), never AWS's ResourceNotFoundException.
NOT_IMPLEMENTED = "An error occurred (404)"


class ModelledRecoveryPoints(AwsBackupRecoveryPoints):
    """AWS Backup's recovery points where moto has none: the real call is still made (so the
    drill's check against the synthesized IAM policy sees it, and an injected fault or an
    outage still makes it fail); only moto's bare 404 (the operation is not implemented) is replaced by the
    model: the plan ran on schedule (``backup.frequency_hours`` from BACKUP_START_HOUR_UTC)
    and each copy completed MODELLED_BACKUP_AND_COPY_DURATION after its start. The newest
    completed copy is therefore between that duration and one period plus it old."""

    def __init__(self, config: EnvironmentConfig, clients: ClientFactory, clock: Clock) -> None:
        super().__init__(config, clients)
        self._frequency = timedelta(hours=config.backup.frequency_hours)
        self._clock = clock

    def newest(self, region: str, resource_arn: str) -> RecoveryPoints:
        answer = super().newest(region, resource_arn)
        if answer.error is None or NOT_IMPLEMENTED not in answer.error:
            return answer
        return replace(answer, vault_exists=True, error=None, newest_created_at=self._newest_copied(), completed=1)

    def _newest_copied(self) -> datetime:
        now = self._clock()
        anchor = now.replace(hour=BACKUP_START_HOUR_UTC, minute=0, second=0, microsecond=0)
        start = anchor + ((now - anchor) // self._frequency) * self._frequency  # the last start at or before now
        while start + MODELLED_BACKUP_AND_COPY_DURATION > now:
            start -= self._frequency
        return start


def modelled_protection(config: EnvironmentConfig, clients: ClientFactory, clock: Clock) -> AwsProtection:
    """AwsProtection over moto: S3's metrics read as they are (none unless a test publishes
    them), recovery points from :class:`ModelledRecoveryPoints`."""
    return AwsProtection(config, clients, clock, ModelledRecoveryPoints(config, clients, clock))
