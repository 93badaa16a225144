"""The fake state store (tests/fakes.py) answers like ``DynamoStateStore`` over DynamoDB.

Every test runs the same calls against both stores: the real adapter over moto (a table per
region, as the global table has one replica per region) and ``FakeStateStore``. What the
unit tier proves on the fake holds for the adapter only as long as these pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError
from moto import mock_aws

from switchyard.adapters.state import PROMOTION_REFUSED, DynamoStateStore, LockHeldError, StateStore, from_item
from switchyard.config import EnvironmentConfig
from switchyard.contract import STATE_TABLE_KEY, Names
from switchyard.model import DesiredState
from switchyard.retry import ClientFactory, RetryPolicy
from tests.fakes import FakeStateStore

NOW = "2026-11-24T21:00:00+00:00"
LATER = "2026-11-24T21:05:00+00:00"


def _create_tables(config: EnvironmentConfig) -> None:
    for region in config.regions.pair:
        boto3.client("dynamodb", region_name=region).create_table(
            TableName=Names(config).state_table,
            KeySchema=[{"AttributeName": STATE_TABLE_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": STATE_TABLE_KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


@pytest.fixture(params=["dynamodb", "fake"])
def store(request: pytest.FixtureRequest, dev_config: EnvironmentConfig) -> Iterator[StateStore]:
    if request.param == "fake":
        yield FakeStateStore(dev_config)
        return
    with mock_aws():
        _create_tables(dev_config)
        clients = ClientFactory(retry_policy=RetryPolicy(max_attempts=1))
        yield DynamoStateStore(dev_config, clients)


@pytest.fixture
def regions(dev_config: EnvironmentConfig) -> tuple[str, str]:
    return dev_config.regions.primary, dev_config.regions.standby


def desired(active: str, epoch: int, fenced: str | None = None) -> DesiredState:
    return DesiredState(
        active_region=active, epoch=epoch, fenced_region=fenced, updated_by="test", reason="contract", updated_at=NOW
    )


def test_desired_state_refuses_an_older_epoch_and_accepts_the_same_or_newer(
    store: StateStore, regions: tuple[str, str]
) -> None:
    east, west = regions
    assert store.read_desired(east) is None
    assert store.write_desired(east, desired(east, 3)) is True
    assert store.write_desired(east, desired(west, 2, fenced=east)) is False
    assert store.read_desired(east) == desired(east, 3)
    assert store.write_desired(east, desired(west, 3, fenced=east)) is True  # equal epoch: rewritten
    assert store.write_desired(east, desired(west, 4, fenced=east)) is True
    assert store.read_desired(east) == desired(west, 4, fenced=east)
    assert store.read_desired(west) is None, "each region's replica is written on its own"


def test_lock_rules(store: StateStore, regions: tuple[str, str]) -> None:
    east, _ = regions
    first = store.acquire_lock(east, holder="run-a", now=NOW, min_epoch=4)
    assert (first.holder, first.epoch, first.held) == ("run-a", 5, True)
    assert store.acquire_lock(east, holder="run-a", now=LATER, min_epoch=9) == first  # re-acquire: same epoch
    with pytest.raises(LockHeldError) as held:
        store.acquire_lock(east, holder="run-b", now=LATER, min_epoch=0)
    assert (held.value.holder, held.value.epoch) == ("run-a", 5)
    assert store.release_lock(east, holder="run-b", now=LATER) is False  # not the holder
    assert store.release_lock(east, holder="run-a", now=LATER) is True
    assert store.release_lock(east, holder="run-a", now=LATER) is False  # released already
    released = store.read_lock(east)
    assert released is not None
    assert (released.held, released.released_at, released.epoch) == (False, LATER, 5)
    second = store.acquire_lock(east, holder="run-b", now=LATER, min_epoch=2)
    assert (second.holder, second.epoch, second.held) == ("run-b", 6, True)  # above the last epoch
    third_store_epoch = store.acquire_lock(regions[1], holder="run-c", now=LATER, min_epoch=7)
    assert third_store_epoch.epoch == 8, "a fresh replica starts from min_epoch"


def test_monitor_memory_version_check(store: StateStore, regions: tuple[str, str]) -> None:
    east, _ = regions
    assert store.read_monitor_memory(east) is None
    assert store.write_monitor_memory(east, {"failing_evaluations": 1}, read_version=0) is True
    memory = store.read_monitor_memory(east)
    assert memory == {"failing_evaluations": 1, "version": 1}
    assert store.write_monitor_memory(east, {"failing_evaluations": 9}, read_version=0) is False  # stale read
    assert store.write_monitor_memory(east, {"failing_evaluations": 2, "gone": None}, read_version=1) is True
    assert store.read_monitor_memory(east) == {"failing_evaluations": 2, "version": 2}  # None attributes dropped


def test_promotion_is_claimed_once_per_epoch_unless_refused(store: StateStore, regions: tuple[str, str]) -> None:
    _, west = regions
    record: dict[str, Any] = {"operation": "PromoteReadReplica", "outcome": "issuing", "issued_at": NOW}
    assert store.claim_promotion(west, epoch=2, record=record) is True
    assert store.claim_promotion(west, epoch=2, record=record) is False
    assert store.claim_promotion(west, epoch=3, record=record) is True  # another epoch
    store.settle_promotion(west, epoch=2, record={**record, "outcome": PROMOTION_REFUSED, "error": "throttled"})
    assert store.read_promotion(west, epoch=2) == {
        **record,
        "outcome": PROMOTION_REFUSED,
        "error": "throttled",
        "epoch": 2,
    }
    assert store.claim_promotion(west, epoch=2, record=record) is True  # refused: may be claimed again
    store.settle_promotion(west, epoch=2, record={**record, "outcome": "accepted"})
    assert store.claim_promotion(west, epoch=2, record=record) is False
    assert store.read_promotion(west, epoch=4) is None


def test_trigger_is_recorded_once_and_duplicates_counted(
    store: StateStore, regions: tuple[str, str], dev_config: EnvironmentConfig
) -> None:
    _, west = regions
    record = {"event_id": "e-1", "decision": "healthy", "reasons": ["fine"]}
    assert store.record_trigger(west, event_id="e-1", record=record, at=NOW) is True
    assert store.record_trigger(west, event_id="e-1", record={**record, "decision": "fail_over"}, at=LATER) is False
    assert store.record_trigger(west, event_id="e-1", record=record, at=LATER) is False
    assert store.record_trigger(west, event_id="e-2", record=record, at=LATER) is True
    item = read_item(store, west, Names(dev_config).trigger_key(west, "e-1"), table=Names(dev_config).state_table)
    assert item["deliveries"] == 3
    assert item["decision"] == "healthy", "a duplicate never overwrites the first record"
    assert (item["recorded_at"], item["last_delivered_at"]) == (NOW, LATER)


def read_item(store: StateStore, region: str, key: str, *, table: str) -> dict[str, Any]:
    """One item by key from either store (the port has no read of trigger records)."""
    if isinstance(store, FakeStateStore):
        return store.tables[region][key]
    response = boto3.client("dynamodb", region_name=region).get_item(
        TableName=table, Key={STATE_TABLE_KEY: {"S": key}}, ConsistentRead=True
    )
    return from_item(response["Item"])


def test_lost_writes_record_snapshot_and_acknowledgement_once_each(store: StateStore, regions: tuple[str, str]) -> None:
    east, west = regions
    assert store.record_lost_writes_snapshot(west, epoch=2, snapshot="s", at=NOW) is False  # no record yet
    assert store.acknowledge_lost_writes(west, epoch=2, by="bob", at=NOW, note="looked") is False
    record = {"old_primary": east, "replication_lag_seconds": 12.0, "accepted_lag_seconds": None}
    assert store.record_lost_writes(west, epoch=2, record=record) is True
    assert store.record_lost_writes(west, epoch=2, record={**record, "old_primary": west}) is False
    assert store.record_lost_writes_snapshot(west, epoch=2, snapshot="snap-1", at=NOW) is True
    assert store.record_lost_writes_snapshot(west, epoch=2, snapshot="snap-2", at=LATER) is False
    assert store.acknowledge_lost_writes(west, epoch=2, by="bob", at=LATER, note="reconciled") is True
    assert store.acknowledge_lost_writes(west, epoch=2, by="eve", at=LATER, note="again") is False
    assert store.record_lost_writes(west, epoch=4, record=record) is True
    assert store.read_lost_writes_record(west, epoch=2) == {
        "old_primary": east,
        "replication_lag_seconds": 12,  # a whole float reads back as an int
        "epoch": 2,
        "snapshot": "snap-1",
        "snapshot_at": NOW,
        "acknowledged_by": "bob",
        "acknowledged_at": LATER,
        "note": "reconciled",
    }
    assert [r["epoch"] for r in store.read_lost_writes(west, up_to_epoch=4)] == [2, 4]
    assert [r["epoch"] for r in store.read_lost_writes(west, up_to_epoch=3)] == [2]
    assert store.read_lost_writes(east, up_to_epoch=4) == []


def test_audit_is_appended_once_and_heartbeats_are_per_replica(store: StateStore, regions: tuple[str, str]) -> None:
    east, west = regions
    assert store.append_audit(west, execution="arn:x", record={"outcome": "succeeded"}) is True
    assert store.append_audit(west, execution="arn:x", record={"outcome": "needs_human"}) is False
    audit = store.read_audit(west, execution="arn:x")
    assert audit is not None
    assert audit["outcome"] == "succeeded"
    assert store.read_audit(east, execution="arn:x") is None
    store.write_heartbeat(east, at=NOW)
    store.write_heartbeat(east, at=LATER)
    assert store.read_heartbeat(east, of_region=east) == LATER
    assert store.read_heartbeat(west, of_region=east) is None  # not replicated by either store


def test_unreachable_region_raises_a_botocore_error_on_the_fake(dev_config: EnvironmentConfig) -> None:
    """The fake's outage raises what boto3 raises for a dark endpoint (the controller's
    handlers catch ClientError/BotoCoreError); the other region still answers."""
    fake = FakeStateStore(dev_config)
    east, west = dev_config.regions.pair
    fake.make_unreachable(east)
    with pytest.raises((BotoCoreError, ClientError)):
        fake.read_desired(east)
    with pytest.raises(BotoCoreError):
        fake.write_heartbeat(east, at=NOW)
    assert fake.read_desired(west) is None
    fake.make_reachable(east)
    assert fake.read_desired(east) is None
