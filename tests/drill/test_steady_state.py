"""The drill's steady-state signal: the workload counts each region's requests as the
application would publish them, and the database-outage scenario's detection check reads
the decision's failing signals (deep checks and the steady-state alarm, never the shallow one)."""

from __future__ import annotations

import dataclasses

import pytest

from drill.dataplane import ReplicatedDatabase
from drill.scenarios import Outcome, detected_through_deep_check_and_steady_state
from drill.workload import Workload
from drill.world import Faults
from switchyard.config import EnvironmentConfig


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _workload(config: EnvironmentConfig, faults: Faults) -> Workload:
    clock = Clock()
    primary, standby = config.regions.pair
    database = ReplicatedDatabase(primary=primary, standby=standby, replication_lag_seconds=0, clock=clock)
    return Workload(database=database, resolve=lambda: primary, faults=faults, clock=clock)


def test_requests_count_as_succeeded_while_the_deep_check_passes(dev_config: EnvironmentConfig) -> None:
    # GIVEN a healthy primary  WHEN the workload sends three requests
    workload = _workload(dev_config, Faults())
    for _ in range(3):
        workload.tick()
    # THEN the primary's application counts three successes, and the counts start again once taken
    counts = workload.take_request_counts()[dev_config.regions.primary]
    assert (counts.succeeded, counts.failed, counts.success_percent) == (3, 0, 100.0)
    assert workload.take_request_counts() == {}


def test_requests_fail_in_a_region_whose_database_is_down(dev_config: EnvironmentConfig) -> None:
    # GIVEN the primary's database is down (its instances still run and answer)
    faults = Faults()
    faults.set(dev_config.regions.primary, database_down=True)
    workload = _workload(dev_config, faults)
    # WHEN the workload sends requests there
    for _ in range(4):
        workload.tick()
    # THEN each is a failed request in the primary's counts (the application answered 5xx)
    counts = workload.take_request_counts()[dev_config.regions.primary]
    assert (counts.succeeded, counts.failed, counts.success_percent) == (0, 4, 0.0)
    assert faults.instances_healthy(dev_config.regions.primary)
    assert not faults.endpoint_healthy(dev_config.regions.primary)


def test_a_dark_region_publishes_no_counts(dev_config: EnvironmentConfig) -> None:
    # GIVEN a dark primary  WHEN requests time out against it  THEN nothing is counted (nothing publishes)
    faults = Faults()
    faults.set(dev_config.regions.primary, dark=True)
    workload = _workload(dev_config, faults)
    workload.tick()
    assert workload.take_request_counts() == {}
    assert not faults.instances_healthy(dev_config.regions.primary)


DEEP_AND_STEADY = (
    "alarm:database-unavailable",
    "alarm:steady-state",
    "probe",
    "route53:0123",
)


@pytest.mark.parametrize(
    ("decided_on", "passed"),
    [
        (DEEP_AND_STEADY, True),
        (tuple(name for name in DEEP_AND_STEADY if name != "alarm:steady-state"), False),  # no steady state
        (("alarm:database-unavailable", "alarm:steady-state"), False),  # no deep check
        ((*DEEP_AND_STEADY, "alarm:unhealthy-hosts"), False),  # the shallow check failed too
        ((), False),  # no decision
    ],
)
def test_the_detection_check_needs_the_deep_check_and_the_steady_state_but_not_the_shallow_one(
    dev_config: EnvironmentConfig, decided_on: tuple[str, ...], passed: bool
) -> None:
    # GIVEN the failing signals of the deciding evaluation  THEN the check passes only as documented
    outcome = Outcome(
        config=dev_config,
        runs=[],
        run_errors=[],
        active_region_after=dev_config.regions.standby,
        answering_region_after=dev_config.regions.standby,
        acknowledged=0,
        lost=[],
        loss_window_seconds=None,
        traffic_moved_at=None,
        notified_human=False,
    )
    expectation = detected_through_deep_check_and_steady_state(dataclasses.replace(outcome, decided_on=decided_on))
    assert expectation.passed is passed
    assert str(list(decided_on) or "no decision") in expectation.detail
