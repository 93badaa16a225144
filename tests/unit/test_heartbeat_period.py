"""The heartbeat's period (switchyard.heartbeat): the monitor beats every HEARTBEAT_SECONDS
while it sleeps between sub-minute evaluations, so the RPO gate adds one second of margin for
the writes the old primary may have committed after its last heartbeat, not one evaluation
interval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from switchyard.adapters.database import DatabaseStatus
from switchyard.config import EnvironmentConfig
from switchyard.contract import HEARTBEAT_SECONDS
from switchyard.heartbeat import heartbeat_period_seconds, sleep_beating
from switchyard.steps.gates import target_loss_bound
from tests.fakes import Fakes
from tests.unit.test_monitor_cadence import with_interval


@pytest.mark.parametrize(
    ("interval", "period"), [(5, HEARTBEAT_SECONDS), (30, HEARTBEAT_SECONDS), (60, 60), (120, 120)]
)
def test_the_period_is_a_second_below_a_minute_and_the_interval_from_a_minute_on(
    dev_config: EnvironmentConfig, interval: int, period: int
) -> None:
    # GIVEN an evaluation interval  THEN the heartbeat's period: the beats while the monitor
    # sleeps below a minute; one per invocation when the schedule itself is the interval
    assert heartbeat_period_seconds(with_interval(dev_config, interval).detection) == period


def test_sleeping_beats_every_second_and_ends_on_time(dev_config: EnvironmentConfig) -> None:
    # GIVEN the monitor's deps on a clock that its sleep advances
    fakes = Fakes(dev_config)
    region = dev_config.regions.standby
    written: list[str | None] = []

    def sleep(seconds: float) -> None:
        fakes.clock.advance(seconds)

    deps = fakes.deps(region, sleep=sleep)
    start = fakes.clock()

    # WHEN it sleeps 4.5 s between two evaluations, noting the heartbeat after each step
    original = fakes.state.write_heartbeat

    def noting(region_: str, *, at: str) -> None:
        original(region_, at=at)
        written.append(at)

    fakes.state.write_heartbeat = noting  # type: ignore[method-assign,assignment]
    errors = sleep_beating(deps, 4.5)

    # THEN it wrote the heartbeat at +1, +2, +3 and +4 s and woke at +4.5 s
    assert errors == []
    assert written == [(start + timedelta(seconds=second)).isoformat() for second in (1, 2, 3, 4)]
    assert fakes.clock() == start + timedelta(seconds=4.5)


def test_a_failed_beat_is_reported_and_the_sleep_goes_on(dev_config: EnvironmentConfig) -> None:
    # GIVEN a state table that refuses every heartbeat write
    fakes = Fakes(dev_config)
    deps = fakes.deps(dev_config.regions.standby, sleep=fakes.clock.advance)
    start = fakes.clock()

    def refuse(region: str, *, at: str) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutItem")

    fakes.state.write_heartbeat = refuse  # type: ignore[method-assign]

    # WHEN the monitor sleeps 3 s
    errors = sleep_beating(deps, 3.0)

    # THEN each failed beat is reported by its code, and the sleep still lasted 3 s
    assert len(errors) == 2
    assert all(error.startswith("ThrottlingException") for error in errors)
    assert fakes.clock() == start + timedelta(seconds=3)


def test_a_clock_that_does_not_move_cannot_keep_it_beating(dev_config: EnvironmentConfig) -> None:
    # GIVEN a sleep that does not advance the clock (a fake)
    fakes = Fakes(dev_config)
    slept: list[float] = []
    deps = fakes.deps(dev_config.regions.standby, sleep=slept.append)

    # WHEN it sleeps 3 s  THEN it stops after at most one beat per second of the request
    sleep_beating(deps, 3.0)
    assert len(slept) <= 4


def test_the_rpo_bound_adds_the_heartbeat_period_not_the_evaluation_interval(prod_config: EnvironmentConfig) -> None:
    # GIVEN prod (evaluations every 5 s), the old primary's last heartbeat at T, and a
    # datapoint 30 s later whose lag (30.5 s) says the replica replayed up to T - 0.5 s
    fakes = Fakes(prod_config)
    primary, standby = prod_config.regions.pair
    last_seen = fakes.clock()
    fakes.state.write_heartbeat(primary, at=last_seen.isoformat())
    fakes.state.replicate(fakes.state.names.heartbeat_key(primary), source=primary, into=standby)
    target = DatabaseStatus(
        region=standby,
        identifier="orders-secondary",
        exists=True,
        available=True,
        writable=False,
        replication_lag_seconds=30.5,
        status="available",
        replication_lag_observed_at=last_seen + timedelta(seconds=30),
    )

    # WHEN the gate bounds the loss
    bound = target_loss_bound(fakes.deps(standby), target, primary)

    # THEN it is the half second not replayed plus one heartbeat period (1 s), not plus 5 s
    assert bound.seconds == pytest.approx(0.5 + HEARTBEAT_SECONDS)
    assert bound.seconds is not None
    assert bound.seconds <= prod_config.rpo_budget_seconds
