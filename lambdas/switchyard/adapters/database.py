"""The database of one region: describe (available, writable, replication lag) and
promote. Two engines behind one interface: an RDS primary with a cross-region read
replica, and an Aurora global database.

Replication lag comes from the CloudWatch metric each engine publishes in the standby
region (RDS ``ReplicaLag`` in seconds, Aurora ``AuroraGlobalDBReplicationLag`` in
milliseconds); no recent datapoint means the lag is unknown (``None``), never zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.retry import ClientFactory, error_code

Clock = Callable[[], datetime]
LAG_LOOKBACK = timedelta(minutes=5)
MODELLED_PROMOTED_TAG = "switchyard:modelled-promoted"
MODELLED_WRITER_TAG = "switchyard:modelled-writer"
AURORA_SWITCHOVER = "SwitchoverGlobalCluster"  # planned: AWS demotes and synchronizes the old writer (RPO 0)
AURORA_FAILOVER = "FailoverGlobalCluster"  # unplanned: AllowDataLoss


@dataclass(frozen=True)
class DatabaseStatus:
    region: str
    identifier: str
    exists: bool
    available: bool
    writable: bool
    replication_lag_seconds: float | None  # the standby's lag behind the writer; None = unknown
    status: str

    def as_observed(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "exists": self.exists,
            "available": self.available,
            "writable": self.writable,
            "replication_lag_seconds": self.replication_lag_seconds,
            "status": self.status,
        }


class Database(Protocol):
    """The regional database of the environment, whatever its engine."""

    def describe(self, region: str, *, best_effort: bool = False) -> DatabaseStatus:
        """The database in ``region``; best-effort: short timeouts, one attempt."""
        ...

    def promote(self, region: str, *, primary_reachable: bool) -> str:
        """Make ``region``'s database the writer; returns the operation used."""
        ...


def first_or_none(describe: Callable[[], dict[str, Any]], *, not_found: str, key: str) -> dict[str, Any] | None:
    """The first item of a describe call's list, None when AWS says it does not exist."""
    try:
        response = describe()
    except Exception as exc:
        if error_code(exc) == not_found:
            return None
        raise
    items: list[dict[str, Any]] = response.get(key, [])
    return items[0] if items else None


class ReplicationLagReader:
    """Latest value of a replication-lag metric in a region, in seconds (None: no data)."""

    def __init__(self, clients: ClientFactory, clock: Clock) -> None:
        self._clients = clients
        self._clock = clock

    def latest_seconds(
        self, region: str, *, metric: str, dimension: tuple[str, str], unit_to_seconds: float = 1.0
    ) -> float | None:
        now = self._clock()
        response = self._clients.client("cloudwatch", region).get_metric_statistics(
            Namespace="AWS/RDS",
            MetricName=metric,
            Dimensions=[{"Name": dimension[0], "Value": dimension[1]}],
            StartTime=now - LAG_LOOKBACK,
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )
        points = sorted(response.get("Datapoints", []), key=lambda point: point["Timestamp"])
        if not points:
            return None
        return float(points[-1]["Maximum"]) * unit_to_seconds


class RdsReplicaDatabase:
    """RDS PostgreSQL: the primary in one region, a cross-region read replica in the other.

    Writable means the instance has no ``ReadReplicaSourceDBInstanceIdentifier``.
    """

    def __init__(self, config: EnvironmentConfig, clients: ClientFactory, lag: ReplicationLagReader) -> None:
        self._names = Names(config)
        self._clients = clients
        self._lag = lag

    def _instance(self, region: str, *, best_effort: bool = False) -> dict[str, Any] | None:
        rds = self._clients.client("rds", region, best_effort=best_effort)
        return first_or_none(
            lambda: rds.describe_db_instances(DBInstanceIdentifier=self._names.db_instance(region)),
            not_found="DBInstanceNotFound",
            key="DBInstances",
        )

    def _is_writable(self, region: str, instance: dict[str, Any]) -> bool:  # noqa: ARG002 - used by the model
        return not instance.get("ReadReplicaSourceDBInstanceIdentifier")

    def describe(self, region: str, *, best_effort: bool = False) -> DatabaseStatus:
        identifier = self._names.db_instance(region)
        instance = self._instance(region, best_effort=best_effort)
        if instance is None:
            return DatabaseStatus(region, identifier, False, False, False, None, "not-found")
        writable = self._is_writable(region, instance)
        lag = None
        if not writable:
            lag = self._lag.latest_seconds(region, metric="ReplicaLag", dimension=("DBInstanceIdentifier", identifier))
        status = str(instance.get("DBInstanceStatus", "unknown"))
        return DatabaseStatus(region, identifier, True, status == "available", writable, lag, status)

    def promote(self, region: str, *, primary_reachable: bool) -> str:  # noqa: ARG002 - RDS has one way
        self._clients.client("rds", region).promote_read_replica(DBInstanceIdentifier=self._names.db_instance(region))
        return "PromoteReadReplica"


