"""The never-two-writers checker (drill.invariants) and what feeds it: the data plane
records each acknowledged write with the writer of that instant, and the stale client's
writes go through the old primary's app tier."""

from __future__ import annotations

from drill.dataplane import AcknowledgedWrite, ReplicatedDatabase
from drill.invariants import WriterHistory, WriterSample, check
from drill.workload import Workload
from drill.world import Faults


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _history(*samples: WriterSample) -> WriterHistory:
    history = WriterHistory()
    for sample in samples:
        history.record(sample)
    return history


def test_the_history_keeps_only_changes_but_counts_every_sample() -> None:
    one = WriterSample(0.0, ("a",), ("a",), ("a",))
    history = _history(one, WriterSample(1.0, ("a",), ("a",), ("a",)), WriterSample(2.0, (), ("a",), ()))
    assert history.samples == 3
    assert [sample.at for sample in history.snapshot()] == [0.0, 2.0]


def test_a_clean_failover_holds() -> None:
    history = _history(
        WriterSample(0.0, ("a",), ("a",), ("a",)),
        WriterSample(1.0, (), (), ()),
        WriterSample(2.0, ("b",), ("b",), ("b",)),
    )
    verdict = check(history.snapshot(), [AcknowledgedWrite(1, "a", "a", 0.5)], samples=history.samples, end=3.0)
    assert verdict.passed, verdict.detail()


def test_two_databases_accepting_writes_is_a_violation() -> None:
    history = _history(WriterSample(0.0, ("a", "b"), ("a", "b"), ("a", "b")))
    verdict = check(history.snapshot(), [], samples=1, end=1.0)
    assert not verdict.passed
    assert (verdict.max_active_regions, verdict.max_accepting_databases) == (2, 2)


def test_a_returning_engine_that_no_client_can_reach_is_reported_not_failed() -> None:
    # the old primary is writable at the engine level for 2 s, but its app tier refuses
    history = _history(
        WriterSample(0.0, ("b",), ("b",), ("b",)),
        WriterSample(5.0, ("b",), ("a", "b"), ("b",)),
        WriterSample(7.0, ("b",), ("b",), ("b",)),
    )
    verdict = check(history.snapshot(), [], samples=3, end=9.0)
    assert verdict.passed
    assert verdict.max_writable_databases == 2
    assert verdict.two_engines_writable_seconds == 2.0


def test_a_write_taken_by_a_database_that_was_not_the_writer_is_a_violation() -> None:
    verdict = check([], [AcknowledgedWrite(7, region="a", writer="b", at=1.0)], samples=0, end=1.0)
    assert not verdict.passed
    assert "#7 taken by a while b was the writer" in verdict.detail()


def test_the_data_plane_records_the_writer_of_each_acknowledged_write() -> None:
    database = ReplicatedDatabase(primary="a", standby="b", replication_lag_seconds=1.0, clock=Clock())
    database.write(1, region="a")
    database.promote("b")  # "a" was never fenced: it still takes writes, as an unfenced RDS primary would
    database.write(2, region="a")
    database.write(3, region="b")
    assert [(w.sequence, w.region, w.writer) for w in database.acknowledged_writes_snapshot()] == [
        (1, "a", "a"),
        (2, "a", "b"),
        (3, "b", "b"),
    ]
    assert database.writable_regions() == ("a", "b")
    assert check([], database.acknowledged_writes_snapshot(), samples=0, end=1.0).writes_by_non_writer[0].sequence == 2


def test_the_stale_client_writes_through_the_old_primarys_app_tier() -> None:
    clock = Clock()
    database = ReplicatedDatabase(primary="a", standby="b", replication_lag_seconds=0.0, clock=clock)
    active = {"a"}
    workload = Workload(database, resolve=lambda: "a", faults=Faults(), clock=clock, accepts=lambda r: r in active)
    workload.start_stale_client("a")
    workload.tick()
    assert len(workload.stale_acknowledged) == 1  # "a" still serves: the stale write is a normal write
    active.clear()
    active.add("b")  # the switch of "a" now says off: its app tier refuses, whatever the engine would take
    workload.tick()
    assert workload.stale_attempts == 2
    assert len(workload.stale_acknowledged) == 1


def test_the_loss_window_counts_writes_lost_after_the_fault() -> None:
    clock = Clock()
    database = ReplicatedDatabase(primary="a", standby="b", replication_lag_seconds=0.0, clock=clock)
    workload = Workload(database, resolve=lambda: "a", faults=Faults(), clock=clock)
    workload.acknowledged.update({1: 9.5, 2: 14.0})
    assert workload.loss_window([1], fault_at=10.0) == 0.5
    assert workload.loss_window([1, 2], fault_at=10.0) == 4.5  # up to the newest lost write, after the fault
