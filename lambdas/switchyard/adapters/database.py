"""The database of one region: describe (available, writable, replication lag) and
promote. Two engines behind one interface: an RDS primary with a cross-region read
replica, and an Aurora global database.

Replication lag comes from the CloudWatch metric each engine publishes in the standby
region (RDS ``ReplicaLag`` in seconds, Aurora ``AuroraGlobalDBReplicationLag`` in
milliseconds); no recent datapoint means the lag is unknown (``None``), never zero.

A promotion that AWS accepted and has not finished is reported by ``describe`` as
``promotion_in_progress`` (RDS: the replica, still naming its source, is modifying or
rebooting; Aurora: the global cluster's ``FailoverState``), so the promote step never sends
a second request that AWS would refuse (``InvalidDBInstanceState`` /
``InvalidGlobalClusterStateFault``) while the first one runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from switchyard.config import EnvironmentConfig
from switchyard.contract import (
    AURORA_UNPLANNED_FAILOVER_SNAPSHOT_PREFIX,
    REPLICA_LAG_NAMESPACE,
    Names,
    ReplicaLagMetric,
)
from switchyard.retry import ClientFactory, error_code, is_retryable

Clock = Callable[[], datetime]
LAG_LOOKBACK = timedelta(minutes=5)
MODELLED_PROMOTED_TAG = "switchyard:modelled-promoted"  # "<instance ARN>|<when RDS accepted the promotion>"
MODELLED_WRITER_TAG = "switchyard:modelled-writer"
MODELLED_FAILOVER_TAG = "switchyard:modelled-failover"  # on the target cluster: "<operation>|<started ISO 8601>"
# RDS statuses of a replica (still naming its source) while a promotion runs: RDS modifies
# the instance, then reboots it. A replica in any of these refuses PromoteReadReplica anyway
# (it must be "available"), so the step waits rather than calls.
RDS_PROMOTION_STATUSES = frozenset({"modifying", "rebooting"})
# Aurora FailoverState.Status values of a switchover or failover not yet finished (the API
# reference lists pending, failing-over, switching-over and cancelling); any of them means a
# second request is refused, so the step waits.
AURORA_FAILOVER_STATUSES = frozenset({"pending", "failing-over", "switching-over", "cancelling"})
RDS_PROMOTION = "PromoteReadReplica"
AURORA_SWITCHOVER = "SwitchoverGlobalCluster"  # planned: AWS demotes and synchronizes the old writer (RPO 0)
AURORA_FAILOVER = "FailoverGlobalCluster"  # unplanned: AllowDataLoss
RDS_STOP = "StopDBInstance"
RDS_SNAPSHOT = "CreateDBSnapshot"
AURORA_SNAPSHOT_COPY = "CopyDBClusterSnapshot"
# the rebuild of an RDS old primary as a replica of the new one (Database.rejoin_as_replica)
RDS_UNPROTECT = "ModifyDBInstance"  # DeletionProtection off: RDS refuses to delete a protected instance
RDS_DELETE = "DeleteDBInstance"
RDS_CREATE_REPLICA = "CreateDBInstanceReadReplica"
RDS_TAG_SNAPSHOT = "AddTagsToResource"
# The old instance's network and encryption, kept as tags of its lost-writes snapshot before
# it is deleted, so a rebuild that resumes after the deletion (a new execution) still
# creates the replica where the instance was: the stacks generate these ids, no name holds them.
REPLICA_SUBNET_GROUP_TAG = "switchyard:replica-subnet-group"
REPLICA_SECURITY_GROUPS_TAG = "switchyard:replica-security-groups"
REPLICA_ENCRYPTED_TAG = "switchyard:replica-encrypted"
REPLICA_SETTING_TAGS = (REPLICA_SUBNET_GROUP_TAG, REPLICA_SECURITY_GROUPS_TAG, REPLICA_ENCRYPTED_TAG)
# RDS statuses in which an instance takes no writes, or soon none (a normal shutdown runs).
RDS_STOPPED_STATUSES = frozenset({"stopped", "stopping"})
MODELLED_UNPLANNED_SNAPSHOT_TIME = "%Y%m%d%H%M%S"


@dataclass(frozen=True)
class DatabaseStatus:
    region: str
    identifier: str
    exists: bool
    available: bool
    writable: bool
    replication_lag_seconds: float | None  # the standby's lag behind the writer; None = unknown
    status: str
    promotion_in_progress: str | None = None  # what AWS shows of a promotion it accepted and has not finished
    # the moment the lag value describes (the end of its metric period): observed_at - lag
    # is how far the replica had replayed (switchyard.steps.gates.loss_bound_seconds)
    replication_lag_observed_at: datetime | None = None

    def as_observed(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "exists": self.exists,
            "available": self.available,
            "writable": self.writable,
            "replication_lag_seconds": self.replication_lag_seconds,
            "status": self.status,
            "promotion_in_progress": self.promotion_in_progress,
            "replication_lag_observed_at": (
                self.replication_lag_observed_at.isoformat() if self.replication_lag_observed_at else None
            ),
        }


class FenceOutcome(StrEnum):
    """Whether a fenced region's database accepts writes: ``fenced`` (verified: it does not),
    ``pending`` (not known or not enforceable yet: unreachable, in a transitional status; the
    next run tries again), ``refused`` (it may still take writes and AWS will not stop it now:
    a human looks if no runbook is in progress)."""

    FENCED = "fenced"
    PENDING = "pending"
    REFUSED = "refused"


@dataclass(frozen=True)
class FenceResult:
    """One check (and, where possible, enforcement) of "this database accepts no writes"."""

    region: str
    identifier: str
    outcome: FenceOutcome
    detail: str  # how it was verified, or why it is not fenced
    operation: str | None = None  # the mutating call this check sent (e.g. StopDBInstance), if any

    @property
    def label(self) -> str:
        """What the audit item keeps under ``database@<region>``, e.g. ``refused: has a replica``."""
        return f"{self.outcome}: {self.detail}"

    @property
    def fenced(self) -> bool:
        return self.outcome is FenceOutcome.FENCED


class SnapshotNotReadyError(RuntimeError):
    """The old primary cannot be snapshotted yet (not available, unreachable, or for Aurora
    AWS has not yet taken its unplanned-failover snapshot); the next run tries again."""


class RejoinPhase(StrEnum):
    """Where the old primary is on its way back to being a replica of the writer:
    ``rejoined`` (a replica of the writer, available: its lag is describe's), ``rebuilding``
    (AWS is working on it or a step was just sent: ask again later), ``missing`` (it cannot
    get there without a person: the detail says what is missing)."""

    REJOINED = "rejoined"
    REBUILDING = "rebuilding"
    MISSING = "missing"


@dataclass(frozen=True)
class RejoinProgress:
    """One observe-then-act pass of :meth:`Database.rejoin_as_replica`."""

    region: str
    identifier: str
    phase: RejoinPhase
    detail: str
    operations: tuple[str, ...] = ()  # the mutating calls this pass sent
    snapshot: str | None = None  # the snapshot that keeps the old primary's data, once requested

    def as_observed(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "phase": str(self.phase),
            "detail": self.detail,
            "operations": list(self.operations),
            "snapshot": self.snapshot,
        }


def _pending_on_unreachable(region: str, identifier: str, exc: Exception) -> FenceResult:
    """A retryable failure (connection, timeout, throttling) means "not reachable now": pending.
    Anything else (access denied, a bug) is raised by the caller."""
    return FenceResult(
        region, identifier, FenceOutcome.PENDING, f"unreachable ({error_code(exc) or type(exc).__name__})"
    )


class Database(Protocol):
    """The regional database of the environment, whatever its engine."""

    def describe(self, region: str, *, best_effort: bool = False) -> DatabaseStatus:
        """The database in ``region``; best-effort: short timeouts, one attempt."""
        ...

    def promote(self, region: str, *, primary_reachable: bool) -> str:
        """Make ``region``'s database the writer; returns the operation used."""
        ...

    def fence_writer(self, region: str, *, best_effort: bool = False) -> FenceResult:
        """Check that ``region``'s database accepts no writes, and enforce it where AWS lets
        us (RDS: stop an old primary that no longer has a read replica). Constant work: safe
        to call every minute; a stopped instance that AWS restarted after 7 days is stopped
        again. Never raises for an unreachable region (``pending``)."""
        ...

    def snapshot(self, region: str, name: str, *, best_effort: bool = False) -> str:
        """A manual snapshot named ``name`` of ``region``'s database (idempotent: an existing
        one is kept); its identifier. SnapshotNotReadyError when it cannot be taken yet."""
        ...

    def rejoin_as_replica(self, region: str, *, writer_region: str, snapshot: str) -> RejoinProgress:
        """Bring ``region``'s old primary back as a replica of ``writer_region``'s writer, one
        observe-then-act pass at a time (re-runnable: a pass whose work is done sends nothing).
        RDS rebuilds: the old instance's data kept as the snapshot ``snapshot`` (taken if it
        does not exist), the instance deleted only once that snapshot is ``available``, then a
        cross-region read replica of the writer under the contract's name. Aurora only
        verifies that AWS rejoined the old cluster to the global database as a secondary."""
        ...


# Errors proving AWS did not take a request: it was throttled, or never left this function.
# Any other failure (a read timeout, a dropped connection, a 5xx) may follow an accepted one.
NOT_ACCEPTED_ERROR_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestThrottled", "TooManyRequestsException", "RequestLimitExceeded"}
)


