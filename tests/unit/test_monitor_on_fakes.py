"""The health monitor (switchyard.monitor) on in-memory fakes: what it starts, whom it
pages, and how it records triggers, with no AWS emulation.

dev: us-east-1 active, us-west-2's monitor watches it. The hysteresis is pinned here (quorum
2, three evaluations a minute apart with quorum and a 120 s dwell confirm a failure), not
read from config/dev.toml, so these tests keep their meaning when the shipped tuning moves.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from switchyard.config import EnvironmentConfig
from switchyard.contract import initial_desired_state
from switchyard.decision import Signal
from switchyard.model import Action, Decision, DesiredState
from switchyard.monitor import (
    ACTIVE_UNHEALTHY_NO_TARGET,
    BOTH_REGIONS_UNHEALTHY,
    TRIGGER_DUPLICATE,
    TRIGGER_NOT_RECORDED,
    TRIGGER_RECORDED,
    MonitorOutcome,
    Trigger,
    evaluate_once,
    execution_name,
    respond_to_trigger,
)
from tests.fakes import Fakes, alarm, probe, route53

EVALUATION_SECONDS = 60


PINNED_DETECTION = {"evaluation_interval_seconds": 60, "fail_after_evaluations": 3, "dwell_seconds": 120}


def pinned(config: EnvironmentConfig) -> EnvironmentConfig:
    """``config`` with the hysteresis these tests are written against."""
    return config.model_copy(update={"detection": config.detection.model_copy(update=PINNED_DETECTION)})


@pytest.fixture
def fakes(dev_config: EnvironmentConfig) -> Fakes:
    world = Fakes(pinned(dev_config))
    world.seed_desired(initial_desired_state(dev_config))
    return world


def dark(fakes: Fakes, watched: str, *, observer: str, route53_failing: bool | None = True) -> None:
    """``watched`` looks dark now: Route 53's verdict (unless told otherwise), its alarm and the probe fail."""
    now = fakes.clock()
    fakes.health.observed[watched] = [
        route53(route53_failing, now),
        alarm(watched, True, now),
        probe(observer, True, now),
    ]


def evaluate_while_dark(
    fakes: Fakes, region: str, watched: str, times: int, **dark_options: bool | None
) -> list[MonitorOutcome]:
    """``times`` evaluations by ``region``'s monitor a minute apart, the watched region dark throughout."""
    outcomes = []
    for _ in range(times):
        dark(fakes, watched, observer=region, **dark_options)
        outcomes.append(evaluate_once(fakes.deps(region)))
        fakes.clock.advance(EVALUATION_SECONDS)
    return outcomes


