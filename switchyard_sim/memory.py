"""In-memory implementations of every port a ``RunbookDeps`` holds: the unit tier's fakes
(``make unit``, through ``tests/fakes.py``) and the base the production-time simulation
(``switchyard_sim.world``) adds durations to.

No moto, no CDK, no drill and no network: each fake keeps its state in plain dicts and
records what the code under test asked of it. Each class docstring names the real adapter
it stands in for and what it does not model. ``tests/controller/test_state_store_contract.py``
runs the same call sequences against :class:`FakeStateStore` and ``DynamoStateStore`` (over
moto) so the fake cannot drift from the store's conditional rules.

An unreachable region is modelled the way boto3 reports one after its retries: every call
into it raises ``EndpointConnectionError`` (a ``BotoCoreError``, which the controller
already treats as "unreadable", never as an answer).

Typical use::

    fakes = Fakes(config)
    fakes.seed_desired(initial_desired_state(config))
    deps = fakes.deps(config.regions.standby)
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from switchyard.adapters.compute import Compute, GroupStatus, ImageStatus
from switchyard.adapters.database import (
    AURORA_FAILOVER,
    AURORA_SWITCHOVER,
    RDS_CREATE_REPLICA,
    RDS_DELETE,
    RDS_PROMOTION,
    RDS_SNAPSHOT,
    RDS_STOP,
    Database,
    DatabaseStatus,
    FenceOutcome,
    FenceResult,
    RejoinPhase,
    RejoinProgress,
    SnapshotNotReadyError,
)
from switchyard.adapters.dns import TrafficRecords
from switchyard.adapters.functions import FunctionWarmer
from switchyard.adapters.health import HealthSignals
from switchyard.adapters.notifications import SUBJECT_LIMIT, Notifier
from switchyard.adapters.protection import Protection
from switchyard.adapters.runbook_starter import RunbookStarter, StartedRun
from switchyard.adapters.state import (
    KEY,
    MEMORY_VERSION,
    PROMOTION_REFUSED,
    LockRecord,
    LostWritesUpdates,
    StateStore,
    from_item,
    lock_to_take,
    to_item,
)
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.decision import GLOBAL_OBSERVER, ProbeOutcome, ProbeResult, Signal, SignalSource
from switchyard.deps import RunbookDeps
from switchyard.model import DesiredState
from switchyard.retry import ClientFactory
from switchyard_sim.protection import FakeProtection

__all__ = [
    "FAKE_EPOCH_START",
    "FakeCompute",
    "FakeDatabase",
    "FakeFunctionWarmer",
    "FakeGroup",
    "FakeHealthSignals",
    "FakeNotifier",
    "FakeRunbookStarter",
    "FakeStateStore",
    "FakeTrafficRecords",
    "Fakes",
    "NoCallClientFactory",
    "Promotion",
    "PublishedMessage",
    "SettableClock",
    "StartedExecution",
    "alarm",
    "fake_deps",
    "probe",
    "refused",
    "route53",
    "unreachable",
]

FAKE_EPOCH_START = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)


def unreachable(service: str, region: str) -> EndpointConnectionError:
    """What boto3 raises for a region that does not answer (after its retries)."""
    return EndpointConnectionError(endpoint_url=f"https://{service}.{region}.amazonaws.com")


def refused(code: str, message: str, operation: str) -> ClientError:
    """What AWS answers to a request it refuses."""
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}, operation
    )


@dataclass
class SettableClock:
    """The deps' clock: a test sets or advances it; it never moves by itself."""

    now: datetime = FAKE_EPOCH_START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class NoCallClientFactory(ClientFactory):
    """A ClientFactory whose every client request fails the test: on fakes, a code path that
    reaches around a port to boto3 is a bug in the port boundary, not a call to make."""

    def client(self, service: str, region: str, *, best_effort: bool = False) -> Any:
        raise AssertionError(f"code under test asked for a real {service} client in {region} on fake deps")


class _Regions:
    """Which regions a fake treats as unreachable (every call into them raises)."""

    service = "aws"

    def __init__(self) -> None:
        self.unreachable: set[str] = set()

    def make_unreachable(self, region: str) -> None:
        self.unreachable.add(region)

    def make_reachable(self, region: str) -> None:
        self.unreachable.discard(region)

    def _check(self, region: str) -> None:
        if region in self.unreachable:
            raise unreachable(self.service, region)