def request_not_accepted(exc: BaseException) -> bool:
    """True when ``exc`` proves AWS did not accept the request (safe to send it again)."""
    return isinstance(exc, EndpointConnectionError | ConnectTimeoutError) or error_code(exc) in NOT_ACCEPTED_ERROR_CODES


def send_at_most_once(clients: ClientFactory, request: Callable[[], Any]) -> Any:
    """Send a request that must not be repeated once AWS may have taken it (a promotion).

    ``request`` calls the raw client (no retry wrapper): the client factory's retry policy
    is applied here only to errors proving the request was not accepted; a read timeout
    after RDS accepted a promotion is raised, never answered by a second promotion.
    """
    policy = clients.retry_policy
    for attempt in range(policy.max_attempts):
        try:
            return request()
        except Exception as exc:
            if not request_not_accepted(exc) or attempt + 1 >= policy.max_attempts:
                raise
            policy.sleep(policy.backoff(attempt))
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


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


@dataclass(frozen=True)
class LagReading:
    """The newest datapoint of a replication-lag metric: its value (the period's Maximum) and
    the end of its period, the moment that value describes."""

    seconds: float
    observed_at: datetime


LAG_PERIOD = timedelta(seconds=60)  # the lag metrics' resolution (standard CloudWatch metrics)


class ReplicationLagReader:
    """Latest value of a replication-lag metric in a region, in seconds (None: no data)."""

    def __init__(self, clients: ClientFactory, clock: Clock) -> None:
        self._clients = clients
        self._clock = clock

    @property
    def clock(self) -> Clock:
        return self._clock

    def latest(self, region: str, metric: ReplicaLagMetric) -> LagReading | None:
        now = self._clock()
        response = self._clients.client("cloudwatch", region).get_metric_statistics(
            Namespace=REPLICA_LAG_NAMESPACE,
            MetricName=metric.name,
            Dimensions=[{"Name": metric.dimension, "Value": metric.identifier}],
            StartTime=now - LAG_LOOKBACK,
            EndTime=now,
            Period=int(LAG_PERIOD.total_seconds()),
            Statistics=["Maximum"],
        )
        points = sorted(response.get("Datapoints", []), key=lambda point: point["Timestamp"])
        if not points:
            return None
        newest = points[-1]
        # a datapoint's Timestamp is the start of its period; its Maximum is reached by the end
        return LagReading(float(newest["Maximum"]) / metric.units_per_second, newest["Timestamp"] + LAG_PERIOD)

    def latest_seconds(self, region: str, metric: ReplicaLagMetric) -> float | None:
        reading = self.latest(region, metric)
        return None if reading is None else reading.seconds


