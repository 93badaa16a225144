"""The drill's MRSC model of the state table (drill.emulation.ModelledStrongConsistency),
through the controller's own state store and the drill's fault-injecting clients: writes
are linearizable across the two replicas, a region without a majority errors on writes and
strongly consistent reads, a cut-off replica catches up before it serves again, a partition
cuts cross-region calls, and a replicated write conflict is retried."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from drill.adapters import FaultInjectingClientFactory, ThrottleScript
from drill.emulation import NO_MAJORITY_CODE, ModelledStrongConsistency, moto_server
from drill.world import Faults
from switchyard.adapters.state import DynamoStateStore, LockHeldError
from switchyard.config import EnvironmentConfig
from switchyard.contract import STATE_TABLE_KEY, Names
from switchyard.model import DesiredState
from switchyard.retry import ApiCallLog, RetryPolicy

pytestmark = pytest.mark.drill

NOW = "2026-01-01T00:00:00+00:00"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def tables(endpoint: str, dev_config: EnvironmentConfig) -> Iterator[None]:
    table = Names(dev_config).state_table
    for region in dev_config.regions.pair:
        boto3.client("dynamodb", region_name=region, endpoint_url=endpoint).create_table(
            TableName=table,
            KeySchema=[{"AttributeName": STATE_TABLE_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": STATE_TABLE_KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    yield
    for region in dev_config.regions.pair:
        boto3.client("dynamodb", region_name=region, endpoint_url=endpoint).delete_table(TableName=table)


class World:
    def __init__(self, config: EnvironmentConfig, endpoint: str) -> None:
        self.config = config
        self.faults = Faults()
        self.throttles = ThrottleScript()
        self.call_log = ApiCallLog()
        self.model = ModelledStrongConsistency(config, self.faults, endpoint)
        self.endpoint = endpoint

    def store(self, caller_region: str, *, attempts: int = 4) -> DynamoStateStore:
        """The state store of the functions deployed in ``caller_region``."""
        clients = FaultInjectingClientFactory(
            faults=self.faults,
            throttles=self.throttles,
            endpoint_url=self.endpoint,
            call_log=self.call_log,
            retry_policy=RetryPolicy(max_attempts=attempts, base_delay_seconds=0.001, max_delay_seconds=0.002),
            caller_region=caller_region,
            strong_consistency=self.model,
        )
        return DynamoStateStore(self.config, clients)

    def local_item(self, region: str, key: str) -> dict[str, object] | None:
        """What moto holds in ``region``'s replica, bypassing the model."""
        client = boto3.client("dynamodb", region_name=region, endpoint_url=self.endpoint)
        table = Names(self.config).state_table
        return client.get_item(TableName=table, Key={STATE_TABLE_KEY: {"S": key}}).get("Item")


@pytest.fixture
def world(tables: None, dev_config: EnvironmentConfig, endpoint: str) -> World:
    return World(dev_config, endpoint)


def _desired(active: str, epoch: int) -> DesiredState:
    return DesiredState(active_region=active, epoch=epoch, updated_by="test", reason="test", updated_at=NOW)


def test_a_write_in_one_region_is_read_at_once_in_the_other(world: World) -> None:
    primary, standby = world.config.regions.pair
    # WHEN the standby's functions write the desired state in the standby's replica
    assert world.store(standby).write_desired(standby, _desired(standby, 1))
    # THEN the next strongly consistent read in the primary sees it (no replication delay)
    read = world.store(primary).read_desired(primary)
    assert read is not None
    assert (read.active_region, read.epoch) == (standby, 1)


def test_the_lock_taken_in_one_region_is_held_in_the_other(world: World) -> None:
    primary, standby = world.config.regions.pair
    # GIVEN the standby's run holds the lock at epoch 1
    held = world.store(standby).acquire_lock(standby, holder="arn:standby:run", now=NOW, min_epoch=0)
    assert held.epoch == 1
    # WHEN a run in the primary tries the same lock through the primary's replica THEN it is refused
    with pytest.raises(LockHeldError):
        world.store(primary).acquire_lock(primary, holder="arn:primary:run", now=NOW, min_epoch=0)


def test_a_partitioned_pair_keeps_a_majority_through_the_witness(world: World) -> None:
    primary, standby = world.config.regions.pair
    world.faults.cut_link(primary, standby)
    assert world.model.has_majority(primary)
    assert world.model.has_majority(standby)
    # a write on one side is seen on the other (the witness holds the replicated log)
    assert world.store(standby).write_desired(standby, _desired(standby, 2))
    read = world.store(primary).read_desired(primary)
    assert read is not None
    assert read.epoch == 2


def test_a_partition_cuts_calls_to_the_other_region(world: World) -> None:
    primary, standby = world.config.regions.pair
    world.faults.cut_link(primary, standby)
    # the standby's functions cannot reach the primary's replica, but still reach their own
    with pytest.raises(EndpointConnectionError):
        world.store(standby, attempts=1).read_desired(primary)
    assert world.store(standby).read_desired(standby) is None
    world.faults.cut_link(primary, standby, cut=False)
    assert world.store(standby).read_desired(primary) is None


def test_without_a_majority_writes_and_consistent_reads_fail_and_the_replica_catches_up(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    primary, standby = world.config.regions.pair
    key = Names(world.config).desired_state_key
    assert world.store(primary).write_desired(primary, _desired(primary, 1))
    # GIVEN the primary cut from the standby AND (beyond what the drill's scenarios do) from the witness
    world.faults.cut_link(primary, standby)
    monkeypatch.setattr(world.model, "witness_reachable", lambda region: region != primary)
    assert not world.model.has_majority(primary)
    assert world.model.has_majority(standby)  # itself and the witness
    # THEN the primary's writes and strongly consistent reads fail with the modelled 5xx
    with pytest.raises(ClientError) as failed:
        world.store(primary, attempts=1).write_desired(primary, _desired(primary, 5))
    assert failed.value.response["Error"]["Code"] == NO_MAJORITY_CODE
    with pytest.raises(ClientError):
        world.store(primary, attempts=1).read_desired(primary)
    # WHEN the majority side moves on, the cut-off replica misses it
    assert world.store(standby).write_desired(standby, _desired(standby, 2))
    assert world.local_item(primary, key)["epoch"] == {"N": "1"}  # type: ignore[index]
    # AND once it has a majority again it catches up before it answers
    world.faults.cut_link(primary, standby, cut=False)
    monkeypatch.undo()
    read = world.store(primary).read_desired(primary)
    assert read is not None
    assert (read.active_region, read.epoch) == (standby, 2)


def test_a_dark_region_cannot_be_called(world: World) -> None:
    primary, standby = world.config.regions.pair
    world.faults.set(primary, dark=True)
    assert not world.model.has_majority(primary)
    with pytest.raises(EndpointConnectionError):
        world.store(standby, attempts=1).read_desired(primary)
    # the standby still has a majority (itself and the witness) and keeps writing
    assert world.store(standby).write_desired(standby, _desired(standby, 1))


def test_a_replicated_write_conflict_is_retried_by_the_controller(world: World) -> None:
    _, standby = world.config.regions.pair
    # GIVEN MRSC answers the first two writes with a conflict (another region wrote the item)
    world.throttles.throttle("PutItem", 2, code="ReplicatedWriteConflictException")
    # WHEN the controller takes the lock THEN its retry policy gets it through
    held = world.store(standby).acquire_lock(standby, holder="arn:standby:run", now=NOW, min_epoch=0)
    assert held.epoch == 1
    assert world.throttles.throttled == {"PutItem": 2}
    assert [call.operation for call in world.call_log.snapshot()].count("PutItem") == 3
