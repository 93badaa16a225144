"""GIVEN the real monitor over the provisioned world WHEN a partition, a sick target, or a
failing active region with nothing to fail over to is evaluated THEN it never fails a healthy
region over, never fails over into a failing region, and pages a human once per episode.

Route 53's verdicts are stated per test (``tests.controller.route53_verdicts``: moto says
"Success" for every check and resolves no name); alarms, the desired state, the heartbeat
and every other read are the controller's own calls against moto, checked against the
monitor's IAM policy at teardown (its own region's alarms included)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from drill.provision import set_alarm_state
from switchyard.deps import RunbookDeps
from switchyard.model import Decision, DesiredState
from switchyard.monitor import ACTIVE_UNHEALTHY_NO_TARGET, BOTH_REGIONS_UNHEALTHY
from tests.controller.conftest import Controller, StaticProbe
from tests.controller.local_https import resolve_loopback_only
from tests.controller.route53_verdicts import route53_sees


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve_loopback_only(monkeypatch)


@dataclass
class RecordingNotifier:
    """The notifier, recording pages instead of publishing them (the kinds are what matter here)."""

    pages: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, region: str, *, subject: str, message: dict[str, Any]) -> str:
        self.pages.append({"region": region, "subject": subject, **message})
        return f"message-{len(self.pages)}"


def monitor_deps(
    ctl: Controller, region: str, *, probe_healthy: bool, verdicts: dict[str, bool | None]
) -> tuple[RunbookDeps, RecordingNotifier]:
    notifier = RecordingNotifier()
    probe = StaticProbe(healthy=probe_healthy)
    return route53_sees(ctl.deps(region, probe=probe, notifier=notifier), probe, verdicts), notifier


def test_a_partition_between_the_regions_never_fails_the_healthy_primary_over(rds: Controller) -> None:
    # GIVEN only the link between the regions is cut: the standby's probe fails, the primary's heartbeat
    # stops arriving, while Route 53's checkers (outside both regions) still see the primary healthy
    primary, standby = rds.config.regions.pair
    arn = rds.state_machine(standby)
    rds.replicate_heartbeat(primary, into=standby)
    rds.clock.advance(10 * 60)
    deps, notifier = monitor_deps(rds, standby, probe_healthy=False, verdicts={primary: False})

    # WHEN the standby's monitor evaluates for ten minutes
    outcomes = rds.evaluate(deps, 10)

    # THEN no failover and no runbook: the healthy outside verdict vetoes, and says so
    assert {outcome["decision"] for outcome in outcomes} == {Decision.DEGRADED}
    assert rds.executions(arn, standby) == []
    assert f"Route 53's checkers see {primary} healthy" in outcomes[-1]["reasons"][-1]
    assert notifier.pages == []


def test_a_partition_with_route53_unreadable_is_still_no_quorum(rds: Controller) -> None:
    # GIVEN the same partition, and Route 53's verdict unreadable both ways (no veto to lean on)
    primary, standby = rds.config.regions.pair
    arn = rds.state_machine(standby)
    rds.replicate_heartbeat(primary, into=standby)
    rds.clock.advance(10 * 60)
    deps, _ = monitor_deps(rds, standby, probe_healthy=False, verdicts={primary: None})

    # WHEN evaluated for ten minutes THEN probe + stale heartbeat never make a quorum
    outcomes = rds.evaluate(deps, 10)
    assert Decision.FAIL_OVER not in {outcome["decision"] for outcome in outcomes}
    assert rds.executions(arn, standby) == []


def test_both_regions_unhealthy_starts_nothing_and_pages_once(rds: Controller) -> None:
    # GIVEN the primary failing (alarms, Route 53, probe) and the standby's own load balancer alarm in ALARM
    primary, standby = rds.config.regions.pair
    arn = rds.state_machine(standby)
    rds.alarm_everything(primary)
    rds.alarm_everything(standby, "OK")
    set_alarm_state(rds.config, standby, "unhealthy-hosts", "ALARM")
    deps, notifier = monitor_deps(rds, standby, probe_healthy=False, verdicts={primary: True})

    # WHEN the standby's monitor evaluates for six minutes
    outcomes = rds.evaluate(deps, 6)

    # THEN once the failure is confirmed the decision is BOTH_UNHEALTHY, never FAIL_OVER, and no runbook starts
    decisions = [outcome["decision"] for outcome in outcomes]
    assert Decision.FAIL_OVER not in decisions
    assert decisions[-1] == Decision.BOTH_UNHEALTHY
    assert rds.executions(arn, standby) == []
    # AND a human is paged exactly once for the episode, naming both regions
    [page] = notifier.pages
    assert (page["kind"], page["watched_region"], page["other_region"]) == (BOTH_REGIONS_UNHEALTHY, primary, standby)
    assert "alarm:unhealthy-hosts" in page["reasons"][-1]


def fenced_primary(rds: Controller) -> DesiredState:
    """After a failover: the standby active at epoch 1, the primary fenced (long ago: no hold-down)."""
    primary, standby = rds.config.regions.pair
    return DesiredState(
        active_region=standby,
        epoch=1,
        fenced_region=primary,
        updated_by="failover-run",
        reason="failover",
        updated_at=rds.clock().replace(year=rds.clock().year - 1).isoformat(),
    )


def test_the_new_active_region_watches_itself_and_pages_once_when_it_fails(rds: Controller) -> None:
    # GIVEN the standby active after a failover that fenced the (dark) primary, and now failing itself
    primary, standby = rds.config.regions.pair
    arn = rds.state_machine(standby)
    deps, notifier = monitor_deps(rds, standby, probe_healthy=False, verdicts={standby: True})
    deps.state.write_desired(standby, fenced_primary(rds))
    rds.alarm_everything(standby)

    # WHEN its own monitor evaluates for six minutes
    outcomes = rds.evaluate(deps, 6)

    # THEN it watched itself, started nothing, and paged once: no target to fail over to
    assert {outcome["watched_region"] for outcome in outcomes} == {standby}
    assert all(outcome["started_execution"] is None for outcome in outcomes)
    assert rds.executions(arn, standby) == []
    [page] = notifier.pages
    assert (page["kind"], page["watched_region"], page["other_region"]) == (
        ACTIVE_UNHEALTHY_NO_TARGET,
        standby,
        primary,
    )


def test_a_healthy_active_region_watching_itself_pages_no_one(rds: Controller) -> None:
    # GIVEN the standby active after a failover, healthy (Route 53 sees it healthy, alarms OK, probe fine)
    standby = rds.config.regions.standby
    deps, notifier = monitor_deps(rds, standby, probe_healthy=True, verdicts={standby: False})
    deps.state.write_desired(standby, fenced_primary(rds))
    rds.alarm_everything(standby, "OK")

    # WHEN it evaluates for six minutes THEN healthy, watching itself, and silent
    outcomes = rds.evaluate(deps, 6)
    assert {(outcome["decision"], outcome["watched_region"]) for outcome in outcomes} == {(Decision.HEALTHY, standby)}
    assert notifier.pages == []


def test_an_active_region_whose_peer_is_not_fenced_leaves_the_watching_to_its_peer(rds: Controller) -> None:
    # GIVEN the seeded state: the primary active, nothing fenced
    primary, _ = rds.config.regions.pair
    deps, notifier = monitor_deps(rds, primary, probe_healthy=True, verdicts={})

    # WHEN the primary's monitor evaluates THEN it evaluates nothing (the standby watches the primary)
    [outcome] = rds.evaluate(deps, 1)
    assert (outcome["decision"], outcome["watched_region"]) == (None, None)
    assert notifier.pages == []