def _described(
    region: str, identifier: str, *, status: str, writable: bool, reading: LagReading | None, in_progress: str | None
) -> DatabaseStatus:
    return DatabaseStatus(
        region,
        identifier,
        True,
        status == "available",
        writable,
        None if reading is None else reading.seconds,
        status,
        in_progress,
        None if reading is None else reading.observed_at,
    )


class RdsReplicaDatabase:
    """RDS PostgreSQL: the primary in one region, a cross-region read replica in the other.

    Writable means the instance has no ``ReadReplicaSourceDBInstanceIdentifier``.
    """

    def __init__(self, config: EnvironmentConfig, clients: ClientFactory, lag: ReplicationLagReader) -> None:
        self._config = config
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
        reading = None
        if not writable:
            reading = self._lag.latest(region, self._names.replica_lag_metric(region))
        status = self._status(region, instance)
        in_progress = None
        if not writable and status in RDS_PROMOTION_STATUSES:
            in_progress = f"PromoteReadReplica: {identifier} is {status}, still a replica"
        return _described(
            region, identifier, status=status, writable=writable, reading=reading, in_progress=in_progress
        )

    def _status(self, region: str, instance: dict[str, Any]) -> str:  # noqa: ARG002 - used by the model
        return str(instance.get("DBInstanceStatus", "unknown"))

    def promote(self, region: str, *, primary_reachable: bool) -> str:  # noqa: ARG002 - RDS has one way
        rds = self._clients.client("rds", region).raw
        identifier = self._names.db_instance(region)
        send_at_most_once(self._clients, lambda: rds.promote_read_replica(DBInstanceIdentifier=identifier))
        return RDS_PROMOTION

    def _read_replicas(self, region: str, instance: dict[str, Any]) -> list[str]:  # noqa: ARG002 - the model's
        return [str(replica) for replica in instance.get("ReadReplicaDBInstanceIdentifiers", [])]

    def fence_writer(self, region: str, *, best_effort: bool = False) -> FenceResult:
        """RDS refuses to stop an instance that has a read replica or is one (StopDBInstance
        limitations), so: a replica is fenced already (read-only); a primary that still has
        its replica is ``refused`` (before the promotion that is expected: the replica is
        the one being promoted); a standalone writer is stopped when ``available``."""
        identifier = self._names.db_instance(region)
        try:
            instance = self._instance(region, best_effort=best_effort)
        except Exception as exc:
            if is_retryable(exc):
                return _pending_on_unreachable(region, identifier, exc)
            raise
        verdict = self._fence_verdict(region, identifier, instance)
        return verdict or self._stop(region, identifier, best_effort=best_effort)

    def _fence_verdict(self, region: str, identifier: str, instance: dict[str, Any] | None) -> FenceResult | None:
        """What describe alone proves; None: a standalone writer, available, to be stopped."""
        if instance is None:
            return FenceResult(region, identifier, FenceOutcome.FENCED, "no such instance")
        if not self._is_writable(region, instance):
            return FenceResult(region, identifier, FenceOutcome.FENCED, "a read replica (read-only)")
        status = self._status(region, instance)
        if status in RDS_STOPPED_STATUSES:
            return FenceResult(region, identifier, FenceOutcome.FENCED, f"{status} (verified by DescribeDBInstances)")
        if replicas := self._read_replicas(region, instance):
            return FenceResult(region, identifier, FenceOutcome.REFUSED, f"has a replica ({', '.join(replicas)})")
        if status != "available":
            return FenceResult(region, identifier, FenceOutcome.PENDING, f"status {status}, cannot stop yet")
        return None

    def _stop(self, region: str, identifier: str, *, best_effort: bool) -> FenceResult:
        rds = self._clients.client("rds", region, best_effort=best_effort)
        try:
            rds.stop_db_instance(DBInstanceIdentifier=identifier)
        except Exception as exc:
            if is_retryable(exc):
                return _pending_on_unreachable(region, identifier, exc)
            if error_code(exc) == "InvalidDBInstanceState":
                return FenceResult(region, identifier, FenceOutcome.PENDING, f"stop refused for now: {exc}")
            raise
        return FenceResult(region, identifier, FenceOutcome.FENCED, "stopping (StopDBInstance sent)", RDS_STOP)

    def snapshot(self, region: str, name: str, *, best_effort: bool = False) -> str:
        """CreateDBSnapshot of the instance; one that already exists under ``name`` is kept."""
        identifier = self._names.db_instance(region)
        rds = self._clients.client("rds", region, best_effort=best_effort)
        try:
            rds.create_db_snapshot(DBInstanceIdentifier=identifier, DBSnapshotIdentifier=name)
        except Exception as exc:
            if error_code(exc) == "DBSnapshotAlreadyExists":
                return name
            if error_code(exc) == "InvalidDBInstanceState" or is_retryable(exc):
                raise SnapshotNotReadyError(f"cannot snapshot {identifier} in {region} yet: {exc}") from exc
            raise
        return name

    # -- failback preparation (Database.rejoin_as_replica) -----------------------------
    def _db_snapshot(self, region: str, name: str) -> dict[str, Any] | None:
        rds = self._clients.client("rds", region)
        return first_or_none(
            lambda: rds.describe_db_snapshots(DBSnapshotIdentifier=name),
            not_found="DBSnapshotNotFound",
            key="DBSnapshots",
        )

    def rejoin_as_replica(self, region: str, *, writer_region: str, snapshot: str) -> RejoinProgress:
        """Observe the old primary, then do the one next thing: snapshot it, delete it once the
        snapshot is ``available``, create the cross-region replica of the writer; or nothing
        when it already is that replica."""
        identifier = self._names.db_instance(region)
        writer = self._instance(writer_region)
        if writer is None or not self._is_writable(writer_region, writer):
            return RejoinProgress(
                region,
                identifier,
                RejoinPhase.MISSING,
                f"{self._names.db_instance(writer_region)} in {writer_region} is not a standalone writer: "
                "there is nothing to replicate from",
            )
        writer_arn = str(writer["DBInstanceArn"])
        instance = self._instance(region)
        if instance is None:
            return self._create_replica(region, identifier, writer_region, writer_arn, snapshot)
        source = str(instance.get("ReadReplicaSourceDBInstanceIdentifier") or "")
        status = self._status(region, instance)
        if source in (writer_arn, self._names.db_instance(writer_region)):
            phase = RejoinPhase.REJOINED if status == "available" else RejoinPhase.REBUILDING
            return RejoinProgress(
                region, identifier, phase, f"a read replica of {writer_arn}, {status}", snapshot=snapshot
            )
        if source:
            return RejoinProgress(
                region,
                identifier,
                RejoinPhase.MISSING,
                f"{identifier} is a read replica of {source}, not of the writer {writer_arn}: a person decides",
            )
        if status == "deleting":
            detail = f"the old primary is being deleted; its data is kept in snapshot {snapshot}"
            return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, detail, snapshot=snapshot)
        return self._retire_old_primary(region, identifier, instance, snapshot)

    def _retire_old_primary(
        self, region: str, identifier: str, instance: dict[str, Any], snapshot: str
    ) -> RejoinProgress:
        """The old standalone primary: its data into ``snapshot`` first, deleted only once
        that snapshot is available (with its network settings kept on the snapshot)."""
        rds = self._clients.client("rds", region)
        status = self._status(region, instance)
        found = self._db_snapshot(region, snapshot)
        if found is None:
            try:
                rds.create_db_snapshot(
                    DBInstanceIdentifier=identifier, DBSnapshotIdentifier=snapshot, Tags=_replica_setting_tags(instance)
                )
            except Exception as exc:
                if error_code(exc) in ("DBSnapshotAlreadyExists", "InvalidDBInstanceState"):
                    detail = f"snapshot {snapshot} of {identifier} ({status}) not taken yet: {error_code(exc)}"
                    return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, detail, snapshot=snapshot)
                raise
            detail = (
                f"snapshot {snapshot} of the old primary requested; it is deleted only once the snapshot is available"
            )
            return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, detail, (RDS_SNAPSHOT,), snapshot)
        if found.get("DBInstanceIdentifier") != identifier:
            detail = f"snapshot {snapshot} exists but is of {found.get('DBInstanceIdentifier')}, not {identifier}"
            return RejoinProgress(region, identifier, RejoinPhase.MISSING, detail, snapshot=snapshot)
        snapshot_status = str(found.get("Status", "unknown"))
        if snapshot_status != "available":
            detail = f"snapshot {snapshot} is {snapshot_status}: the old primary is deleted only once it is available"
            return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, detail, snapshot=snapshot)
        return self._delete_old_primary(region, identifier, instance, found, snapshot)

    def _delete_old_primary(
        self, region: str, identifier: str, instance: dict[str, Any], found: dict[str, Any], snapshot: str
    ) -> RejoinProgress:
        """Its snapshot ``found`` is available: keep its settings on the snapshot, then delete it."""
        rds = self._clients.client("rds", region)
        status = self._status(region, instance)
        operations: list[str] = []
        tags = {str(tag["Key"]): str(tag["Value"]) for tag in found.get("TagList", [])}
        if not all(key in tags for key in REPLICA_SETTING_TAGS):
            arn = str(found.get("DBSnapshotArn") or self._names.db_snapshot_arn(region, snapshot))
            rds.add_tags_to_resource(ResourceName=arn, Tags=_replica_setting_tags(instance))
            operations.append(RDS_TAG_SNAPSHOT)
        if instance.get("DeletionProtection"):
            try:
                rds.modify_db_instance(DBInstanceIdentifier=identifier, DeletionProtection=False, ApplyImmediately=True)
            except Exception as exc:
                if error_code(exc) != "InvalidDBInstanceState":
                    raise
                detail = (
                    f"{identifier} has deletion protection and RDS refuses to modify it while {status}: "
                    f"turn it off by hand (its data is in snapshot {snapshot}), then run prepare-failback again"
                )
                return RejoinProgress(region, identifier, RejoinPhase.MISSING, detail, tuple(operations), snapshot)
            operations.append(RDS_UNPROTECT)
            detail = f"deletion protection of the old primary turned off; snapshot {snapshot} is available"
            return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, detail, tuple(operations), snapshot)
        try:
            rds.delete_db_instance(
                DBInstanceIdentifier=identifier, SkipFinalSnapshot=True, DeleteAutomatedBackups=False
            )
        except Exception as exc:
            if error_code(exc) not in ("InvalidDBInstanceState", "DBInstanceNotFound"):
                raise
            detail = f"deleting {identifier} not accepted now ({error_code(exc)}); snapshot {snapshot} is available"
            return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, detail, tuple(operations), snapshot)
        operations.append(RDS_DELETE)
        detail = f"old primary deleted; its data is kept in snapshot {snapshot} (available)"
        return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, detail, tuple(operations), snapshot)

    def _create_replica(
        self, region: str, identifier: str, writer_region: str, writer_arn: str, snapshot: str
    ) -> RejoinProgress:
        """A cross-region read replica of the writer under the contract's name, where the old
        instance was (its settings from the snapshot's tags) and as the stacks configure one."""
        found = self._db_snapshot(region, snapshot)
        tags = {str(tag["Key"]): str(tag["Value"]) for tag in (found or {}).get("TagList", [])}
        if not all(key in tags for key in REPLICA_SETTING_TAGS):
            detail = (
                f"no {identifier} in {region}, and no snapshot {snapshot} recording where it was (subnet group, "
                "security groups, encryption): create the replica by hand (runbooks/failback.md)"
            )
            return RejoinProgress(region, identifier, RejoinPhase.MISSING, detail, snapshot=snapshot)
        database = self._config.database
        params: dict[str, Any] = {
            "DBInstanceIdentifier": identifier,
            "SourceDBInstanceIdentifier": writer_arn,
            "SourceRegion": writer_region,
            "DBInstanceClass": database.instance_class,
            "MultiAZ": database.multi_az,
            "DeletionProtection": database.deletion_protection,
            "EnableIAMDatabaseAuthentication": True,
            "CopyTagsToSnapshot": True,
            "PubliclyAccessible": False,
        }
        if tags[REPLICA_SUBNET_GROUP_TAG]:
            params["DBSubnetGroupName"] = tags[REPLICA_SUBNET_GROUP_TAG]
        if security_groups := tags[REPLICA_SECURITY_GROUPS_TAG].split():
            params["VpcSecurityGroupIds"] = security_groups
        if tags[REPLICA_ENCRYPTED_TAG] == "true":
            # a KMS key is regional: an encrypted cross-region replica names a key of its own region
            params["KmsKeyId"] = self._names.key_alias_arn(region, "regional")
        try:
            self._clients.client("rds", region).create_db_instance_read_replica(**params)
        except Exception as exc:
            if error_code(exc) != "DBInstanceAlreadyExists":
                raise
            detail = f"{identifier} is being created already (a previous request was accepted)"
            return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, detail, snapshot=snapshot)
        detail = f"cross-region read replica {identifier} of {writer_arn} requested"
        return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, detail, (RDS_CREATE_REPLICA,), snapshot)


