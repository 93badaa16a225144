"""GIVEN the watched region's checks and alarms WHEN the monitor gathers signals THEN it
reads the load balancer's Route 53 check (through the API and through the sentinel's DNS
answer), the health alarms and its probe, and an unreadable source is missing data."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from drill.provision import set_alarm_state
from switchyard.adapters.health import AwsHealthSignals, DnsVerdictResolver
from switchyard.contract import VERDICT_HEALTHY_ADDRESS, VERDICT_UNHEALTHY_ADDRESS
from switchyard.decision import GLOBAL_OBSERVER, SignalSource
from tests.controller.conftest import Controller, StaticProbe
from tests.controller.local_https import LOOPBACK, resolve_loopback_only


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test here sends a DNS query: the sentinel's name does not resolve unless a test says so."""
    resolve_loopback_only(monkeypatch)


def with_sentinel(ctl: Controller, answers: dict[str, frozenset[str] | None]) -> AwsHealthSignals:
    """The standby's health signals, the sentinel's names answering ``answers`` (others: no answer)."""
    clients = ctl.deps(ctl.config.regions.standby).clients

    def resolve(name: str) -> frozenset[str] | None:
        return answers.get(name)

    return AwsHealthSignals(ctl.config, clients, StaticProbe(healthy=True), ctl.clock, resolve=resolve)


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
    assert [name for name in signals if name.startswith("route53:")] == [f"route53:{load_balancer_check}"]
    # AND the sentinel's DNS answer is the second reading of Route 53, missing here (its name does not resolve)
    sentinel = signals[f"route53-dns:{rds.topology.names.verdict_record(primary)}"]
    assert (sentinel.source, sentinel.observed_from, sentinel.failing) == (SignalSource.ROUTE53, GLOBAL_OBSERVER, None)
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


@pytest.mark.parametrize(
    ("answer", "failing"),
    [
        (frozenset({VERDICT_HEALTHY_ADDRESS}), False),
        (frozenset({VERDICT_UNHEALTHY_ADDRESS}), True),
        (frozenset({VERDICT_HEALTHY_ADDRESS, VERDICT_UNHEALTHY_ADDRESS}), None),  # not what the records answer
        (frozenset({"203.0.113.9"}), None),  # a stranger's answer (a wildcard, a hijack): not a verdict
        (None, None),  # no answer in time, NXDOMAIN
    ],
)
def test_the_sentinels_dns_answer_is_route53s_verdict(
    rds: Controller, answer: frozenset[str] | None, failing: bool | None
) -> None:
    # GIVEN the primary's sentinel name answering ``answer``
    primary = rds.config.regions.primary
    health = with_sentinel(rds, {rds.topology.names.verdict_record(primary): answer})

    # WHEN the standby reads it
    signal = health.route53_verdict_signal(primary)

    # THEN healthy/unhealthy addresses are Route 53's verdict seen from outside; anything else is missing data
    assert (signal.source, signal.observed_from, signal.failing) == (SignalSource.ROUTE53, GLOBAL_OBSERVER, failing)
    assert (signal.observed_at is None) == (failing is None)


def test_the_target_is_judged_by_route53_and_its_own_alarms_not_by_the_probe(rds: Controller) -> None:
    # GIVEN the standby's own load balancer alarm in ALARM and Route 53 answering "unhealthy" for it
    standby = rds.config.regions.standby
    set_alarm_state(rds.config, standby, "unhealthy-hosts", "ALARM")
    health = with_sentinel(rds, {rds.topology.names.verdict_record(standby): frozenset({VERDICT_UNHEALTHY_ADDRESS})})

    # WHEN the standby's monitor reads its own health as the target
    signals = {signal.name: signal for signal in health.target_signals(standby)}

    # THEN it has Route 53's two readings and its own alarms (read in its own region), and no probe
    assert "probe" not in signals
    assert {signal.source for signal in signals.values()} == {SignalSource.ROUTE53, SignalSource.ALARMS}
    assert signals["alarm:unhealthy-hosts"].failing is True
    assert signals["alarm:unhealthy-hosts"].observed_from == standby
    assert signals[f"route53-dns:{rds.topology.names.verdict_record(standby)}"].failing is True


def test_the_dns_lookup_is_bounded_by_its_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a resolver that takes two seconds to answer
    def slow(*_: Any, **__: Any) -> Any:
        time.sleep(2)
        raise socket.gaierror(socket.EAI_AGAIN, "too late")

    monkeypatch.setattr(socket, "getaddrinfo", slow)

    # WHEN the sentinel is resolved with a 0.1 s budget
    started = time.monotonic()
    answer = DnsVerdictResolver(timeout_seconds=0.1)("r53-verdict-orders-us-east-1.dev.example.com")

    # THEN no answer (missing data), well within the budget's order of magnitude
    assert answer is None
    assert time.monotonic() - started < 1.0


def test_the_dns_lookup_returns_the_addresses_a_name_resolves_to() -> None:
    # GIVEN the loopback address (the only name tests resolve) WHEN looked up THEN its address comes back
    assert DnsVerdictResolver()(LOOPBACK) == frozenset({LOOPBACK})
