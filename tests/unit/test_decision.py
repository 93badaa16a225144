"""GIVEN observations of the active region WHEN the decision runs THEN it fails over only
with a sustained quorum, past dwell and hold-down, and never back to a fenced region."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from switchyard.config import Detection, Regions
from switchyard.decision import (
    GLOBAL_OBSERVER,
    DesiredView,
    Evaluation,
    MonitorMemory,
    Signal,
    SignalSource,
    decide,
    heartbeat_signal,
)
from switchyard.model import Decision

PRIMARY, STANDBY = "us-east-1", "us-west-2"
REGIONS = Regions(primary=PRIMARY, standby=STANDBY, witness="us-east-2")
DETECTION = Detection(quorum=2, fail_after_evaluations=3, recover_after_evaluations=5, dwell_seconds=120)
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
STEADY = DesiredView(active_region=PRIMARY, epoch=0, fenced_region=None, last_change_at=START - timedelta(days=1))


def outage(now: datetime) -> list[Signal]:
    """Route 53 (outside), the region's alarms and the standby's probe all failing."""
    return [
        Signal("route53:hc-1", SignalSource.ROUTE53, GLOBAL_OBSERVER, True, now),
        Signal("alarm:alb-5xx", SignalSource.ALARMS, PRIMARY, True, now),
        Signal("probe", SignalSource.PROBE, STANDBY, True, now),
    ]


def healthy(now: datetime) -> list[Signal]:
    return [
        Signal("route53:hc-1", SignalSource.ROUTE53, GLOBAL_OBSERVER, False, now),
        Signal("alarm:alb-5xx", SignalSource.ALARMS, PRIMARY, False, now),
        Signal("probe", SignalSource.PROBE, STANDBY, False, now),
    ]


def run(
    signal_series: list[list[Signal]], *, desired: DesiredView = STEADY, detection: Detection = DETECTION
) -> list[Evaluation]:
    memory = MonitorMemory()
    evaluations = []
    for minute, signals in enumerate(signal_series):
        evaluation = decide(
            detection=detection,
            regions=REGIONS,
            desired=desired,
            signals=signals,
            memory=memory,
            now=START + timedelta(minutes=minute),
        )
        memory = evaluation.memory
        evaluations.append(evaluation)
    return evaluations


def minutes(builder: Callable[[datetime], list[Signal]], count: int, start: int = 0) -> list[list[Signal]]:
    return [builder(START + timedelta(minutes=start + minute)) for minute in range(count)]


def test_a_sustained_outage_with_quorum_fails_over_to_the_standby() -> None:
    # GIVEN three minutes of a full outage WHEN evaluated each minute
    evaluations = run(minutes(outage, 3))

    # THEN the third evaluation (dwell 120 s reached) fails over to the standby
    assert [evaluation.decision for evaluation in evaluations] == [
        Decision.DEGRADED,
        Decision.DEGRADED,
        Decision.FAIL_OVER,
    ]
    assert evaluations[-1].target_region == STANDBY


def test_one_source_failing_is_not_a_quorum() -> None:
    # GIVEN only the controller's own probe fails, for ten minutes
    series = [
        [*healthy(now)[:2], Signal("probe", SignalSource.PROBE, STANDBY, True, now)]
        for now in (START + timedelta(minutes=m) for m in range(10))
    ]

    # WHEN evaluated THEN it is degraded, never a failover
    assert {evaluation.decision for evaluation in run(series)} == {Decision.DEGRADED}


def test_quorum_needs_one_signal_seen_from_outside_the_region() -> None:
    # GIVEN two failing sources, both observed inside the failing region
    def inside_only(now: datetime) -> list[Signal]:
        return [
            Signal("alarm:alb-5xx", SignalSource.ALARMS, PRIMARY, True, now),
            Signal("probe", SignalSource.PROBE, PRIMARY, True, now),
        ]

    # WHEN evaluated for ten minutes THEN never a failover
    assert Decision.FAIL_OVER not in {evaluation.decision for evaluation in run(minutes(inside_only, 10))}


def test_missing_and_stale_data_is_not_an_outage() -> None:
    # GIVEN signals that are unknown or older than max_data_age_seconds
    def stale(now: datetime) -> list[Signal]:
        old = now - timedelta(seconds=DETECTION.max_data_age_seconds + 1)
        return [
            Signal("route53:hc-1", SignalSource.ROUTE53, GLOBAL_OBSERVER, True, old),
            Signal("alarm:alb-5xx", SignalSource.ALARMS, PRIMARY, None, None),
            Signal("probe", SignalSource.PROBE, STANDBY, True, old),
        ]

    # WHEN evaluated for ten minutes
    evaluations = run(minutes(stale, 10))

    # THEN healthy, with the reason saying why
    assert {evaluation.decision for evaluation in evaluations} == {Decision.HEALTHY}
    assert "missing data is not an outage" in evaluations[0].reasons[0]


def test_a_short_recovery_does_not_reset_the_failure_count() -> None:
    # GIVEN two outage minutes, one healthy blip (below recover_after), then one more outage minute
    series = [*minutes(outage, 2), *minutes(healthy, 1, start=2), *minutes(outage, 1, start=3)]

    # WHEN evaluated THEN the last evaluation fails over (hysteresis: recovery needs 5 healthy)
    assert run(series)[-1].decision is Decision.FAIL_OVER


def test_a_full_recovery_resets_the_failure_count() -> None:
    # GIVEN two outage minutes, five healthy minutes (recover_after), then two outage minutes
    series = [*minutes(outage, 2), *minutes(healthy, 5, start=2), *minutes(outage, 2, start=7)]

    # WHEN evaluated THEN no failover: the count started again from zero
    assert Decision.FAIL_OVER not in {evaluation.decision for evaluation in run(series)}


def test_dwell_time_must_pass_even_with_enough_evaluations() -> None:
    # GIVEN a dwell of ten minutes
    detection = DETECTION.model_copy(update={"dwell_seconds": 600})

    # WHEN a five-minute outage is evaluated THEN no failover yet, and the reason names the dwell
    evaluations = run(minutes(outage, 5), detection=detection)
    assert Decision.FAIL_OVER not in {evaluation.decision for evaluation in evaluations}
    assert "dwell" in evaluations[-1].reasons[-1]


def test_hold_down_blocks_a_failover_right_after_the_last_one() -> None:
    # GIVEN the desired state changed five minutes before the outage began
    desired = DesiredView(
        active_region=PRIMARY, epoch=3, fenced_region=None, last_change_at=START - timedelta(minutes=5)
    )

    # WHEN a ten-minute outage is evaluated
    evaluations = run(minutes(outage, 10), desired=desired)

    # THEN the hold-down held every time
    assert Decision.FAIL_OVER not in {evaluation.decision for evaluation in evaluations}
    assert "hold-down" in evaluations[-1].reasons[-1]


def test_never_fails_back_automatically_to_the_fenced_region() -> None:
    # GIVEN the standby is active after a failover that fenced the primary, long ago
    desired = DesiredView(
        active_region=STANDBY, epoch=1, fenced_region=PRIMARY, last_change_at=START - timedelta(days=2)
    )

    def standby_outage(now: datetime) -> list[Signal]:
        return [
            Signal("route53:hc-2", SignalSource.ROUTE53, GLOBAL_OBSERVER, True, now),
            Signal("alarm:alb-5xx", SignalSource.ALARMS, STANDBY, True, now),
            Signal("probe", SignalSource.PROBE, PRIMARY, True, now),
        ]

    # WHEN the now-active standby fails for ten minutes
    evaluations = run(minutes(standby_outage, 10), desired=desired)

    # THEN no automatic failback; the reason says it is an operator's call
    assert Decision.FAIL_OVER not in {evaluation.decision for evaluation in evaluations}
    assert "failback is planned" in evaluations[-1].reasons[-1]


def test_memory_survives_its_item_round_trip() -> None:
    # GIVEN memory after two outage minutes
    memory = run(minutes(outage, 2))[-1].memory

    # WHEN it is stored and read back THEN it is the same
    assert MonitorMemory.from_item(memory.to_item()) == memory


@pytest.mark.parametrize("epoch_changes", [True, False])
def test_memory_resets_when_the_active_region_or_epoch_changes(epoch_changes: bool) -> None:
    # GIVEN memory of two outage minutes at epoch 0
    memory = run(minutes(outage, 2))[-1].memory
    desired = DesiredView(PRIMARY, 1 if epoch_changes else 0, None, START - timedelta(days=1))

    # WHEN the next evaluation sees the epoch (or not) changed
    evaluation = decide(
        detection=DETECTION, regions=REGIONS, desired=desired, signals=outage(START), memory=memory, now=START
    )

    # THEN the count restarts only for a new epoch
    assert evaluation.memory.failing_evaluations == (1 if epoch_changes else 3)


@pytest.mark.parametrize(
    ("interval", "age_seconds", "failing"),
    [
        (60, None, None),
        (60, 60, False),
        (60, 180, False),
        (60, 181, True),
        (60, 3600, True),
        # at the sub-minute cadence the heartbeat is written every evaluation: 3 x 10 s
        (10, None, None),
        (10, 10, False),
        (10, 30, False),
        (10, 31, True),
    ],
)
def test_heartbeat_is_stale_after_three_evaluation_intervals(
    interval: int, age_seconds: int | None, failing: bool | None
) -> None:
    # GIVEN evaluations every ``interval`` seconds and a heartbeat of the given age (None: never seen)
    detection = DETECTION.model_copy(update={"evaluation_interval_seconds": interval})
    heartbeat = None if age_seconds is None else START - timedelta(seconds=age_seconds)

    # WHEN turned into a signal THEN it fails only when stale, and is missing when never seen
    signal = heartbeat_signal(heartbeat, now=START, detection=detection, observer_region=STANDBY)
    assert (signal.source, signal.observed_from, signal.failing) == (SignalSource.FRESHNESS, STANDBY, failing)


def test_the_evaluation_names_each_fresh_failing_signal() -> None:
    # GIVEN an outage seen by Route 53 and the probe, one alarm failing, one alarm healthy and one stale
    signals = [
        *outage(START),
        Signal("alarm:steady-state", SignalSource.ALARMS, PRIMARY, False, START),
        Signal("alarm:database-unavailable", SignalSource.ALARMS, PRIMARY, True, START - timedelta(hours=1)),
    ]
    # WHEN evaluated
    (evaluation,) = run([signals])
    # THEN it names the fresh failing signals only (what a drill or a page says it decided on)
    assert evaluation.failing_signals == ("alarm:alb-5xx", "probe", "route53:hc-1")