def _replica_setting_tags(instance: dict[str, Any]) -> list[dict[str, str]]:
    """Where the old instance was: its subnet group, security groups and encryption, as tags."""
    subnet_group = (instance.get("DBSubnetGroup") or {}).get("DBSubnetGroupName") or ""
    security_groups = " ".join(str(group["VpcSecurityGroupId"]) for group in instance.get("VpcSecurityGroups", []))
    encrypted = "true" if instance.get("StorageEncrypted") else "false"
    values = (str(subnet_group), security_groups, encrypted)
    return [{"Key": key, "Value": value} for key, value in zip(REPLICA_SETTING_TAGS, values, strict=True)]


def _refusal(code: str, message: str, operation: str) -> ClientError:
    """The error AWS answers a request it refuses (a modelled refusal moto does not make)."""
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}, operation
    )


def _elapsed(started: str, now: datetime) -> float:
    return (now - datetime.fromisoformat(started)).total_seconds()


class ModelledPromotionTiming:
    """What both promotion models share: a bookkeeping client for moto (its calls are not
    in the call history), the clock, and how long a modelled promotion runs."""

    def __init__(
        self,
        config: EnvironmentConfig,
        clients: ClientFactory,
        lag: ReplicationLagReader,
        bookkeeping: ClientFactory,
        *,
        clock: Clock | None = None,
        promotion_seconds: float = 0.0,
    ) -> None:
        super().__init__(config, clients, lag)  # type: ignore[call-arg]  # the engine adapter's
        self._bookkeeping = bookkeeping
        self._clock = clock or lag.clock
        self._promotion_seconds = promotion_seconds


