"""GIVEN a healthy primary (Route 53's checkers see it healthy, its heartbeat is fresh,
the controller's real HTTPS probe gets 200 from an endpoint of the deployed shape) WHEN
one health alarm of the primary is forced to ALARM (``cloudwatch:SetAlarmState``, as an
attacker or one genuine 5xx burst would) THEN the real monitor handler, evaluated past
``fail_after_evaluations`` and the dwell time, starts no runbook and pages no one, in dev
(automatic mode) and prod (manual mode).

Modelled, because moto does not simulate it: Route 53's health-check status is always
"Success" in moto, which here is the truth (the primary is healthy); alarms never
evaluate metrics, so the forced state stays (as a real alarm does until its next
evaluation, and as a real burst does while it lasts); global-table replication of the
heartbeat is done by hand each evaluation (``Controller.replicate_heartbeat``). The probe
is not modelled: it is the real ``HttpProbe`` against a local HTTPS server on 127.0.0.1."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from switchyard.adapters.health import HttpProbe
from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.config import Detection
from switchyard.decision import ProbeOutcome, ProbeResult
from switchyard.deps import RunbookDeps
from switchyard.handlers import monitor
from switchyard.model import Decision
from tests.controller.conftest import SCHEDULED_EVENT, Controller, FakeLambdaContext
from tests.controller.local_https import (
    LOOPBACK,
    issue_test_pki,
    local_https_endpoint,
    refusing_port,
    resolve_loopback_only,
)
from tests.controller.route53_verdicts import route53_sees

HEALTH_ALARM_KEYS = [spec.key for spec in HEALTH_SIGNAL_ALARMS]
ACTING_CALLS = {("stepfunctions", "StartExecution"), ("sns", "Publish")}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve_loopback_only(monkeypatch)


def evaluations_past_the_thresholds(detection: Detection) -> int:
    """Enough evaluations that a quorum held from the first one would have failed over:
    past ``fail_after_evaluations`` and the dwell, plus two."""
    dwell_evaluations = math.ceil(detection.dwell_seconds / detection.evaluation_interval_seconds) + 1
    return max(detection.fail_after_evaluations, dwell_evaluations) + 2


@contextmanager
def healthy_record_probe(ctl: Controller, directory: Path) -> Iterator[HttpProbe]:
    """The real probe, its record name resolved to a local HTTPS endpoint of the deployed
    shape that answers 200 on the health path, trusting that endpoint's CA."""
    pki = issue_test_pki(directory, ctl.config.dns.record_name)
    with local_https_endpoint(pki) as endpoint:
        yield endpoint.probe(pki.client_context())


def force_alarm(ctl: Controller, region: str, key: str) -> None:
    """One ``SetAlarmState`` on one health alarm, the way anyone with that permission can."""
    ctl.aws("cloudwatch", region).set_alarm_state(
        AlarmName=ctl.topology.names.alarm(region, key), StateValue="ALARM", StateReason="forced (test)"
    )


def run_monitor(ctl: Controller, deps: RunbookDeps, times: int) -> list[dict[str, Any]]:
    """The standby's monitor on its schedule, the primary's heartbeat replicated each time."""
    primary, standby = ctl.config.regions.pair
    outcomes = []
    for _ in range(times):
        ctl.replicate_heartbeat(primary, into=standby)
        outcomes.append(monitor.single_evaluation(SCHEDULED_EVENT, FakeLambdaContext(), deps=deps))
        ctl.clock.advance(ctl.config.detection.evaluation_interval_seconds)
    return outcomes


def acting_calls(ctl: Controller) -> list[tuple[str, str]]:
    return [(c.service, c.operation) for c in ctl.call_log.snapshot() if (c.service, c.operation) in ACTING_CALLS]


@pytest.mark.parametrize("alarm", HEALTH_ALARM_KEYS)
def test_one_forced_alarm_on_a_healthy_primary_starts_nothing_and_pages_no_one(
    controller: Controller, alarm: str, tmp_path: Path
) -> None:
    # GIVEN a healthy primary seen by the standby's monitor, its runbook deployed
    primary, standby = controller.config.regions.pair
    state_machine = controller.state_machine(standby)
    with healthy_record_probe(controller, tmp_path) as probe:
        deps = controller.deps(standby, probe=probe)
        # AND one health alarm of the primary forced to ALARM
        force_alarm(controller, primary, alarm)
        signals = {s.name: s for s in deps.health.observe(primary, observer_region=standby)}
        assert signals["probe"].probe == ProbeResult(ProbeOutcome.HEALTHY, "HTTP 200")
        assert [name for name, s in signals.items() if s.failing] == [f"alarm:{alarm}"]

        # WHEN the monitor evaluates past fail_after_evaluations and the dwell
        times = evaluations_past_the_thresholds(controller.config.detection)
        assert times < controller.config.detection.escalate_degraded_after_evaluations  # a separate, later notice
        outcomes = run_monitor(controller, deps, times)

    # THEN it saw the alarm every time and judged it below quorum
    assert [outcome["decision"] for outcome in outcomes] == [Decision.DEGRADED.value] * times
    # AND it started no runbook and published nothing, by its calls and by moto's state
    assert acting_calls(controller) == []
    assert controller.executions(state_machine, standby) == []


def alarm_with_a_probe_that_cannot_connect(ctl: Controller) -> str:
    """The same forced alarm, but the probe's connection is refused, as the old probe (asking
    HTTPS of a load balancer that served HTTP only) always failed, and Route 53's verdict is
    unknown (so nothing vetoes): alarm + probe is a quorum. Runs the monitor as long as
    above; returns the runbook's state machine ARN."""
    primary, standby = ctl.config.regions.pair
    state_machine = ctl.state_machine(standby)
    with refusing_port() as port:
        probe = HttpProbe(2.0, resolve={ctl.config.dns.record_name: (LOOPBACK, port)})
        deps = route53_sees(ctl.deps(standby, probe=probe), probe, {primary: None})
        force_alarm(ctl, primary, HEALTH_ALARM_KEYS[0])
        run_monitor(ctl, deps, evaluations_past_the_thresholds(ctl.config.detection))
    return state_machine


def test_in_dev_the_same_alarm_with_an_unreachable_probe_starts_the_runbook(rds: Controller) -> None:
    # GIVEN/WHEN the forced alarm with a probe that cannot connect, evaluated as long as above
    state_machine = alarm_with_a_probe_that_cannot_connect(rds)

    # THEN the check above can see an action: the runbook started (once; later starts are duplicates)
    assert set(acting_calls(rds)) == {("stepfunctions", "StartExecution")}
    assert len(rds.executions(state_machine, rds.config.regions.standby)) == 1


def test_in_prod_the_same_alarm_with_an_unreachable_probe_pages_once(aurora: Controller) -> None:
    # GIVEN/WHEN the forced alarm with a probe that cannot connect, evaluated as long as above
    state_machine = alarm_with_a_probe_that_cannot_connect(aurora)

    # THEN the check above can see a page: one failover recommendation, no runbook (manual mode)
    assert acting_calls(aurora) == [("sns", "Publish")]
    assert aurora.executions(state_machine, aurora.config.regions.standby) == []
