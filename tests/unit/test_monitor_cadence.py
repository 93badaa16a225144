"""The monitor's sub-minute cadence on in-memory fakes: one scheduled invocation a minute runs
``60 / detection.evaluation_interval_seconds`` evaluations ``interval`` apart on the injected
clock, each with its own trigger identity and its own heartbeat, beats the heartbeat every
second while it sleeps (and past the minute into the next invocation), and stops before the
function's time runs out.

Time is the fakes' clock: the deps' ``sleep`` advances it (as the Lambda's real sleep would
let wall time pass), and the Lambda context's remaining time is read from it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from switchyard.config import EnvironmentConfig
from switchyard.contract import (
    HEARTBEAT_OVERLAP_SECONDS,
    HEARTBEAT_SECONDS,
    MONITOR_EVALUATION_RESERVE_SECONDS,
    MONITOR_SCHEDULE_SECONDS,
    initial_desired_state,
)
from switchyard.deps import RunbookDeps
from switchyard.handlers import monitor as monitor_handler
from switchyard.heartbeat import heartbeat_period_seconds
from switchyard.model import Decision
from switchyard.monitor import MonitorOutcome, Trigger, evaluate_once, evaluation_offsets, run_evaluations
from tests.fakes import Fakes, LambdaContextOnTheClock, alarm, probe, route53

EVENT_TIME = "2026-11-24T21:00:00Z"


@dataclass
class ClockSleep:
    """``deps.sleep`` that lets the fakes' clock run, recording each wait and, just before
    it, the heartbeat ``region`` had written (what the other region would read then)."""

    fakes: Fakes
    region: str
    waits: list[float] = field(default_factory=list)
    heartbeats: list[str | None] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.heartbeats.append(self.fakes.state.read_heartbeat(self.region, of_region=self.region))
        self.waits.append(seconds)
        self.fakes.clock.advance(seconds)


def scheduled_event(event_id: str = "evt-minute", detail_type: str = "Scheduled Event") -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": "aws.events",
        "account": "111111111111",
        "time": EVENT_TIME,
        "region": "us-west-2",
        "resources": [],
        "detail": {},
    }


def with_interval(config: EnvironmentConfig, seconds: int) -> EnvironmentConfig:
    return config.model_copy(
        update={"detection": config.detection.model_copy(update={"evaluation_interval_seconds": seconds})}
    )


def world(config: EnvironmentConfig) -> Fakes:
    fakes = Fakes(config)
    fakes.seed_desired(initial_desired_state(config))
    return fakes


def invoke(
    fakes: Fakes, region: str, *, timeout_seconds: float = 85, event: dict[str, Any] | None = None
) -> tuple[dict[str, Any], ClockSleep]:
    """The monitor function invoked once in ``region``, with ``timeout_seconds`` to run."""
    sleep = ClockSleep(fakes, region)
    deps = fakes.deps(region, sleep=sleep)
    context = LambdaContextOnTheClock(deadline=fakes.clock() + timedelta(seconds=timeout_seconds), clock=fakes.clock)
    return monitor_handler.handler(event or scheduled_event(), context, deps=deps), sleep


# -- the loop ---------------------------------------------------------------------------------
def test_a_scheduled_invocation_runs_six_evaluations_ten_seconds_apart(dev_config: EnvironmentConfig) -> None:
    # GIVEN evaluations every 10 s and the standby's monitor watching a healthy primary
    fakes = world(with_interval(dev_config, 10))
    start = fakes.clock()

    # WHEN the minute's schedule invokes it
    result, sleep = invoke(fakes, dev_config.regions.standby)

    # THEN six evaluations ran, 10 s apart on the injected clock
    times = [
        fakes.state.read_trigger(dev_config.regions.standby, evaluation["event_id"])["received_at"]  # type: ignore[index]
        for evaluation in result["evaluations"]
    ]
    assert times == [(start + timedelta(seconds=offset)).isoformat() for offset in range(0, 60, 10)]
    assert result["stopped_early"] is None
    # and it slept in heartbeat-sized steps: up to the minute's end plus the overlap with the next invocation
    assert set(sleep.waits) == {float(HEARTBEAT_SECONDS)}
    assert sum(sleep.waits) == MONITOR_SCHEDULE_SECONDS + HEARTBEAT_OVERLAP_SECONDS


def test_each_evaluation_has_its_own_trigger_identity(dev_config: EnvironmentConfig) -> None:
    # GIVEN evaluations every 15 s
    fakes = world(with_interval(dev_config, 15))

    # WHEN the schedule's event evt-minute of 21:00:00 invokes the monitor
    result, _ = invoke(fakes, dev_config.regions.standby, event=scheduled_event("evt-minute"))

    # THEN each evaluation has the event's id and time plus its offset (the first, the event's own)
    identities = [(evaluation["event_id"], evaluation["event_time"]) for evaluation in result["evaluations"]]
    assert identities == [
        ("evt-minute", "2026-11-24T21:00:00+00:00"),
        ("evt-minute+15s", "2026-11-24T21:00:15+00:00"),
        ("evt-minute+30s", "2026-11-24T21:00:30+00:00"),
        ("evt-minute+45s", "2026-11-24T21:00:45+00:00"),
    ]
    assert [evaluation["trigger_record"] for evaluation in result["evaluations"]] == ["recorded"] * 4


def test_a_duplicate_delivery_of_the_minute_is_recorded_as_duplicates(dev_config: EnvironmentConfig) -> None:
    # GIVEN the minute's event was delivered and its six evaluations ran
    fakes = world(with_interval(dev_config, 10))
    standby = dev_config.regions.standby
    invoke(fakes, standby)

    # WHEN EventBridge delivers the same event again (at least once)
    again, _ = invoke(fakes, standby)

    # THEN every evaluation is a duplicate of the first delivery's; those older than the last one
    # evaluated are late and change nothing (the last, equal in time, is evaluated again as before)
    assert [evaluation["trigger_record"] for evaluation in again["evaluations"]] == ["duplicate"] * 6
    assert [evaluation["late"] for evaluation in again["evaluations"]] == [True] * 5 + [False]
    record = fakes.state.read_trigger(standby, "evt-minute+30s")
    assert record is not None
    assert record["deliveries"] == 2


def test_the_heartbeat_is_never_older_than_its_period_even_in_the_active_region(
    dev_config: EnvironmentConfig,
) -> None:
    # GIVEN evaluations every 10 s, and the monitor of the active region (it watches nothing)
    fakes = world(with_interval(dev_config, 10))
    primary = dev_config.regions.primary
    start = fakes.clock()

    # WHEN the schedule invokes it
    result, sleep = invoke(fakes, primary)

    # THEN it evaluated nothing, but wrote the heartbeat every second from its start until
    # 10 s past the minute (the next invocation has begun by then): the RPO gate's margin holds
    assert {evaluation["decision"] for evaluation in result["evaluations"]} == {None}
    written = [*sleep.heartbeats, fakes.state.read_heartbeat(primary, of_region=primary)]
    seconds = [(datetime.fromisoformat(at) - start).total_seconds() for at in written if at is not None]
    assert seconds[0] == 0.0
    assert max(later - earlier for earlier, later in itertools.pairwise(seconds)) <= heartbeat_period_seconds(
        fakes.config.detection
    )
    assert seconds[-1] >= MONITOR_SCHEDULE_SECONDS + HEARTBEAT_OVERLAP_SECONDS - HEARTBEAT_SECONDS
    assert result["heartbeats_not_written"] == 0


def test_it_stops_before_the_functions_remaining_time_runs_out(dev_config: EnvironmentConfig) -> None:
    # GIVEN evaluations every 10 s and an invocation with only 40 s to run
    fakes = world(with_interval(dev_config, 10))

    # WHEN the schedule invokes it
    result, sleep = invoke(fakes, dev_config.regions.standby, timeout_seconds=40)

    # THEN it ran the evaluations that fit a 10 s wait plus one evaluation's reserve, and said why it stopped
    fits = 1 + sum(1 for left in (40, 30, 20) if left >= 10 + MONITOR_EVALUATION_RESERVE_SECONDS)
    assert len(result["evaluations"]) == fits == 2
    assert sum(sleep.waits) == 10.0
    assert result["stopped_early"] is not None
    assert "4 of 6 evaluations not run" in result["stopped_early"]


def test_an_overrunning_evaluation_skips_the_slots_it_passed(dev_config: EnvironmentConfig) -> None:
    # GIVEN evaluations every 10 s, the first of which takes 25 s
    fakes = world(with_interval(dev_config, 10))
    deps = fakes.deps(dev_config.regions.standby, sleep=fakes.clock.advance)
    start = fakes.clock()
    ran: list[float] = []

    def evaluate(trigger: Trigger) -> MonitorOutcome:
        ran.append((fakes.clock() - start).total_seconds())
        if len(ran) == 1:
            fakes.clock.advance(25)
        return MonitorOutcome(None, None)

    # WHEN the minute runs
    run = run_evaluations(
        deps,
        Trigger("evt", start, "Scheduled Event", "aws.events"),
        evaluate,
        offsets=evaluation_offsets(deps.config.detection),
        remaining_seconds=lambda: None,
    )

    # THEN the 10 s slot it overran is skipped, the 20 s one runs at once, the rest on time
    assert run.skipped_offsets == [10]
    assert ran == [0.0, 25.0, 30.0, 40.0, 50.0]
    assert [trigger.event_id for trigger, _ in run.outcomes] == ["evt", "evt+20s", "evt+30s", "evt+40s", "evt+50s"]


@pytest.mark.parametrize(("interval", "evaluations"), [(5, 12), (10, 6), (20, 3), (30, 2), (60, 1), (120, 1)])
def test_the_number_of_evaluations_follows_the_interval(
    dev_config: EnvironmentConfig, interval: int, evaluations: int
) -> None:
    # GIVEN an evaluation interval  WHEN the schedule invokes the monitor
    fakes = world(with_interval(dev_config, interval))
    result, _ = invoke(fakes, dev_config.regions.standby)
    # THEN one evaluation per interval of the minute, or one when the schedule itself is the interval
    assert len(result["evaluations"]) == evaluations


def test_an_alarm_state_change_runs_one_evaluation(dev_config: EnvironmentConfig) -> None:
    # GIVEN evaluations every 10 s  WHEN an alarm state change invokes the monitor
    fakes = world(with_interval(dev_config, 10))
    alarm_event = {**scheduled_event("evt-alarm", "CloudWatch Alarm State Change"), "source": "aws.cloudwatch"}
    result, sleep = invoke(fakes, dev_config.regions.standby, event=alarm_event)
    # THEN it evaluates once, at once (the schedule keeps the cadence)
    assert [evaluation["event_id"] for evaluation in result["evaluations"]] == ["evt-alarm"]
    assert sleep.waits == []


# -- the decision's semantics at 10 s -----------------------------------------------------------
def evaluate_every(fakes: Fakes, deps: RunbookDeps, seconds: int, times: int) -> list[MonitorOutcome]:
    """``times`` evaluations ``seconds`` apart, the primary dark throughout (Route 53, alarm, probe)."""
    primary, standby = fakes.config.regions.pair
    outcomes = []
    for _ in range(times):
        now = fakes.clock()
        fakes.health.observed[primary] = [route53(True, now), alarm(primary, True, now), probe(standby, True, now)]
        outcomes.append(evaluate_once(deps))
        fakes.clock.advance(seconds)
    return outcomes


def test_at_ten_seconds_hysteresis_counts_evaluations_and_dwell_runs_from_failing_since(
    dev_config: EnvironmentConfig,
) -> None:
    # GIVEN 3 evaluations with quorum and a 120 s dwell at 10 s evaluations
    pinned = dev_config.detection.model_copy(update={"fail_after_evaluations": 3, "dwell_seconds": 120})
    fakes = world(with_interval(dev_config.model_copy(update={"detection": pinned}), 10))
    detection = fakes.config.detection
    deps = fakes.deps(dev_config.regions.standby)

    # WHEN the primary is dark from the first evaluation on
    outcomes = evaluate_every(fakes, deps, 10, times=14)

    # THEN quorum counts from the first evaluation, and the failover waits for the dwell, not the count
    first = next(index for index, outcome in enumerate(outcomes) if outcome.decision is Decision.FAIL_OVER)
    assert detection.fail_after_evaluations < first + 1
    assert first * 10 == detection.dwell_seconds
    assert any("dwell is 120s" in reason for reason in outcomes[first - 1].reasons)