# -- the state table ---------------------------------------------------------------------


class FakeStateStore(_Regions, LostWritesUpdates):
    """Stands in for ``DynamoStateStore``: one dict per region (that region's replica of the
    global table), items keyed by the same partition keys, written with the same conditions.

    Items go through the adapter's own (de)serialisation, so what a read returns is what
    DynamoDB would return (``None`` attributes dropped, whole floats read back as ints).

    Not modelled: replication between the replicas (each region's dict changes only when
    written into; :meth:`replicate` copies items by hand, as the global table would later),
    the retry policy and best-effort timeouts (``best_effort`` is accepted and ignored),
    throttling and MRSC write conflicts. An unreachable region raises on every call.
    """

    service = "dynamodb"

    def __init__(self, config: EnvironmentConfig) -> None:
        super().__init__()
        self.names = Names(config)
        self.tables: dict[str, dict[str, dict[str, Any]]] = {region: {} for region in config.regions.pair}

    # -- storage, as DynamoDB stores it -------------------------------------------------
    def _table(self, region: str) -> dict[str, dict[str, Any]]:
        self._check(region)
        return self.tables.setdefault(region, {})

    def _get(self, region: str, key: str) -> dict[str, Any] | None:
        item = self._table(region).get(key)
        return copy.deepcopy(item) if item is not None else None

    def _put(self, region: str, values: dict[str, Any]) -> None:
        self._table(region)[values[KEY]] = from_item(to_item(values))

    def _without_key(self, item: dict[str, Any] | None) -> dict[str, Any] | None:
        if item is not None:
            item.pop(KEY)
        return item

    def replicate(self, key: str, *, source: str, into: str) -> None:
        """Copy one item from ``source``'s replica into ``into``'s (global-table replication)."""
        item = self._get(source, key)
        if item is None:
            self._table(into).pop(key, None)
        else:
            self._table(into)[key] = item

    # -- desired state ------------------------------------------------------------------
    def read_desired(self, region: str, *, best_effort: bool = False) -> DesiredState | None:
        item = self._without_key(self._get(region, self.names.desired_state_key))
        return DesiredState.model_validate(item) if item is not None else None

    def write_desired(self, region: str, state: DesiredState) -> bool:
        stored = self._get(region, self.names.desired_state_key)
        if stored is not None and int(stored["epoch"]) > state.epoch:
            return False  # condition: attribute_not_exists(pk) OR epoch <= :epoch
        self._put(region, {KEY: self.names.desired_state_key, **state.model_dump()})
        return True

    # -- lock ---------------------------------------------------------------------------
    def read_lock(self, region: str, *, best_effort: bool = False) -> LockRecord | None:
        item = self._get(region, self.names.lock_key)
        return LockRecord.from_values(item) if item is not None else None

    def acquire_lock(self, region: str, *, holder: str, now: str, min_epoch: int) -> LockRecord:
        current = self.read_lock(region)
        record = lock_to_take(current, holder=holder, now=now, min_epoch=min_epoch)
        if record is not current:
            # single-threaded: the conditional put's check (absent, or released at the epoch
            # read) cannot lose a race here, so the write always succeeds
            self._put(region, {KEY: self.names.lock_key, **record.as_values()})
        return record

    def release_lock(self, region: str, *, holder: str, now: str) -> bool:
        item = self._get(region, self.names.lock_key)
        if item is None or item.get("holder") != holder or item.get("held") is not True:
            return False  # condition: holder = :holder AND held = true
        self._put(region, {**item, "held": False, "released_at": now})
        return True

    # -- audit --------------------------------------------------------------------------
    def append_audit(self, region: str, *, execution: str, record: dict[str, Any]) -> bool:
        key = self.names.audit_key(execution)
        if self._get(region, key) is not None:
            return False
        self._put(region, {**record, KEY: key})
        return True

    def read_audit(self, region: str, *, execution: str) -> dict[str, Any] | None:
        return self._get(region, self.names.audit_key(execution))  # the adapter keeps the key too

    # -- monitor memory -----------------------------------------------------------------
    def read_monitor_memory(self, region: str) -> dict[str, Any] | None:
        return self._without_key(self._get(region, self.names.monitor_key(region)))

    def write_monitor_memory(self, region: str, memory: dict[str, Any], *, read_version: int) -> bool:
        stored = self._get(region, self.names.monitor_key(region))
        if stored is not None and MEMORY_VERSION in stored and int(stored[MEMORY_VERSION]) != read_version:
            return False  # condition: attribute_not_exists(version) OR version = :read
        self._put(region, {**memory, KEY: self.names.monitor_key(region), MEMORY_VERSION: read_version + 1})
        return True

    # -- heartbeat ----------------------------------------------------------------------
    def write_heartbeat(self, region: str, *, at: str) -> None:
        self._put(region, {KEY: self.names.heartbeat_key(region), "at": at})

    def read_heartbeat(self, region: str, *, of_region: str) -> str | None:
        item = self._get(region, self.names.heartbeat_key(of_region))
        return str(item["at"]) if item else None

    # -- promotion ----------------------------------------------------------------------
    def claim_promotion(self, region: str, *, epoch: int, record: dict[str, Any]) -> bool:
        key = self.names.promotion_key(epoch)
        stored = self._get(region, key)
        if stored is not None and stored.get("outcome") != PROMOTION_REFUSED:
            return False  # condition: attribute_not_exists(pk) OR outcome = refused
        self._put(region, {**record, KEY: key, "epoch": epoch})
        return True

    def settle_promotion(self, region: str, *, epoch: int, record: dict[str, Any]) -> None:
        self._put(region, {**record, KEY: self.names.promotion_key(epoch), "epoch": epoch})

    def read_promotion(self, region: str, *, epoch: int) -> dict[str, Any] | None:
        return self._without_key(self._get(region, self.names.promotion_key(epoch)))

    # -- lost writes --------------------------------------------------------------------
    def record_lost_writes(self, region: str, *, epoch: int, record: dict[str, Any]) -> bool:
        key = self.names.lost_writes_key(epoch)
        if self._get(region, key) is not None:
            return False
        self._put(region, {**record, KEY: key, "epoch": epoch})
        return True

    def read_lost_writes(self, region: str, *, up_to_epoch: int) -> list[dict[str, Any]]:
        found = (self.read_lost_writes_record(region, epoch=epoch) for epoch in range(1, up_to_epoch + 1))
        return [record for record in found if record is not None]

    def read_lost_writes_record(self, region: str, *, epoch: int) -> dict[str, Any] | None:
        return self._without_key(self._get(region, self.names.lost_writes_key(epoch)))

    def _update_once(self, region: str, epoch: int, *, attribute: str, values: dict[str, Any]) -> bool:
        stored = self._get(region, self.names.lost_writes_key(epoch))
        if stored is None or attribute in stored:
            return False  # condition: attribute_exists(pk) AND attribute_not_exists(<attribute>)
        self._put(region, {**stored, **values})
        return True

    # -- monitor triggers ---------------------------------------------------------------
    def record_trigger(self, region: str, *, event_id: str, record: dict[str, Any], at: str) -> bool:
        key = self.names.trigger_key(region, event_id)
        stored = self._get(region, key)
        if stored is None:
            self._put(region, {**record, KEY: key, "deliveries": 1, "recorded_at": at})
            return True
        self._put(region, {**stored, "deliveries": int(stored.get("deliveries", 0)) + 1, "last_delivered_at": at})
        return False

    def read_trigger(self, region: str, event_id: str) -> dict[str, Any] | None:
        """Test helper (not on the port): the trigger record as ``region``'s replica has it."""
        return self._get(region, self.names.trigger_key(region, event_id))


