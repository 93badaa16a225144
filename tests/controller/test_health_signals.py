"""GIVEN the watched region's checks and alarms WHEN the monitor gathers signals THEN it
reads the load balancer's Route 53 check, the health alarms and its probe, and an
unreadable source is missing data."""

from __future__ import annotations

from drill.provision import set_alarm_state
from switchyard.adapters.health import AwsHealthSignals
from switchyard.decision import GLOBAL_OBSERVER, SignalSource
from tests.controller.conftest import Controller, StaticProbe


def test_signals_come_from_the_load_balancer_check_the_alarms_and_the_probe(rds: Controller) -> None:
    # GIVEN the primary's ALB alarm fires and the standby's probe fails
    primary, standby = rds.config.regions.pair
    set_alarm_state(rds.config, primary, "alb-5xx", "ALARM")
    deps = rds.deps(standby, probe=StaticProbe(healthy=False))

    # WHEN the standby observes the primary
    signals = {signal.name: signal for signal in deps.health.observe(primary, observer_region=standby)}

    # THEN Route 53 (moto: always Success) reads healthy from outside, on the load balancer's check only
    load_balancer_check = rds.topology.health_check_ids[primary][0]
    route53 = signals[f"route53:{load_balancer_check}"]
    assert (route53.source, route53.observed_from, route53.failing) == (SignalSource.ROUTE53, GLOBAL_OBSERVER, False)
    assert [name for name in signals if name.startswith("route53")] == [f"route53:{load_balancer_check}"]
    # AND the alarm and the probe fail, the probe as seen from the standby
    assert signals["alarm:alb-5xx"].failing is True
    assert signals["alarm:unhealthy-hosts"].failing is False
    assert (signals["probe"].failing, signals["probe"].observed_from) == (True, standby)


def test_an_unreachable_region_yields_missing_alarm_signals(rds: Controller) -> None:
    # GIVEN the primary region's APIs cannot be reached
    primary, standby = rds.config.regions.pair
    rds.outage(primary)
    deps = rds.deps(standby)

    # WHEN the standby reads the primary's alarms THEN they are missing, not failing
    assert isinstance(deps.health, AwsHealthSignals)
    signals = deps.health.alarm_signals(primary)
    assert signals
    assert {signal.failing for signal in signals} == {None}


def test_preflight_finds_all_three_health_checks_of_the_target(rds: Controller) -> None:
    # GIVEN the provisioned checks WHEN the standby's checks are listed THEN all three are there
    checks = rds.deps().health.health_checks(rds.config.regions.standby)
    assert set(checks) == {"load-balancer", "traffic-switch", "region"}
    assert sorted(checks.values()) == sorted(rds.topology.health_check_ids[rds.config.regions.standby])


def test_health_checks_are_looked_up_once_per_container(rds: Controller) -> None:
    # GIVEN one container's deps WHEN the monitor observes the primary twice
    primary, standby = rds.config.regions.pair
    deps = rds.deps(standby)
    deps.health.observe(primary, observer_region=standby)
    deps.health.observe(primary, observer_region=standby)

    # THEN Route 53's rate-limited listing ran once, the status read twice
    operations = rds.call_log.operations()
    assert operations.count("ListHealthChecks") == 1
    assert operations.count("GetHealthCheckStatus") == 2