class ModelledRdsPromotion(ModelledPromotionTiming, RdsReplicaDatabase):
    """RDS replica promotion as real RDS runs it, over moto's state.

    Measured on moto 5.2.5: ``promote_read_replica`` succeeds at once, describe keeps
    ``ReadReplicaSourceDBInstanceIdentifier`` (so a promoted replica never looks writable)
    and a second ``promote_read_replica`` succeeds too. Real RDS modifies and reboots the
    instance for minutes ("several minutes or longer"), clears that field when done, and
    refuses a second promotion with ``InvalidDBInstanceState`` (the instance must be
    available and a replica). This model tags the instance in moto with the time RDS
    accepted the promotion (bookkeeping client: not in the call history); for
    ``promotion_seconds`` after it the instance reads ``modifying`` and still a replica,
    then writable. A request while it is tagged is refused, as RDS would, and recorded in
    the call history. The request counts as accepted unless the call raised an
    ``Exception`` (refused, throttled, never sent): a function that dies after sending it
    (the harness raises a ``BaseException`` for that) leaves RDS promoting.
    """

    def _accepted_at(self, region: str, instance: dict[str, Any]) -> str | None:
        """When RDS accepted this instance's promotion. The tag's value names the instance's
        own ARN: moto copies a replica from its source, tag list included."""
        arn = instance["DBInstanceArn"]
        tags = self._bookkeeping.client("rds", region).list_tags_for_resource(ResourceName=arn)["TagList"]
        for tag in tags:
            tagged_arn, _, accepted = str(tag["Value"]).rpartition("|")
            if tag["Key"] == MODELLED_PROMOTED_TAG and tagged_arn == arn:
                return accepted
        return None

    def _is_writable(self, region: str, instance: dict[str, Any]) -> bool:
        if super()._is_writable(region, instance):
            return True
        accepted = self._accepted_at(region, instance)
        return accepted is not None and _elapsed(accepted, self._clock()) >= self._promotion_seconds

    def _status(self, region: str, instance: dict[str, Any]) -> str:
        accepted = self._accepted_at(region, instance)
        if accepted is not None and _elapsed(accepted, self._clock()) < self._promotion_seconds:
            return "modifying"
        return super()._status(region, instance)

    def promote(self, region: str, *, primary_reachable: bool) -> str:
        instance = self._instance(region)
        if instance is not None and self._accepted_at(region, instance) is not None:
            identifier = self._names.db_instance(region)
            self._clients.record("rds", RDS_PROMOTION, region, params={"DBInstanceIdentifier": identifier})
            raise _refusal(
                "InvalidDBInstanceState",
                f"DB instance {identifier} is not a read replica in the available state (modelled)",
                RDS_PROMOTION,
            )
        try:
            operation = super().promote(region, primary_reachable=primary_reachable)
        except Exception:
            raise  # refused, throttled or never sent: RDS is not promoting
        except BaseException:
            self._mark_accepted(region)  # the function died after sending the request: RDS took it
            raise
        self._mark_accepted(region)
        return operation

    def _read_replicas(self, region: str, instance: dict[str, Any]) -> list[str]:
        """moto keeps a promoted replica in its source's ``ReadReplicaDBInstanceIdentifiers``;
        RDS drops it once the promotion is done (replication is broken for good). A replica
        whose modelled promotion finished is not listed here."""
        return [replica for replica in super()._read_replicas(region, instance) if not self._promoted(replica, region)]

    def _promoted(self, replica: str, source_region: str) -> bool:
        region, identifier = source_region, replica
        if replica.startswith("arn:"):
            region, identifier = replica.split(":")[3], replica.rsplit(":", 1)[-1]
        found = first_or_none(
            lambda: self._bookkeeping.client("rds", region).describe_db_instances(DBInstanceIdentifier=identifier),
            not_found="DBInstanceNotFound",
            key="DBInstances",
        )
        if found is None:
            return True  # deleted: no longer a replica of anything
        accepted = self._accepted_at(region, found)
        return accepted is not None and _elapsed(accepted, self._clock()) >= self._promotion_seconds

    def _mark_accepted(self, region: str) -> None:
        instance = self._instance(region)
        if instance is not None:
            arn = instance["DBInstanceArn"]
            self._bookkeeping.client("rds", region).add_tags_to_resource(
                ResourceName=arn, Tags=[{"Key": MODELLED_PROMOTED_TAG, "Value": f"{arn}|{self._clock().isoformat()}"}]
            )


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
        in_progress = self._failover_in_progress(global_cluster)
        reading = None
        if not writable:
            reading = self._lag.latest(region, self._names.replica_lag_metric(region))
        status = str(cluster.get("Status", "unknown"))
        return _described(
            region, identifier, status=status, writable=writable, reading=reading, in_progress=in_progress
        )

    def _failover_state(self, global_cluster: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = global_cluster.get("FailoverState") or {}
        return state

    def _failover_in_progress(self, global_cluster: dict[str, Any]) -> str | None:
        """A switchover or failover of the global cluster not yet finished, towards any
        member: while one runs, AWS refuses another, so the caller waits."""
        state = self._failover_state(global_cluster)
        status = str(state.get("Status", ""))
        if status not in AURORA_FAILOVER_STATUSES:
            return None
        kind = AURORA_FAILOVER if state.get("IsDataLossAllowed") else AURORA_SWITCHOVER
        return f"{kind}: global cluster {status} towards {state.get('ToDbClusterArn', 'unknown')}"

    def _target_arn(self, region: str) -> str:
        cluster = self._cluster(region)
        if cluster is None:
            raise LookupError(f"no Aurora cluster {self._names.db_cluster(region)!r} in {region}")
        return str(cluster["DBClusterArn"])

    def promote(self, region: str, *, primary_reachable: bool) -> str:
        rds = self._clients.client("rds", region).raw
        target, global_cluster = self._target_arn(region), self._names.global_cluster
        if primary_reachable:
            send_at_most_once(
                self._clients,
                lambda: rds.switchover_global_cluster(
                    GlobalClusterIdentifier=global_cluster, TargetDbClusterIdentifier=target
                ),
            )
            return AURORA_SWITCHOVER
        send_at_most_once(
            self._clients,
            lambda: rds.failover_global_cluster(
                GlobalClusterIdentifier=global_cluster, TargetDbClusterIdentifier=target, AllowDataLoss=True
            ),
        )
        return AURORA_FAILOVER

    def fence_writer(self, region: str, *, best_effort: bool = False) -> FenceResult:
        """Verify only: an Aurora global cluster cannot be stopped, and after an unplanned
        failover AWS demotes the old writer to a secondary when its region recovers. Until
        it has (the worse case: it is still the global writer, or was detached and is a
        standalone writer) the result is ``refused`` and the caller pages."""
        identifier = self._names.db_cluster(region)
        try:
            cluster = self._cluster(region, best_effort=best_effort)
            global_cluster = self._global_cluster(region, best_effort=best_effort)
        except Exception as exc:
            if is_retryable(exc):
                return _pending_on_unreachable(region, identifier, exc)
            raise
        if cluster is None:
            return FenceResult(region, identifier, FenceOutcome.FENCED, "no such cluster")
        arn = str(cluster["DBClusterArn"])
        members = [str(member["DBClusterArn"]) for member in (global_cluster or {}).get("GlobalClusterMembers", [])]
        if arn not in members:
            return FenceResult(
                region, identifier, FenceOutcome.REFUSED, "detached from the global cluster: a standalone writer"
            )
        if global_cluster is not None and self._member_is_writer(arn, global_cluster):
            return FenceResult(region, identifier, FenceOutcome.REFUSED, "still the writer of the global cluster")
        return FenceResult(
            region,
            identifier,
            FenceOutcome.FENCED,
            "demoted: a read-only secondary (verified by DescribeGlobalClusters)",
        )

    def _unplanned_failover_snapshot(self, region: str, *, best_effort: bool) -> str | None:
        """The newest snapshot AWS kept of this cluster when it demoted it after an unplanned failover."""
        rds = self._clients.client("rds", region, best_effort=best_effort)
        snapshots = rds.describe_db_cluster_snapshots(DBClusterIdentifier=self._names.db_cluster(region)).get(
            "DBClusterSnapshots", []
        )
        kept = [
            s
            for s in snapshots
            if str(s["DBClusterSnapshotIdentifier"]).startswith(AURORA_UNPLANNED_FAILOVER_SNAPSHOT_PREFIX)
        ]
        if not kept:
            return None
        newest = max(kept, key=lambda snapshot: str(snapshot.get("SnapshotCreateTime", "")))
        return str(newest["DBClusterSnapshotIdentifier"])

    def snapshot(self, region: str, name: str, *, best_effort: bool = False) -> str:
        """CopyDBClusterSnapshot of AWS's unplanned-failover snapshot into the manual ``name``
        (AWS's own snapshot is not kept forever; a manual copy is). None yet: not ready."""
        identifier = self._names.db_cluster(region)
        try:
            source = self._unplanned_failover_snapshot(region, best_effort=best_effort)
        except Exception as exc:
            if is_retryable(exc):
                raise SnapshotNotReadyError(f"cannot read {identifier}'s snapshots in {region}: {exc}") from exc
            raise
        if source is None:
            raise SnapshotNotReadyError(
                f"no {AURORA_UNPLANNED_FAILOVER_SNAPSHOT_PREFIX}* snapshot of {identifier} yet "
                "(AWS takes it when it demotes the old writer)"
            )
        rds = self._clients.client("rds", region, best_effort=best_effort)
        try:
            rds.copy_db_cluster_snapshot(
                SourceDBClusterSnapshotIdentifier=source, TargetDBClusterSnapshotIdentifier=name
            )
        except Exception as exc:
            if error_code(exc) == "DBClusterSnapshotAlreadyExistsFault":
                return name
            if is_retryable(exc):
                raise SnapshotNotReadyError(f"cannot copy {source} in {region} yet: {exc}") from exc
            raise
        return name

    def rejoin_as_replica(self, region: str, *, writer_region: str, snapshot: str) -> RejoinProgress:
        """Verify only: after a switchover AWS keeps the old writer as a secondary; after an
        unplanned failover (AllowDataLoss) AWS rejoins it as a secondary once its region is
        back, after its ``rds:unplanned-global-failover-`` snapshot. The worse case is
        modelled: a cluster still marked the writer is waited for (``rebuilding``, the step's
        deadline then asks a person), one outside the global cluster (detached, a standalone
        writer) or missing is reported ``missing`` with what to do; nothing is created here."""
        del snapshot  # the lost-writes copy is the fence's (switchyard.database_fence)
        identifier, global_name = self._names.db_cluster(region), self._names.global_cluster
        global_cluster = self._global_cluster(writer_region)
        writer = self._cluster(writer_region)
        if (
            global_cluster is None
            or writer is None
            or not self._member_is_writer(writer["DBClusterArn"], global_cluster)
        ):
            detail = f"{self._names.db_cluster(writer_region)} is not the writer of {global_name}: nothing to rejoin"
            return RejoinProgress(region, identifier, RejoinPhase.MISSING, detail)
        cluster = self._cluster(region)
        if cluster is None:
            detail = (
                f"no cluster {identifier} in {region}: add a secondary cluster to {global_name} (runbooks/failback.md)"
            )
            return RejoinProgress(region, identifier, RejoinPhase.MISSING, detail)
        arn = str(cluster["DBClusterArn"])
        member = next((m for m in global_cluster.get("GlobalClusterMembers", []) if m["DBClusterArn"] == arn), None)
        if member is None:
            detail = (
                f"{identifier} is not a member of {global_name} (detached: a standalone cluster that may hold the "
                "writes the failover lost): keep its snapshot, then replace it with a secondary (runbooks/failback.md)"
            )
            return RejoinProgress(region, identifier, RejoinPhase.MISSING, detail)
        if self._member_is_writer(arn, global_cluster):
            detail = f"{identifier} is still marked the writer of {global_name}: AWS demotes it once {region} is back"
            return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, detail)
        synchronization = str(member.get("SynchronizationStatus") or "connected")
        status = str(cluster.get("Status", "unknown"))
        if synchronization != "connected" or status != "available":
            detail = f"{identifier} is a secondary of {global_name}: {status}, synchronization {synchronization}"
            return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, detail)
        detail = f"{identifier} is a secondary of {global_name}, available and connected"
        return RejoinProgress(region, identifier, RejoinPhase.REJOINED, detail)


