"""The drill's Route 53 failover model and workload."""

from __future__ import annotations

import pytest

from drill.dataplane import ReplicatedDatabase
from drill.workload import Workload
from drill.world import Faults, Route53FailoverModel
from switchyard.config import EnvironmentConfig


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _model(config: EnvironmentConfig, faults: Faults, active: str) -> Route53FailoverModel:
    return Route53FailoverModel(config, faults, switch_on=lambda region: region == active)


def test_primary_answers_while_healthy_and_active(dev_config: EnvironmentConfig) -> None:
    model = _model(dev_config, Faults(), active=dev_config.regions.primary)
    assert model.resolve() == dev_config.regions.primary


def test_dark_primary_with_switch_on_standby_resolves_to_standby(dev_config: EnvironmentConfig) -> None:
    faults = Faults()
    faults.set(dev_config.regions.primary, dark=True)
    model = _model(dev_config, faults, active=dev_config.regions.standby)
    assert model.resolve() == dev_config.regions.standby


def test_both_unhealthy_fails_open_to_primary(dev_config: EnvironmentConfig) -> None:
    # GIVEN the primary is dark and the standby's switch is still off (no failover yet)
    faults = Faults()
    faults.set(dev_config.regions.primary, dark=True)
    model = _model(dev_config, faults, active=dev_config.regions.primary)
    # THEN Route 53 keeps answering the PRIMARY record
    assert model.resolve() == dev_config.regions.primary


def test_unknown_fault_is_rejected() -> None:
    with pytest.raises(AttributeError, match="no fault 'melted'"):
        Faults().set("us-east-1", melted=True)


def test_workload_counts_acknowledged_and_records_which_region_answered(dev_config: EnvironmentConfig) -> None:
    clock = Clock()
    primary, standby = dev_config.regions.pair
    database = ReplicatedDatabase(primary=primary, standby=standby, replication_lag_seconds=0, clock=clock)
    faults = Faults()
    answer = {"region": primary}
    workload = Workload(database=database, resolve=lambda: answer["region"], faults=faults, clock=clock)
    workload.tick()
    workload.tick()
    # WHEN traffic moves to the standby before its database is promoted
    clock.now = 10
    answer["region"] = standby
    workload.tick()
    assert workload.acknowledged_snapshot() == {0, 1}
    assert workload.rejected == 1
    assert workload.first_answer_from(standby, after=5) == 10
    assert workload.first_answer_from(standby, after=11) is None