# -- the database ------------------------------------------------------------------------


@dataclass(frozen=True)
class Promotion:
    region: str
    operation: str
    primary_reachable: bool
    at: datetime


class FakeDatabase(_Regions):
    """Stands in for ``RdsReplicaDatabase`` / ``AuroraGlobalDatabase`` (by the config's
    engine): a scripted model of which regions take writes, the replica's lag and a
    promotion in progress.

    - ``writers``: the regions whose database accepts writes. An RDS replica promotion adds
      the target and leaves the old primary a standalone writer (until it is fenced);
      an Aurora promotion moves the writer (the old one is demoted at once: real Aurora
      demotes it only when its region recovers).
    - ``replica_lag_seconds``: what the non-writer reports (None: no datapoint, unknown).
    - a promotion runs ``promotion_seconds`` of the clock: meanwhile the target reports
      ``promotion_in_progress`` (RDS: status ``modifying``) and a second promotion is
      refused as AWS refuses it (``InvalidDBInstanceState`` /
      ``InvalidGlobalClusterStateFault``), and so is promoting a writer.
    - ``fence_writer`` follows the RDS rules (a replica is fenced; a writer with a replica
      is refused; a standalone writer is stopped) or Aurora's (verify only: a writer is refused).
    - ``promotion_error``: the next promotion request raises it instead (recorded, not taken).
    - ``snapshot`` records the name per region; ``snapshot_not_ready`` makes it raise
      ``SnapshotNotReadyError`` (e.g. Aurora before AWS took its failover snapshot).

    Not modelled: CloudWatch lag datapoints and their age, throttling, 7-day restarts,
    snapshot progress, a promotion request that AWS accepted while the caller saw a timeout.
    """

    service = "rds"

    def __init__(self, config: EnvironmentConfig, clock: SettableClock, *, promotion_seconds: float = 0.0) -> None:
        super().__init__()
        self.config = config
        self.names = Names(config)
        self.clock = clock
        self.promotion_seconds = promotion_seconds
        self.writers: set[str] = {config.regions.primary}
        self.replica_lag_seconds: float | None = 0.0
        self.stopped: set[str] = set()
        self.snapshots: dict[str, list[str]] = {}
        self.snapshot_not_ready: set[str] = set()
        self.promotions: list[Promotion] = []  # every promotion request, refused ones included
        self.stops: list[str] = []
        self.promotion_error: Exception | None = None  # what the next promotion request raises (AWS did not take it)
        self._pending: Promotion | None = None

    @property
    def rds(self) -> bool:
        return self.config.database.engine == "rds-postgres"

    def identifier(self, region: str) -> str:
        return self.names.db_instance(region) if self.rds else self.names.db_cluster(region)

    def _settle(self) -> Promotion | None:
        """The promotion still running; one whose time has come is finished here."""
        pending = self._pending
        if pending is None:
            return None
        if (self.clock() - pending.at).total_seconds() < self.promotion_seconds:
            return pending
        if not self.rds:
            self.writers.clear()
        self.writers.add(pending.region)
        self._pending = None
        return None

    def describe(self, region: str, *, best_effort: bool = False) -> DatabaseStatus:
        self._check(region)
        pending = self._settle()
        writable = region in self.writers
        promoting = pending is not None and pending.region == region
        status = "stopped" if region in self.stopped else ("modifying" if promoting and self.rds else "available")
        in_progress = (
            f"{pending.operation}: {self.identifier(region)} promoting (fake)" if pending and promoting else None
        )
        lag = None if writable else self.replica_lag_seconds
        return DatabaseStatus(
            region, self.identifier(region), True, status == "available", writable, lag, status, in_progress
        )

    def promote(self, region: str, *, primary_reachable: bool) -> str:
        self._check(region)
        operation = self._operation(primary_reachable=primary_reachable)
        promotion = Promotion(region, operation, primary_reachable, self.clock())
        self.promotions.append(promotion)
        if self.promotion_error is not None:
            error, self.promotion_error = self.promotion_error, None
            raise error
        if self._settle() is not None or region in self.writers:
            code = "InvalidDBInstanceState" if self.rds else "InvalidGlobalClusterStateFault"
            raise refused(code, f"{self.identifier(region)} cannot be promoted now (fake)", operation)
        self._pending = promotion
        self._settle()
        return operation

    def _operation(self, *, primary_reachable: bool) -> str:
        if self.rds:
            return RDS_PROMOTION
        return AURORA_SWITCHOVER if primary_reachable else AURORA_FAILOVER

    def _has_replica(self, region: str) -> bool:
        return any(other not in self.writers for other in self.config.regions.pair if other != region)

    def fence_writer(self, region: str, *, best_effort: bool = False) -> FenceResult:
        identifier = self.identifier(region)
        if region in self.unreachable:
            return FenceResult(region, identifier, FenceOutcome.PENDING, "unreachable (EndpointConnectionError)")
        self._settle()
        if region not in self.writers:
            return FenceResult(region, identifier, FenceOutcome.FENCED, "a read replica (read-only)")
        if not self.rds:
            return FenceResult(region, identifier, FenceOutcome.REFUSED, "still the writer of the global cluster")
        if region in self.stopped:
            return FenceResult(region, identifier, FenceOutcome.FENCED, "stopped (verified by DescribeDBInstances)")
        if self._has_replica(region):
            return FenceResult(region, identifier, FenceOutcome.REFUSED, "has a replica")
        self.stopped.add(region)
        self.stops.append(region)
        return FenceResult(region, identifier, FenceOutcome.FENCED, "stopping (StopDBInstance sent)", RDS_STOP)

    def snapshot(self, region: str, name: str, *, best_effort: bool = False) -> str:
        if region in self.unreachable or region in self.snapshot_not_ready:
            raise SnapshotNotReadyError(f"cannot snapshot {self.identifier(region)} in {region} yet (fake)")
        taken = self.snapshots.setdefault(region, [])
        if name not in taken:
            taken.append(name)
        return name

    def rejoin_as_replica(self, region: str, *, writer_region: str, snapshot: str) -> RejoinProgress:
        """The old primary back as a replica, one step per pass: RDS snapshots it (unless
        ``snapshot`` exists), then replaces it with a replica; Aurora reports a demoted
        writer rejoined. Durations and AWS's own states are not modelled."""
        identifier = self.identifier(region)
        if writer_region not in self.writers:
            return RejoinProgress(region, identifier, RejoinPhase.MISSING, f"{writer_region} is not a writer (fake)")
        if region not in self.writers:
            return RejoinProgress(region, identifier, RejoinPhase.REJOINED, "a replica of the writer (fake)")
        if not self.rds:
            return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, "still the writer (fake)")
        if snapshot not in self.snapshots.get(region, []):
            self.snapshot(region, snapshot)
            return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, "snapshot taken (fake)", (RDS_SNAPSHOT,))
        self.writers.discard(region)
        self.stopped.discard(region)
        operations = (RDS_DELETE, RDS_CREATE_REPLICA)
        return RejoinProgress(region, identifier, RejoinPhase.REBUILDING, "replaced by a replica (fake)", operations)