class ModelledAuroraGlobalFailover(ModelledPromotionTiming, AuroraGlobalDatabase):
    """Aurora global switchover/failover as a model over moto's stored clusters.

    Measured on moto 5.2.5: ``switchover_global_cluster`` and ``failover_global_cluster``
    raise NotImplementedError, every global member reports ``IsWriter: false`` and there is
    no ``FailoverState``. This model keeps the writer as a tag on the regional cluster in
    moto (bookkeeping client: not in the call history); with no tag the first member (the
    cluster the global cluster was created from) is the writer. A promotion is recorded in
    the API call history and tagged on the target cluster with its start; for
    ``promotion_seconds`` the global cluster reports a ``FailoverState`` towards the target
    (``failing-over`` / ``switching-over``) and the old writer stays the writer, then the
    writer tag moves (real Aurora takes minutes). A request while one runs is refused with
    ``InvalidGlobalClusterStateFault``, as Aurora does, and recorded.
    """

    def _tags(self, arn: str) -> dict[str, str]:
        client = self._bookkeeping.client("rds", arn.split(":")[3])
        return {tag["Key"]: tag["Value"] for tag in client.list_tags_for_resource(ResourceName=arn)["TagList"]}

    def _members(self, global_cluster: dict[str, Any]) -> list[str]:
        return [str(member["DBClusterArn"]) for member in global_cluster.get("GlobalClusterMembers", [])]

    def _pending(self, global_cluster: dict[str, Any]) -> tuple[str, str, str] | None:
        """(target ARN, operation, started) of the modelled promotion not yet finished;
        one that has run its course is finished here: the writer tag moves to its target."""
        for arn in self._members(global_cluster):
            pending = self._tags(arn).get(MODELLED_FAILOVER_TAG)
            if not pending:
                continue
            operation, started = pending.split("|", 1)
            if _elapsed(started, self._clock()) < self._promotion_seconds:
                return arn, operation, started
            self._finish(global_cluster, arn, operation)
        return None

    def _finish(self, global_cluster: dict[str, Any], target: str, operation: str) -> None:
        """The promotion is done. After an unplanned failover AWS demotes the old writer to a
        secondary and keeps an ``rds:unplanned-global-failover-...`` snapshot of it in its
        region; AWS does so when that region recovers, this model at once (the controller
        can read neither before the region is reachable again)."""
        old_writer = self._tagged_writer_tag_only(global_cluster)
        self._move_writer(global_cluster, target)
        if operation != AURORA_FAILOVER or not old_writer or old_writer == target:
            return
        region, cluster = old_writer.split(":")[3], old_writer.rsplit(":", 1)[-1]
        stamp = self._clock().strftime(MODELLED_UNPLANNED_SNAPSHOT_TIME)
        try:
            self._bookkeeping.client("rds", region).create_db_cluster_snapshot(
                DBClusterIdentifier=cluster,
                DBClusterSnapshotIdentifier=f"{AURORA_UNPLANNED_FAILOVER_SNAPSHOT_PREFIX}{cluster}-{stamp}",
            )
        except Exception as exc:
            if error_code(exc) != "DBClusterSnapshotAlreadyExistsFault":
                raise

    def _tagged_writer_tag_only(self, global_cluster: dict[str, Any]) -> str:
        """The writer before this promotion (the tag, or the first member), without finishing anything."""
        members = self._members(global_cluster)
        for arn in members:
            if self._tags(arn).get(MODELLED_WRITER_TAG) == "true":
                return arn
        return members[0] if members else ""

    def _move_writer(self, global_cluster: dict[str, Any], target: str) -> None:
        for arn in self._members(global_cluster):
            client = self._bookkeeping.client("rds", arn.split(":")[3])
            client.add_tags_to_resource(
                ResourceName=arn, Tags=[{"Key": MODELLED_WRITER_TAG, "Value": "true" if arn == target else "false"}]
            )
            client.remove_tags_from_resource(ResourceName=arn, TagKeys=[MODELLED_FAILOVER_TAG])

    def _tagged_writer(self, global_cluster: dict[str, Any]) -> str:
        self._pending(global_cluster)  # finishes a promotion whose time has come
        return self._tagged_writer_tag_only(global_cluster)

    def _member_is_writer(self, cluster_arn: str, global_cluster: dict[str, Any]) -> bool:
        return self._tagged_writer(global_cluster) == cluster_arn

    def _failover_state(self, global_cluster: dict[str, Any]) -> dict[str, Any]:
        pending = self._pending(global_cluster)
        if pending is None:
            return {}
        target, operation, _ = pending
        return {
            "Status": "switching-over" if operation == AURORA_SWITCHOVER else "failing-over",
            "FromDbClusterArn": self._tagged_writer(global_cluster),
            "ToDbClusterArn": target,
            "IsDataLossAllowed": operation == AURORA_FAILOVER,
        }

    def promote(self, region: str, *, primary_reachable: bool) -> str:
        operation = AURORA_SWITCHOVER if primary_reachable else AURORA_FAILOVER
        target = self._target_arn(region)
        request = {"GlobalClusterIdentifier": self._names.global_cluster, "TargetDbClusterIdentifier": target}
        self._clients.record("rds", operation, region, params=request, mutating=True)
        global_cluster = self._global_cluster(region)
        if global_cluster is None:
            raise LookupError(f"no global cluster {self._names.global_cluster!r}")
        if self._pending(global_cluster) is not None:
            raise _refusal(
                "InvalidGlobalClusterStateFault",
                f"global cluster {self._names.global_cluster} is already switching over or failing over (modelled)",
                operation,
            )
        self._bookkeeping.client("rds", region).add_tags_to_resource(
            ResourceName=target,
            Tags=[{"Key": MODELLED_FAILOVER_TAG, "Value": f"{operation}|{self._clock().isoformat()}"}],
        )
        if self._promotion_seconds <= 0:
            self._finish(global_cluster, target, operation)
        return operation


def modelled_database(
    config: EnvironmentConfig,
    clients: ClientFactory,
    lag: ReplicationLagReader,
    bookkeeping: ClientFactory,
    *,
    promotion_seconds: float = 0.0,
) -> Database:
    """The named promotion model of ``config``'s engine (moto lacks both behaviours)."""
    model = ModelledRdsPromotion if config.database.engine == "rds-postgres" else ModelledAuroraGlobalFailover
    return model(config, clients, lag, bookkeeping, promotion_seconds=promotion_seconds)
