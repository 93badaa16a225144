"""Properties of the health decision over arbitrary observation histories (hypothesis):
it never fails back automatically, never fails over without a partition-proof quorum, and
never against a fresh healthy verdict of Route 53's checkers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from switchyard.config import Detection, Regions
from switchyard.decision import (
    GLOBAL_OBSERVER,
    PARTITION_INDEPENDENT,
    DesiredView,
    Evaluation,
    MonitorMemory,
    Signal,
    SignalSource,
    decide,
    fresh_signals,
    has_quorum,
)
from switchyard.model import Decision

PAIR = ("us-east-1", "us-west-2")
REGIONS = Regions(primary=PAIR[0], standby=PAIR[1], witness="us-east-2")
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

detections = st.builds(
    Detection,
    quorum=st.integers(2, 3),
    fail_after_evaluations=st.integers(1, 4),
    recover_after_evaluations=st.integers(4, 8),
    dwell_seconds=st.integers(0, 240),
    hold_down_seconds=st.integers(0, 3600),
    max_data_age_seconds=st.integers(60, 600),
)


@st.composite
def signals_at(draw: st.DrawFn, now: datetime) -> list[Signal]:
    count = draw(st.integers(0, 5))
    signals = []
    for index in range(count):
        source = draw(st.sampled_from(list(SignalSource)))
        observer = draw(st.sampled_from([GLOBAL_OBSERVER, *PAIR]))
        failing = draw(st.sampled_from([True, True, False, None]))  # outages are the interesting part
        age = draw(st.one_of(st.none(), st.integers(0, 90), st.integers(0, 900)))
        observed_at = None if age is None else now - timedelta(seconds=age)
        signals.append(Signal(f"{source}-{index}", source, observer, failing, observed_at))
    return signals


@st.composite
def histories(draw: st.DrawFn) -> tuple[Detection, DesiredView, list[list[Signal]]]:
    detection = draw(detections)
    active = draw(st.sampled_from(PAIR))
    fenced = draw(st.sampled_from([None, *PAIR]))
    last_change = START - timedelta(seconds=draw(st.integers(0, 7200)))
    desired = DesiredView(
        active_region=active, epoch=draw(st.integers(0, 9)), fenced_region=fenced, last_change_at=last_change
    )
    length = draw(st.integers(1, 12))
    series = [draw(signals_at(START + timedelta(minutes=minute))) for minute in range(length)]
    return detection, desired, series


def evaluations(
    detection: Detection,
    desired: DesiredView,
    series: list[list[Signal]],
    keep: Callable[[datetime, Signal], bool] = lambda _now, _signal: True,
) -> Iterator[tuple[datetime, list[Signal], Evaluation]]:
    """Evaluate a history minute by minute, carrying the memory as the monitor does."""
    memory = MonitorMemory()
    for minute, signals in enumerate(series):
        now = START + timedelta(minutes=minute)
        kept = [signal for signal in signals if keep(now, signal)]
        evaluation = decide(detection=detection, regions=REGIONS, desired=desired, signals=kept, memory=memory, now=now)
        memory = evaluation.memory
        yield now, kept, evaluation


@settings(max_examples=300, deadline=None)
@given(histories())
def test_never_an_automatic_failback_and_never_without_quorum(
    history: tuple[Detection, DesiredView, list[list[Signal]]],
) -> None:
    # GIVEN any detection settings, desired state and history of observations
    detection, desired, series = history

    # WHEN the decision evaluates each minute
    for now, signals, evaluation in evaluations(detection, desired, series):
        # THEN a failover always targets the other region, never the fenced one
        if evaluation.decision is Decision.FAIL_OVER:
            assert evaluation.target_region == REGIONS.other(desired.active_region)
            assert evaluation.target_region != desired.fenced_region
            # AND it had a fresh quorum of independent sources, one seen from outside
            fresh = fresh_signals(signals, now=now, max_age_seconds=detection.max_data_age_seconds)
            assert has_quorum(fresh, watched_region=desired.active_region, quorum=detection.quorum)
            failing_sources = {signal.source for signal in fresh if signal.failing}
            assert len(failing_sources) >= detection.quorum
            assert any(signal.observed_from != desired.active_region for signal in fresh if signal.failing)
            # AND one failing source a partition between the regions cannot cause, and no outside veto
            assert failing_sources & PARTITION_INDEPENDENT
            assert not any(
                signal.source is SignalSource.ROUTE53 and signal.observed_from == GLOBAL_OBSERVER and not signal.failing
                for signal in fresh
            )
            # AND the hold-down since the last change had passed
            assert desired.last_change_at is not None
            assert (now - desired.last_change_at).total_seconds() >= detection.hold_down_seconds


@settings(max_examples=200, deadline=None)
@given(histories())
def test_without_any_fresh_failing_signal_there_is_no_failover(
    history: tuple[Detection, DesiredView, list[list[Signal]]],
) -> None:
    # GIVEN any history in which failing signals are all stale or unknown
    detection, desired, series = history

    def quiet(now: datetime, signal: Signal) -> bool:
        if signal.observed_at is None:
            return True
        return not signal.failing or (now - signal.observed_at).total_seconds() > detection.max_data_age_seconds

    # WHEN evaluated THEN never a failover
    for _now, _signals, evaluation in evaluations(detection, desired, series, keep=quiet):
        assert evaluation.decision is not Decision.FAIL_OVER