# -- compute, notifications, health, DNS, the runbook ------------------------------------------


@dataclass
class FakeGroup:
    desired: int
    min_size: int
    max_size: int
    in_service: int | None = None  # None: every desired instance is in service


class FakeCompute(_Regions):
    """Stands in for ``AutoScalingCompute``: one group per region, sized from the config
    (primary at ``primary_desired``, standby at ``standby_warm_min``).

    ``set_desired`` follows the adapter: never above max, no call when unchanged, lowers
    min with the capacity; ``calls`` lists every change made. Not modelled: instance
    launch time (``in_service`` follows ``desired`` unless a test pins it), cooldowns,
    a missing group (set ``groups`` to drop one).
    """

    service = "autoscaling"

    def __init__(self, config: EnvironmentConfig) -> None:
        super().__init__()
        self.names = Names(config)
        capacity = config.capacity
        self.groups: dict[str, FakeGroup] = {
            config.regions.primary: FakeGroup(capacity.primary_desired, 0, capacity.max),
            config.regions.standby: FakeGroup(capacity.standby_warm_min, capacity.standby_warm_min, capacity.max),
        }
        self.calls: list[tuple[str, int]] = []
        # the image each region's launch template launches; a test sets one to model a missing image
        self.images: dict[str, ImageStatus] = {
            region: ImageStatus(region, self.names.launch_template(region), "ami-fake", "ami-fake", "available")
            for region in config.regions.pair
        }

    def image(self, region: str) -> ImageStatus:
        self._check(region)
        return self.images[region]

    def describe(self, region: str) -> GroupStatus:
        self._check(region)
        group = self.groups.get(region)
        name = self.names.asg(region)
        if group is None:
            return GroupStatus(name, region, False, 0, 0, 0, 0, None)
        in_service = group.desired if group.in_service is None else group.in_service
        return GroupStatus(name, region, True, group.desired, group.min_size, group.max_size, in_service, "fake")

    def set_desired(self, region: str, desired: int, *, best_effort: bool = False) -> int:
        if desired < 0:
            raise ValueError(f"desired capacity must not be negative (got {desired})")
        status = self.describe(region)
        if not status.exists:
            raise LookupError(f"no Auto Scaling group {status.name!r} in {region}")
        group = self.groups[region]
        target = min(desired, group.max_size)
        if group.desired == target:
            return target
        group.min_size = min(group.min_size, target)
        group.desired = target
        self.calls.append((region, target))
        return target


