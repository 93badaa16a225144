"""``switchyard acknowledge-lost-writes``: after a data-losing failover (dev's RDS replica
promotion always is one), an operator records, as their AWS identity, that the old
primary's lost writes were dealt with; failback waits for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from switchyard.adapters.state import DynamoStateStore
from switchyard.config import load_environment
from switchyard.retry import ClientFactory
from switchyard_cli.cli import ExitCode
from tests.cli.conftest import cli, failover, signed_in_as
from tests.statemachine.conftest import RunbookWorld, runbook_world

STANDBY = "us-west-2"


@dataclass(frozen=True)
class AfterDataLosingFailover:
    world: RunbookWorld
    store: DynamoStateStore
    epoch: int


@pytest.fixture(scope="module")
def after() -> Iterator[AfterDataLosingFailover]:
    config = load_environment("dev")
    with runbook_world(config, config.regions.standby) as world, world.handlers():
        with signed_in_as("alice"):
            code, out = cli(*failover("--yes", incident="INC-77"))
        assert code == ExitCode.OK, out
        desired = world.desired()
        assert desired is not None
        yield AfterDataLosingFailover(world, DynamoStateStore(config, ClientFactory()), desired.epoch)


def acknowledge(epoch: int | str, *extra: str) -> list[str]:
    return ["acknowledge-lost-writes", "--env", "dev", "--epoch", str(epoch), "--note", "merged by hand", *extra]


def test_the_failover_left_an_unacknowledged_record(after: AfterDataLosingFailover) -> None:
    record = after.store.read_lost_writes_record(STANDBY, epoch=after.epoch)
    assert record is not None
    assert record["old_primary"] == "us-east-1"
    assert "acknowledged_by" not in record


def test_an_epoch_without_a_record_is_refused_with_nothing_to_acknowledge(after: AfterDataLosingFailover) -> None:
    with signed_in_as("bob"):
        code, out = cli(*acknowledge(after.epoch + 5, "--yes"))
    assert code == ExitCode.USAGE
    assert f"nothing to acknowledge: no failover at epoch {after.epoch + 5} in dev recorded lost writes" in out


@pytest.mark.parametrize(("epoch", "problem"), [(0, "--epoch must be 1 or more"), ("x", "invalid int value")])
def test_a_bad_epoch_is_refused_before_any_call(after: AfterDataLosingFailover, epoch: int | str, problem: str) -> None:
    if epoch == "x":
        with pytest.raises(SystemExit) as exited:
            cli(*acknowledge("x", "--yes"))
        assert exited.value.code == ExitCode.USAGE
        return
    code, out = cli(*acknowledge(epoch, "--yes"))
    assert code == ExitCode.USAGE
    assert problem in out


def test_an_old_primary_not_yet_snapshotted_is_refused_unless_said_otherwise(after: AfterDataLosingFailover) -> None:
    with signed_in_as("bob"):
        code, out = cli(*acknowledge(after.epoch, "--yes"))
    assert code == ExitCode.USAGE
    assert "has not been snapshotted yet" in out
    assert "--without-snapshot" in out
    record = after.store.read_lost_writes_record(STANDBY, epoch=after.epoch)
    assert record is not None
    assert "acknowledged_by" not in record


def test_acknowledging_records_the_callers_identity_once(after: AfterDataLosingFailover) -> None:
    # GIVEN the old primary's snapshot recorded (what its reconciler does when the region is back)
    assert after.store.record_lost_writes_snapshot(STANDBY, epoch=after.epoch, snapshot="snap-1", at="now")
    # WHEN bob acknowledges
    with signed_in_as("bob") as bob:
        code, out = cli(*acknowledge(after.epoch, "--yes"))
    # THEN the record carries bob's identity from his credentials, when, and the note
    assert code == ExitCode.OK, out
    assert f"acknowledged the lost writes of epoch {after.epoch} as {bob}" in out
    record = after.store.read_lost_writes_record(STANDBY, epoch=after.epoch)
    assert record is not None
    assert (record["acknowledged_by"], record["note"], record["snapshot"]) == (bob, "merged by hand", "snap-1")
    assert record["acknowledged_at"]
    # AND a second acknowledgement is refused, naming the first
    with signed_in_as("carol"):
        again, out = cli(*acknowledge(after.epoch, "--yes"))
    assert again == ExitCode.USAGE
    assert f"were acknowledged by {bob}" in out
