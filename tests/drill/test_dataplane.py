"""The drill's database stand-in: asynchronous replication, fencing and promotion."""

from __future__ import annotations

import pytest

from drill.dataplane import ReplicatedDatabase, WriteRejectedError


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def database(clock: FakeClock) -> ReplicatedDatabase:
    return ReplicatedDatabase(primary="a", standby="b", replication_lag_seconds=1.0, clock=clock)


def test_replica_applies_writes_only_after_the_lag(database: ReplicatedDatabase, clock: FakeClock) -> None:
    database.write(1, region="a")
    clock.now = 0.5
    database.replicate()
    assert 1 not in database.stores["b"].applied
    assert database.lag_seconds() == 0.5
    clock.now = 1.0
    database.replicate()
    assert 1 in database.stores["b"].applied
    assert database.lag_seconds() == 0.0


def test_replica_rejects_writes(database: ReplicatedDatabase) -> None:
    with pytest.raises(WriteRejectedError, match="read-only"):
        database.write(1, region="b")


def test_promotion_with_writes_in_flight_loses_exactly_those(database: ReplicatedDatabase, clock: FakeClock) -> None:
    # GIVEN three acknowledged writes, one replicated
    database.write(1, region="a")
    clock.now = 2.0
    database.replicate()
    database.write(2, region="a")
    database.write(3, region="a")
    # WHEN the primary goes dark and the standby is promoted
    database.set_reachable("a", False)
    database.promote("b")
    # THEN the two writes still in flight are the loss
    assert database.writer_region == "b"
    assert database.lost({1, 2, 3}) == [2, 3]


def test_switchover_catch_up_loses_nothing(database: ReplicatedDatabase) -> None:
    for sequence in range(5):
        database.write(sequence, region="a")
    assert database.fence("a")
    database.catch_up()
    database.promote("b")
    assert database.lost(set(range(5))) == []
    with pytest.raises(WriteRejectedError):
        database.write(99, region="a")


def test_aurora_switchover_demotes_then_synchronizes_and_loses_nothing(
    database: ReplicatedDatabase, clock: FakeClock
) -> None:
    # GIVEN writes in flight on the writer (none replicated yet)
    for sequence in range(5):
        database.write(sequence, region="a")
    # WHEN Aurora switches over to b (SwitchoverGlobalCluster)
    database.switch_over("b")
    # THEN nothing acknowledged is lost, the old writer rejects writes, and it replicates from b
    assert database.writer_region == "b"
    assert database.lost(set(range(5))) == []
    with pytest.raises(WriteRejectedError, match="read-only"):
        database.write(99, region="a")
    database.write(5, region="b")
    clock.now = 5.0
    database.replicate()
    assert 5 in database.stores["a"].applied


def test_a_replica_promotion_leaves_the_old_writer_writable(database: ReplicatedDatabase) -> None:
    # GIVEN an RDS-style promotion of b while a is reachable (no database fence)
    database.promote("b")
    # WHEN a write still reaches a  THEN a acknowledges it and b never gets it: the loss RDS
    # promotion risks until the old primary is fenced at the database
    database.write(7, region="a")
    assert database.lost({7}) == [7]


def test_fencing_a_dark_region_reports_failure(database: ReplicatedDatabase) -> None:
    database.set_reachable("a", False)
    assert database.fence("a") is False
    assert database.lag_seconds() is None


def test_rejoin_makes_the_old_writer_a_replica_again(database: ReplicatedDatabase, clock: FakeClock) -> None:
    database.write(1, region="a")
    database.catch_up()
    database.promote("b")
    database.write(2, region="b")
    database.rejoin_as_replica("a")
    clock.now = 5.0
    database.write(3, region="b")
    clock.now = 10.0
    database.replicate()
    assert set(database.stores["a"].applied) == {1, 2, 3}
    with pytest.raises(ValueError, match="is the writer"):
        database.rejoin_as_replica("b")


def test_last_known_lag_survives_the_writer_going_dark(database: ReplicatedDatabase, clock: FakeClock) -> None:
    database.write(1, region="a")
    clock.now = 0.4
    database.replicate()
    database.set_reachable("a", False)
    clock.now = 30.0
    database.replicate()
    assert database.lag_seconds() is None
    assert database.last_known_lag_seconds == pytest.approx(0.4)