@dataclass(frozen=True)
class PublishedMessage:
    region: str
    subject: str
    message: dict[str, Any]


class FakeNotifier(_Regions):
    """Stands in for ``SnsNotifier``: records each message (subject cut to SNS's limit).
    Not modelled: delivery, subscriptions, message size limits."""

    service = "sns"

    def __init__(self) -> None:
        super().__init__()
        self.published: list[PublishedMessage] = []

    def publish(self, region: str, *, subject: str, message: dict[str, Any]) -> str:
        self._check(region)
        self.published.append(PublishedMessage(region, subject[:SUBJECT_LIMIT], copy.deepcopy(message)))
        return f"fake-message-{len(self.published)}"

    def kinds(self) -> list[str]:
        """The ``kind`` of every message published, in order."""
        return [str(published.message.get("kind")) for published in self.published]


class FakeHealthSignals:
    """Stands in for ``AwsHealthSignals``: returns the signals a test set per region.

    ``observed[region]`` is what ``observe`` returns for that region (a fresh list each
    call: the monitor appends the heartbeat to it), ``own[region]`` what
    ``target_signals`` returns. Not modelled: how each source is read (Route 53's API and
    sentinel, CloudWatch, the probe); :func:`route53`, :func:`alarm` and :func:`probe`
    build the signals those readers produce.
    """

    def __init__(self) -> None:
        self.observed: dict[str, list[Signal]] = {}
        self.own: dict[str, list[Signal]] = {}
        self.checks: dict[str, dict[str, str]] = {}

    def observe(self, watched_region: str, *, observer_region: str) -> list[Signal]:
        return list(self.observed.get(watched_region, []))

    def target_signals(self, target_region: str) -> list[Signal]:
        return list(self.own.get(target_region, []))

    def health_checks(self, watched_region: str) -> dict[str, str]:
        return dict(self.checks.get(watched_region, {}))