class ModelledRdsPromotion(RdsReplicaDatabase):
    """RDS replica promotion as real RDS finishes it, over moto's state.

    Measured on moto 5.2.5: ``promote_read_replica`` succeeds but describe keeps
    ``ReadReplicaSourceDBInstanceIdentifier``, so a promoted replica never looks
    writable. Real RDS clears that field when promotion completes. This model tags the
    instance in moto when it promotes it (bookkeeping client: not in the call history)
    and treats an instance carrying its own ARN in that tag as writable.
    """

    def __init__(
        self, config: EnvironmentConfig, clients: ClientFactory, lag: ReplicationLagReader, bookkeeping: ClientFactory
    ) -> None:
        super().__init__(config, clients, lag)
        self._bookkeeping = bookkeeping

    def _is_writable(self, region: str, instance: dict[str, Any]) -> bool:
        if super()._is_writable(region, instance):
            return True
        arn = instance["DBInstanceArn"]
        tags = self._bookkeeping.client("rds", region).list_tags_for_resource(ResourceName=arn)["TagList"]
        return any(tag["Key"] == MODELLED_PROMOTED_TAG and tag["Value"] == arn for tag in tags)

    def promote(self, region: str, *, primary_reachable: bool) -> str:
        operation = super().promote(region, primary_reachable=primary_reachable)
        instance = self._instance(region)
        if instance is not None:
            arn = instance["DBInstanceArn"]
            self._bookkeeping.client("rds", region).add_tags_to_resource(
                ResourceName=arn, Tags=[{"Key": MODELLED_PROMOTED_TAG, "Value": arn}]
            )
        return operation


