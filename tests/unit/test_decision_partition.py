"""GIVEN hand-made observations WHEN the decision runs THEN a partition between the regions
never fails a healthy region over (outside veto, partition-proof quorum), a failing target is
never failed over to, and a confirmed failure with no target is reported as such."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from switchyard.decision import GLOBAL_OBSERVER, DesiredView, Evaluation, MonitorMemory, Signal, SignalSource, decide
from switchyard.model import Decision
from tests.unit.test_decision import DETECTION, PRIMARY, REGIONS, STANDBY, START, STEADY, minutes, outage, run

Builder = Callable[[datetime], list[Signal]]

API = "route53:hc-1"
SENTINEL = "route53-dns:r53-verdict-orders-us-east-1.dev.example.com"


def route53(name: str, failing: bool | None, now: datetime) -> Signal:
    return Signal(name, SignalSource.ROUTE53, GLOBAL_OBSERVER, failing, now if failing is not None else None)


def partition(now: datetime) -> list[Signal]:
    """What the standby sees when only the link between the regions is cut: its probe is
    unreachable, the primary's heartbeat stops replicating, the primary's alarms are OK."""
    return [
        Signal("probe", SignalSource.PROBE, STANDBY, True, now),
        Signal("heartbeat", SignalSource.FRESHNESS, STANDBY, True, now),
        Signal("alarm:alb-5xx", SignalSource.ALARMS, PRIMARY, False, now),
    ]


def with_route53(api: bool | None, sentinel: bool | None, base: Builder) -> Builder:
    """``base`` plus Route 53's two readings (the API and the sentinel)."""
    return lambda now: [*base(now), route53(API, api, now), route53(SENTINEL, sentinel, now)]


def test_probe_and_heartbeat_alone_never_make_a_quorum() -> None:
    # GIVEN a partition and no Route 53 verdict at all (both readings missing), for twenty minutes
    evaluations = run(minutes(with_route53(None, None, partition), 20))

    # THEN never a failover, never a failure count, and the reason says why
    assert {evaluation.decision for evaluation in evaluations} == {Decision.DEGRADED}
    assert {evaluation.memory.failing_evaluations for evaluation in evaluations} == {0}
    assert "which a partition between the regions cannot cause" in evaluations[-1].reasons[-1]


def test_a_fresh_healthy_route53_verdict_vetoes_failover() -> None:
    # GIVEN a partition while Route 53's checkers still see the primary healthy (API unreadable, DNS healthy)
    evaluations = run(minutes(with_route53(None, False, partition), 20))

    # THEN no failover, and the reason names the veto and the reading behind it
    assert Decision.FAIL_OVER not in {evaluation.decision for evaluation in evaluations}
    assert evaluations[-1].reasons[-1].startswith(f"Route 53's checkers see {PRIMARY} healthy: {SENTINEL}")


def test_the_veto_holds_against_a_quorum_that_would_otherwise_fail_over() -> None:
    # GIVEN alarms, probe and the API reading failing, but the sentinel says healthy
    def split_verdict(now: datetime) -> list[Signal]:
        return [*outage(now)[1:], route53(API, True, now), route53(SENTINEL, False, now)]

    evaluations = run(minutes(split_verdict, 10))

    # THEN the disagreement resolves towards not failing over, and no failure is counted
    assert {evaluation.decision for evaluation in evaluations} == {Decision.DEGRADED}
    assert evaluations[-1].memory.failing_evaluations == 0
    assert "Route 53's checkers see" in evaluations[-1].reasons[-1]


def test_a_stale_healthy_verdict_vetoes_nothing() -> None:
    # GIVEN a dark primary: the sentinel says failing now; an old healthy API reading lingers
    def dark(now: datetime) -> list[Signal]:
        old = now - timedelta(seconds=DETECTION.max_data_age_seconds + 1)
        return [*partition(now)[:2], route53(API, False, old), route53(SENTINEL, True, now)]

    # THEN it fails over on schedule
    assert run(minutes(dark, 3))[-1].decision is Decision.FAIL_OVER