def route53(failing: bool | None, at: datetime | None, *, name: str = "route53-dns:verdict") -> Signal:
    """Route 53's verdict (observed from outside every region); ``failing=None``: no answer."""
    return Signal(name, SignalSource.ROUTE53, GLOBAL_OBSERVER, failing, at if failing is not None else None)


def alarm(region: str, failing: bool | None, at: datetime | None, *, key: str = "unhealthy-hosts") -> Signal:
    """One of ``region``'s CloudWatch alarms (evaluated inside it)."""
    return Signal(f"alarm:{key}", SignalSource.ALARMS, region, failing, at if failing is not None else None)


def probe(observer_region: str, failing: bool, at: datetime) -> Signal:
    """The controller's probe from ``observer_region``."""
    outcome = ProbeOutcome.UNREACHABLE if failing else ProbeOutcome.HEALTHY
    return Signal("probe", SignalSource.PROBE, observer_region, failing, at, ProbeResult(outcome, "fake"))


class FakeTrafficRecords:
    """Stands in for ``Route53FailoverRecords``: which region's failover record is PRIMARY.
    Not modelled: Route 53's control plane (a dark us-east-1), change propagation."""

    def __init__(self, primary: str) -> None:
        self.primary = primary
        self.changes: list[str] = []

    def make_primary(self, region: str) -> bool:
        if self.primary == region:
            return False
        self.primary = region
        self.changes.append(region)
        return True


@dataclass(frozen=True)
class StartedExecution:
    region: str
    name: str
    execution_arn: str
    runbook_input: dict[str, Any]


class FakeRunbookStarter(_Regions):
    """Stands in for ``StepFunctionsRunbookStarter``: idempotent by execution name per
    region, as StartExecution is (a duplicate finds the existing execution). ``starts``
    lists every request, ``executions`` the executions that exist. Not modelled: running
    the state machine, the 90-day name reuse window, a duplicate with a different input."""

    service = "states"

    def __init__(self, config: EnvironmentConfig) -> None:
        super().__init__()
        self.names = Names(config)
        self.executions: dict[str, StartedExecution] = {}  # by execution ARN
        self.starts: list[StartedExecution] = []

    def start(self, region: str, *, name: str, runbook_input: dict[str, Any]) -> StartedRun:
        self._check(region)
        arn = self.names.execution_arn(region, name)
        execution = StartedExecution(region, name, arn, copy.deepcopy(runbook_input))
        self.starts.append(execution)
        if arn in self.executions:
            return StartedRun(arn, already_existed=True)
        self.executions[arn] = execution
        return StartedRun(arn, already_existed=False)