def test_automatic_mode_starts_one_runbook_under_the_deterministic_name(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby

    outcomes = evaluate_while_dark(fakes, west, east, times=4)

    assert [o.decision for o in outcomes] == [
        Decision.DEGRADED,
        Decision.DEGRADED,
        Decision.FAIL_OVER,
        Decision.FAIL_OVER,
    ]
    name = execution_name(west, 0)
    assert name == "auto-failover-to-us-west-2-from-epoch-0"
    arn = fakes.deps(west).names.execution_arn(west, name)
    assert [start.name for start in fakes.runbook_starter.starts] == [name, name]
    assert list(fakes.runbook_starter.executions) == [arn], "the second start found the first execution"
    assert (outcomes[2].started_execution, outcomes[2].duplicate) == (arn, False)
    assert (outcomes[3].started_execution, outcomes[3].duplicate) == (arn, True)
    request = fakes.runbook_starter.starts[0].runbook_input
    assert (request["action"], request["target_region"]) == (Action.FAILOVER, west)
    assert fakes.notifier.published == [], "automatic mode starts, it does not recommend"


def test_automatic_mode_starts_nothing_while_another_run_holds_the_lock(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    fakes.state.acquire_lock(west, holder="arn:someone-else", now=fakes.clock().isoformat(), min_epoch=0)

    outcomes = evaluate_while_dark(fakes, west, east, times=3)

    assert outcomes[-1].decision is Decision.FAIL_OVER
    assert fakes.runbook_starter.starts == []
    assert any("arn:someone-else holds the runbook lock" in reason for reason in outcomes[-1].reasons)


def test_manual_mode_notifies_once_per_epoch_and_starts_nothing(dev_config: EnvironmentConfig) -> None:
    config = pinned(dev_config).model_copy(update={"mode": "manual"})
    fakes = Fakes(config)
    fakes.seed_desired(initial_desired_state(config))
    east, west = config.regions.primary, config.regions.standby

    outcomes = evaluate_while_dark(fakes, west, east, times=5)

    assert [o.notified for o in outcomes] == [False, False, True, False, False]
    assert fakes.notifier.kinds() == ["failover_recommended"]
    assert fakes.notifier.published[0].message["target_region"] == west
    assert fakes.runbook_starter.starts == []


def test_a_fresh_healthy_route53_verdict_vetoes_the_failover(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby

    outcomes = evaluate_while_dark(fakes, west, east, times=5, route53_failing=False)

    assert {o.decision for o in outcomes} == {Decision.DEGRADED}
    assert "Route 53's checkers see us-east-1 healthy" in outcomes[-1].reasons[-1]
    assert fakes.runbook_starter.starts == []
    memory = fakes.state.read_monitor_memory(west)
    assert memory is not None
    assert memory["failing_evaluations"] == 0, "a vetoed evaluation never counts towards the failure"


def test_both_regions_unhealthy_pages_once_and_starts_nothing(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    fakes.health.own[west] = [alarm(west, True, fakes.clock() + timedelta(minutes=3))]  # fresh when it matters

    outcomes = evaluate_while_dark(fakes, west, east, times=5)

    assert [o.decision for o in outcomes[2:]] == [Decision.BOTH_UNHEALTHY] * 3
    assert fakes.notifier.kinds() == [BOTH_REGIONS_UNHEALTHY]
    assert fakes.runbook_starter.starts == []


def test_self_watch_after_a_failover_pages_once_and_never_starts(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    after_failover = DesiredState(
        active_region=west,
        epoch=1,
        fenced_region=east,
        updated_by="arn:run",
        reason="failover",
        updated_at=(fakes.clock() - timedelta(hours=1)).isoformat(),
    )
    fakes.seed_desired(after_failover)

    outcomes = evaluate_while_dark(fakes, west, west, times=5)

    assert [o.watched_region for o in outcomes] == [west] * 5
    assert [o.notified for o in outcomes] == [False, False, True, False, False]
    assert fakes.notifier.kinds() == [ACTIVE_UNHEALTHY_NO_TARGET]
    assert fakes.runbook_starter.starts == []


def test_the_active_region_does_not_watch_itself_while_the_other_is_not_fenced(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    east = dev_config.regions.primary

    outcome = evaluate_while_dark(fakes, east, east, times=1)[0]

    assert outcome.decision is None
    assert fakes.state.read_monitor_memory(east) is None, "nothing evaluated, nothing written"


def test_an_unreadable_desired_state_changes_nothing(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    fakes.state.make_unreachable(west)
    trigger = Trigger("event-1", fakes.clock(), "Scheduled Event", "aws.events")

    dark(fakes, east, observer=west)
    outcome = respond_to_trigger(fakes.deps(west), trigger)

    assert outcome.desired_state is not None
    assert outcome.desired_state.problem == "unreadable"
    assert outcome.trigger_record == TRIGGER_NOT_RECORDED
    assert fakes.runbook_starter.starts == []


def test_a_duplicate_trigger_is_counted_on_the_first_record(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    dark(fakes, east, observer=west)
    trigger = Trigger("event-1", fakes.clock(), "CloudWatch Alarm State Change", "aws.cloudwatch", "a", "ALARM")

    first = respond_to_trigger(fakes.deps(west), trigger)
    fakes.clock.advance(5)
    again = respond_to_trigger(fakes.deps(west), trigger)

    assert (first.trigger_record, again.trigger_record) == (TRIGGER_RECORDED, TRIGGER_DUPLICATE)
    record = fakes.state.read_trigger(west, "event-1")
    assert record is not None
    assert record["deliveries"] == 2
    assert record["alarm_state"] == "ALARM"
    assert record["decision"] == str(Decision.DEGRADED)


def test_a_late_trigger_is_recorded_and_changes_nothing(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    dark(fakes, east, observer=west)
    newer = Trigger("event-2", fakes.clock(), "Scheduled Event", "aws.events")
    older = Trigger("event-1", fakes.clock() - timedelta(minutes=1), "Scheduled Event", "aws.events")
    respond_to_trigger(fakes.deps(west), newer)
    memory_before = fakes.state.read_monitor_memory(west)

    fakes.clock.advance(EVALUATION_SECONDS)
    dark(fakes, east, observer=west)
    late = respond_to_trigger(fakes.deps(west), older)

    assert late.late is True
    assert late.decision is None
    assert late.trigger_record == TRIGGER_RECORDED
    assert fakes.state.read_monitor_memory(west) == memory_before, "the late event changed the memory"
    record = fakes.state.read_trigger(west, "event-1")
    assert record is not None
    assert record["late"] is True


def signals_of(fakes: Fakes, region: str) -> list[Signal]:
    return fakes.health.observe(region, observer_region=region)


def test_the_fake_health_signals_hand_out_a_fresh_list(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    """The monitor appends the heartbeat to what ``observe`` returns: that must not leak into the next call."""
    east, west = dev_config.regions.primary, dev_config.regions.standby
    dark(fakes, east, observer=west)
    signals_of(fakes, east).append(route53(False, fakes.clock()))
    assert len(signals_of(fakes, east)) == 3