def test_a_dark_us_east_1_fails_over_on_the_sentinel_alone() -> None:
    # GIVEN us-east-1 dark: Route 53's API and the primary's alarms unreadable; probe, heartbeat and the sentinel fail
    def dark_us_east_1(now: datetime) -> list[Signal]:
        return [
            *partition(now)[:2],
            Signal("alarm:alb-5xx", SignalSource.ALARMS, PRIMARY, None, None),
            route53(API, None, now),
            route53(SENTINEL, True, now),
        ]

    # THEN the standby fails over after hysteresis and dwell
    evaluations = run(minutes(dark_us_east_1, 3))
    assert [evaluation.decision for evaluation in evaluations][-1] is Decision.FAIL_OVER
    assert evaluations[-1].target_region == STANDBY


def healthy_target(now: datetime) -> list[Signal]:
    return [
        route53("route53:hc-2", False, now),
        Signal("alarm:alb-5xx", SignalSource.ALARMS, STANDBY, False, now),
    ]


def with_target(memory: MonitorMemory, now: datetime, target_signals: list[Signal]) -> Evaluation:
    return decide(
        detection=DETECTION,
        regions=REGIONS,
        desired=STEADY,
        signals=outage(now),
        memory=memory,
        now=now,
        target_signals=target_signals,
    )


def test_a_failing_target_is_never_failed_over_to() -> None:
    # GIVEN a full outage of the primary while the standby's own load balancer alarm is in ALARM
    def sick_target(now: datetime) -> list[Signal]:
        return [
            route53("route53:hc-2", False, now),
            Signal("alarm:unhealthy-hosts", SignalSource.ALARMS, STANDBY, True, now),
        ]

    memory = run(minutes(outage, 3))[-1].memory
    now = START + timedelta(minutes=3)

    # WHEN the next evaluation weighs the confirmed failure against the target's health
    sick = with_target(memory, now, sick_target(now))
    well = with_target(memory, now, healthy_target(now))
    unknown = with_target(memory, now, [route53("route53:hc-2", None, now)])

    # THEN a failing target means BOTH_UNHEALTHY, no target, and the reason names the target's failing signal
    assert (sick.decision, sick.target_region, sick.failure_confirmed) == (Decision.BOTH_UNHEALTHY, None, True)
    assert f"the target {STANDBY} is failing too: alarm:unhealthy-hosts" in sick.reasons[-1]
    # AND a healthy target, or one whose health is unknown (missing data), is failed over to
    assert (well.decision, well.target_region) == (Decision.FAIL_OVER, STANDBY)
    assert (unknown.decision, unknown.target_region) == (Decision.FAIL_OVER, STANDBY)


def test_self_watch_confirms_a_failure_but_never_targets_the_fenced_region() -> None:
    # GIVEN the standby active after a failover that fenced the primary, watching itself:
    # Route 53's verdict (outside) and its own alarms failing, its own probe too, no heartbeat
    desired = DesiredView(active_region=STANDBY, epoch=1, fenced_region=PRIMARY, last_change_at=START)

    def self_outage(now: datetime) -> list[Signal]:
        return [
            route53("route53:hc-2", True, now),
            Signal("alarm:alb-5xx", SignalSource.ALARMS, STANDBY, True, now),
            Signal("probe", SignalSource.PROBE, STANDBY, True, now),
        ]

    evaluations = run(minutes(self_outage, 4), desired=desired)

    # THEN never a failover; the failure is confirmed once hysteresis and dwell have passed (hold-down aside)
    assert Decision.FAIL_OVER not in {evaluation.decision for evaluation in evaluations}
    assert [evaluation.failure_confirmed for evaluation in evaluations] == [False, False, True, True]


def test_self_watch_needs_route53_to_see_the_failure_from_outside() -> None:
    # GIVEN the active region's own alarms and own probe failing while Route 53's verdict is missing
    desired = DesiredView(active_region=STANDBY, epoch=1, fenced_region=PRIMARY, last_change_at=START)

    def inside_only(now: datetime) -> list[Signal]:
        return [
            Signal("alarm:alb-5xx", SignalSource.ALARMS, STANDBY, True, now),
            Signal("probe", SignalSource.PROBE, STANDBY, True, now),
        ]

    # THEN no confirmed failure: nothing outside the region saw it
    evaluations = run(minutes(inside_only, 10), desired=desired)
    assert not any(evaluation.failure_confirmed for evaluation in evaluations)