class FakeFunctionWarmer(_Regions):
    """Stands in for ``LambdaFunctionWarmer``: records each warm-up as ``(region, step)``;
    a step in ``refusals`` raises that error instead (a function Lambda cannot invoke, e.g.
    a bad deploy). Not modelled: the function running (the simulation adds that), Lambda's
    async queue and its retries of a failed asynchronous invocation."""

    service = "lambda"

    def __init__(self) -> None:
        super().__init__()
        self.warmed: list[tuple[str, str]] = []
        self.refusals: dict[str, Exception] = {}

    def warm(self, region: str, step: str) -> None:
        self._check(region)
        if step in self.refusals:
            raise self.refusals[step]
        self.warmed.append((region, step))

    def steps_warmed(self, region: str) -> list[str]:
        """The steps warmed in ``region``, in order."""
        return [step for warmed_region, step in self.warmed if warmed_region == region]


# -- wiring --------------------------------------------------------------------------------


def fake_deps(config: EnvironmentConfig, region: str, **overrides: Any) -> RunbookDeps:
    """A RunbookDeps of fresh fakes for code running in ``region``; any field can be
    overridden by keyword (share one ``state`` between two regions' deps, for example).
    The clock is a :class:`SettableClock` unless one is given; ``sleep`` does not sleep."""
    clock = overrides.pop("clock", None) or SettableClock()
    state: StateStore = FakeStateStore(config)
    database: Database = FakeDatabase(config, clock)
    compute: Compute = FakeCompute(config)
    notifier: Notifier = FakeNotifier()
    health: HealthSignals = FakeHealthSignals()
    traffic_records: TrafficRecords = FakeTrafficRecords(config.regions.primary)
    runbook_starter: RunbookStarter = FakeRunbookStarter(config)
    function_warmer: FunctionWarmer = FakeFunctionWarmer()
    protection: Protection = FakeProtection(clock)
    defaults: dict[str, Any] = {
        "config": config,
        "region": region,
        "clients": NoCallClientFactory(),
        "database": database,
        "compute": compute,
        "state": state,
        "notifier": notifier,
        "health": health,
        "traffic_records": traffic_records,
        "runbook_starter": runbook_starter,
        "function_warmer": function_warmer,
        "protection": protection,
        "clock": clock,
        "sleep": lambda _seconds: None,
    }
    unknown = set(overrides) - set(defaults) - {"readiness"}
    if unknown:
        raise TypeError(f"unknown RunbookDeps fields: {sorted(unknown)}")
    return RunbookDeps(**{**defaults, **overrides})


@dataclass
class Fakes:
    """One world of fakes shared by both regions' deps (the global table, both databases,
    both groups), with concrete types for the test to arrange and inspect."""

    config: EnvironmentConfig
    clock: SettableClock = field(default_factory=SettableClock)
    sleeps: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = FakeStateStore(self.config)
        self.database = FakeDatabase(self.config, self.clock)
        self.compute = FakeCompute(self.config)
        self.notifier = FakeNotifier()
        self.health = FakeHealthSignals()
        self.traffic_records = FakeTrafficRecords(self.config.regions.primary)
        self.runbook_starter = FakeRunbookStarter(self.config)
        self.function_warmer = FakeFunctionWarmer()
        self.protection = FakeProtection(self.clock)

    def deps(self, region: str, **overrides: Any) -> RunbookDeps:
        shared: dict[str, Any] = {
            "state": self.state,
            "database": self.database,
            "compute": self.compute,
            "notifier": self.notifier,
            "health": self.health,
            "traffic_records": self.traffic_records,
            "runbook_starter": self.runbook_starter,
            "function_warmer": self.function_warmer,
            "protection": self.protection,
            "clock": self.clock,
            "sleep": self.sleeps.append,
        }
        return fake_deps(self.config, region, **{**shared, **overrides})

    def seed_desired(self, state: DesiredState, *, regions: Iterable[str] | None = None) -> None:
        """Write ``state`` into each region's replica (both by default), as a converged table has it."""
        for region in regions if regions is not None else self.config.regions.pair:
            self.state.write_desired(region, state)