class AuroraGlobalDatabase:
    """Aurora PostgreSQL global database: one regional cluster per region.

    Promotion is a switchover (RPO 0) when the current writer is reachable, else a
    managed failover with ``AllowDataLoss`` (the caller gates that on the RPO budget).
    """

    def __init__(self, config: EnvironmentConfig, clients: ClientFactory, lag: ReplicationLagReader) -> None:
        self._names = Names(config)
        self._clients = clients
        self._lag = lag

    def _global_cluster(self, region: str, *, best_effort: bool = False) -> dict[str, Any] | None:
        rds = self._clients.client("rds", region, best_effort=best_effort)
        return first_or_none(
            lambda: rds.describe_global_clusters(GlobalClusterIdentifier=self._names.global_cluster),
            not_found="GlobalClusterNotFoundFault",
            key="GlobalClusters",
        )

    def _cluster(self, region: str, *, best_effort: bool = False) -> dict[str, Any] | None:
        rds = self._clients.client("rds", region, best_effort=best_effort)
        return first_or_none(
            lambda: rds.describe_db_clusters(DBClusterIdentifier=self._names.db_cluster(region)),
            not_found="DBClusterNotFoundFault",
            key="DBClusters",
        )

    def _member_is_writer(self, cluster_arn: str, global_cluster: dict[str, Any]) -> bool:
        return any(
            member.get("IsWriter") and member["DBClusterArn"] == cluster_arn
            for member in global_cluster.get("GlobalClusterMembers", [])
        )

    def describe(self, region: str, *, best_effort: bool = False) -> DatabaseStatus:
        identifier = self._names.db_cluster(region)
        cluster = self._cluster(region, best_effort=best_effort)
        global_cluster = self._global_cluster(region, best_effort=best_effort)
        if cluster is None or global_cluster is None:
            return DatabaseStatus(region, identifier, False, False, False, None, "not-found")
        writable = self._member_is_writer(cluster["DBClusterArn"], global_cluster)
        lag = None
        if not writable:
            lag = self._lag.latest_seconds(
                region,
                metric="AuroraGlobalDBReplicationLag",
                dimension=("DBClusterIdentifier", identifier),
                unit_to_seconds=0.001,
            )
        status = str(cluster.get("Status", "unknown"))
        return DatabaseStatus(region, identifier, True, status == "available", writable, lag, status)

    def _target_arn(self, region: str) -> str:
        cluster = self._cluster(region)
        if cluster is None:
            raise LookupError(f"no Aurora cluster {self._names.db_cluster(region)!r} in {region}")
        return str(cluster["DBClusterArn"])

    def promote(self, region: str, *, primary_reachable: bool) -> str:
        rds = self._clients.client("rds", region)
        target = self._target_arn(region)
        if primary_reachable:
            rds.switchover_global_cluster(
                GlobalClusterIdentifier=self._names.global_cluster, TargetDbClusterIdentifier=target
            )
            return AURORA_SWITCHOVER
        rds.failover_global_cluster(
            GlobalClusterIdentifier=self._names.global_cluster, TargetDbClusterIdentifier=target, AllowDataLoss=True
        )
        return AURORA_FAILOVER


class ModelledAuroraGlobalFailover(AuroraGlobalDatabase):
    """Aurora global switchover/failover as a model over moto's stored clusters.

    Measured on moto 5.2.5: ``switchover_global_cluster`` and ``failover_global_cluster``
    raise NotImplementedError, and every global member reports ``IsWriter: false``. This
    model keeps the writer as a tag on the regional cluster in moto (bookkeeping client:
    not in the call history); with no tag the first member (the cluster the global
    cluster was created from) is the writer. Promotion moves the tag at once (real Aurora
    takes minutes) and records the modelled operation in the API call history.
    """

    def __init__(
        self, config: EnvironmentConfig, clients: ClientFactory, lag: ReplicationLagReader, bookkeeping: ClientFactory
    ) -> None:
        super().__init__(config, clients, lag)
        self._bookkeeping = bookkeeping

    def _tagged_writer(self, global_cluster: dict[str, Any]) -> str:
        members = [member["DBClusterArn"] for member in global_cluster.get("GlobalClusterMembers", [])]
        for arn in members:
            member_region = arn.split(":")[3]
            tags = self._bookkeeping.client("rds", member_region).list_tags_for_resource(ResourceName=arn)["TagList"]
            if any(tag["Key"] == MODELLED_WRITER_TAG and tag["Value"] == "true" for tag in tags):
                return str(arn)
        return str(members[0]) if members else ""

    def _member_is_writer(self, cluster_arn: str, global_cluster: dict[str, Any]) -> bool:
        return self._tagged_writer(global_cluster) == cluster_arn

    def promote(self, region: str, *, primary_reachable: bool) -> str:
        operation = AURORA_SWITCHOVER if primary_reachable else AURORA_FAILOVER
        target = self._target_arn(region)
        request = {"GlobalClusterIdentifier": self._names.global_cluster, "TargetDbClusterIdentifier": target}
        self._clients.record("rds", operation, region, params=request, mutating=True)
        global_cluster = self._global_cluster(region)
        if global_cluster is None:
            raise LookupError(f"no global cluster {self._names.global_cluster!r}")
        for member in global_cluster.get("GlobalClusterMembers", []):
            arn = member["DBClusterArn"]
            value = "true" if arn == target else "false"
            self._bookkeeping.client("rds", arn.split(":")[3]).add_tags_to_resource(
                ResourceName=arn, Tags=[{"Key": MODELLED_WRITER_TAG, "Value": value}]
            )
        return operation
