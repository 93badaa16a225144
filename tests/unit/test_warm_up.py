"""Keeping the runbook's step functions warm: the reconciler's warm-up on fakes, the step
handlers' answer to it, and the simulation's model of a warm and a cold Lambda."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

import pytest

from switchyard.config import EnvironmentConfig
from switchyard.contract import STEP_NAMES, WARM_UP_EVENT, WARM_UP_FAILED_METRIC, Names, initial_desired_state
from switchyard.handlers import reconciler as reconciler_handler
from switchyard.handlers.runbook import InvalidRunbookInputError, run_step_handler
from switchyard.reconciler import reconcile_region
from switchyard_sim.latency import load_model
from switchyard_sim.world import WARM_IDLE_SECONDS, World
from tests.fakes import Fakes, LambdaContextOnTheClock, NoCallClientFactory, fake_deps, refused


@pytest.fixture
def fakes(dev_config: EnvironmentConfig) -> Fakes:
    given = Fakes(dev_config)
    given.seed_desired(initial_desired_state(dev_config))
    return given


# -- the reconciler's warm-up -------------------------------------------------------------


def test_every_run_warms_each_step_function_of_its_own_region_once(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    # GIVEN the standby region's reconciler
    west = dev_config.regions.standby

    # WHEN it runs twice
    reconcile_region(fakes.deps(west))
    convergence = reconcile_region(fakes.deps(west))

    # THEN each run warmed every step function once, all in its own region, none failed
    assert fakes.function_warmer.warmed == [(west, step) for step in STEP_NAMES] * 2
    assert convergence.warm_up_failures == {}


def test_a_refused_warm_up_is_reported_and_the_real_work_still_happens(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    # GIVEN the standby's reconciler, its ASG above the warm minimum, and a promote
    # function Lambda cannot invoke (a bad deploy)
    west = dev_config.regions.standby
    fakes.compute.groups[west].desired = dev_config.capacity.standby_warm_min + 1
    not_found = refused("ResourceNotFoundException", "Function not found", "Invoke")
    fakes.function_warmer.refusals["promote"] = not_found

    # WHEN it runs
    convergence = reconcile_region(fakes.deps(west))

    # THEN the capacity converged, the other steps were warmed, and the failure names the
    # function and the error
    assert convergence.after == dev_config.capacity.standby_warm_min
    assert "promote" not in fakes.function_warmer.steps_warmed(west)
    assert len(fakes.function_warmer.steps_warmed(west)) == len(STEP_NAMES) - 1
    promote = Names(dev_config).function(west, "promote")
    assert convergence.warm_up_failures == {promote: f"ResourceNotFoundException: {not_found}"}


def test_the_active_regions_reconciler_warms_nothing(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    # GIVEN the active region's reconciler (a runbook never runs there: it runs in its target)
    east = dev_config.regions.primary

    # WHEN it runs  THEN it converges as before and invokes no step function
    convergence = reconcile_region(fakes.deps(east))
    assert convergence.role == "active"
    assert fakes.function_warmer.warmed == []
    assert convergence.warm_up_failures is None


def test_a_warm_up_that_cannot_reach_lambda_does_not_fail_the_run(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    # GIVEN Lambda's API in the standby region does not answer
    west = dev_config.regions.standby
    fakes.function_warmer.make_unreachable(west)

    # WHEN the reconciler runs
    convergence = reconcile_region(fakes.deps(west))

    # THEN it returns (the heartbeat was written), every step function is reported unwarmed, and
    # after the first connection error the others were not tried (each would wait out its timeout)
    assert convergence.heartbeat_error is None
    assert convergence.warm_up_failures is not None
    assert sorted(convergence.warm_up_failures) == sorted(Names(dev_config).function(west, s) for s in STEP_NAMES)
    not_tried = [error for error in convergence.warm_up_failures.values() if error.startswith("not tried: ")]
    assert len(not_tried) == len(STEP_NAMES) - 1


def test_the_reconciler_handler_logs_and_counts_each_function_not_warmed(
    fakes: Fakes, dev_config: EnvironmentConfig, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the standby's reconciler with metrics on, and a flip function Lambda refuses to invoke
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    reconciler_handler.metrics.clear_metrics()  # what earlier invocations left unflushed (metrics were off)
    warnings: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(reconciler_handler.logger, "warning", lambda message, extra: warnings.append((message, extra)))
    west = dev_config.regions.standby
    fakes.function_warmer.refusals["flip"] = refused("AccessDeniedException", "not authorized", "Invoke")
    event = {
        "version": "0",
        "id": "evt-minute",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": dev_config.account,
        "time": "2026-11-24T21:00:00Z",
        "region": west,
        "resources": [],
        "detail": {},
    }
    context = LambdaContextOnTheClock(deadline=fakes.clock() + timedelta(seconds=60), clock=fakes.clock)

    # WHEN the scheduled invocation runs
    outcome = reconciler_handler.handler(event, context, deps=fakes.deps(west))

    # THEN it succeeds, and says which function was not warmed and why, as a log line and a count
    metrics = [json.loads(line) for line in capfd.readouterr().out.splitlines() if WARM_UP_FAILED_METRIC in line]
    flip = Names(dev_config).function(west, "flip")
    assert [(message, extra["function"]) for message, extra in warnings] == [("step function not warmed", flip)]
    assert warnings[0][1]["error"].startswith("AccessDeniedException: ")
    assert [metric[WARM_UP_FAILED_METRIC] for metric in metrics] == [[1.0]]
    assert outcome["warm_up_failures"] == {flip: warnings[0][1]["error"]}


# -- the step handlers' answer ------------------------------------------------------------


class Untouchable:
    """A port that fails the test on any use."""

    def __init__(self, port: str) -> None:
        self.port = port

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the warm-up touched {self.port}.{name}")


PORTS = ("state", "database", "compute", "notifier", "health", "traffic_records", "runbook_starter", "function_warmer")


@pytest.mark.parametrize("step", STEP_NAMES)
def test_a_step_handler_answers_a_warm_up_at_once_without_touching_any_port_or_metric(
    step: str, dev_config: EnvironmentConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN deps whose every port fails on use, no client may be created, and step metrics recorded
    ports = {port: Untouchable(port) for port in PORTS}
    deps = fake_deps(dev_config, dev_config.regions.standby, clients=NoCallClientFactory(), **ports)
    counted: list[tuple[str, str]] = []
    monkeypatch.setattr("switchyard.handlers.runbook.count_step", lambda *args: counted.append(args))

    # WHEN the step's handler receives the warm-up event
    answer = run_step_handler(step, dict(WARM_UP_EVENT), deps)

    # THEN it answers that it is warm, having used no port and counted no step metric
    assert answer == {"warmed": step}
    assert counted == []


@pytest.mark.parametrize(
    "event",
    [
        {"switchyard_warm_up": 1},  # equal to True in Python, but not the warm-up event
        {"switchyard_warm_up": True, "request": {}},
        {"switchyard_warm_up": "true"},
        {},
    ],
)
def test_an_event_that_is_not_exactly_the_warm_up_is_parsed_and_rejected(
    event: dict[str, Any], dev_config: EnvironmentConfig
) -> None:
    # GIVEN a malformed runbook document that only looks like a warm-up
    deps = fake_deps(dev_config, dev_config.regions.standby)

    # WHEN a step other than validate receives it, THEN it is rejected as malformed input
    with pytest.raises(InvalidRunbookInputError):
        run_step_handler("fence", event, deps)


def test_validate_answers_a_near_warm_up_with_needs_human(dev_config: EnvironmentConfig) -> None:
    # GIVEN an event carrying the warm-up key with the wrong value
    deps = fake_deps(dev_config, dev_config.regions.standby)

    # WHEN validate receives it
    answer = run_step_handler("validate", {"switchyard_warm_up": 1}, deps)

    # THEN it is parsed as today: rejected, a human needed
    assert answer["status"] == "needs_human"


# -- the simulation's model of Lambda -------------------------------------------------------


@pytest.fixture
def world(dev_config: EnvironmentConfig) -> World:
    return World(dev_config.model_copy(update={"mode": "automatic"}), load_model(), random.Random(7))


def test_a_function_never_used_starts_cold(world: World) -> None:
    west = world.config.regions.standby

    assert world.use_function(west, "fence", 100.0) > 0.0


def test_a_function_used_within_the_idle_time_starts_warm(world: World) -> None:
    # GIVEN fence ran (its environment warm from then on)
    west = world.config.regions.standby
    cold_start = world.use_function(west, "fence", 100.0)

    # WHEN it is invoked again just before the idle time runs out, THEN there is no cold start
    assert world.use_function(west, "fence", 100.0 + cold_start + WARM_IDLE_SECONDS - 1.0) == 0.0


def test_a_function_idle_longer_than_the_idle_time_starts_cold_again(world: World) -> None:
    # GIVEN fence ran once
    west = world.config.regions.standby
    cold_start = world.use_function(west, "fence", 100.0)

    # WHEN it is next invoked after more than the idle time, THEN it pays a cold start again
    assert world.use_function(west, "fence", 100.0 + cold_start + WARM_IDLE_SECONDS + 1.0) > 0.0


def test_a_warm_up_recorded_ahead_of_the_simulation_clock_does_not_make_a_step_cold(world: World) -> None:
    # GIVEN fence is warm, and the reconciler's invocation (atomic at t=100, its clock
    # running ahead) warmed it at t=100.5
    west = world.config.regions.standby
    world.use_function(west, "fence", 0.0)
    world.use_function(west, "fence", 100.5)

    # WHEN the runbook invokes fence at t=100.1, THEN it starts warm
    assert world.use_function(west, "fence", 100.1) == 0.0


def test_an_invocation_during_a_cold_start_waits_for_no_warm_environment(world: World) -> None:
    # GIVEN a warm-up at t=100 that found fence cold (its new environment still starting)
    west = world.config.regions.standby
    cold_start = world.use_function(west, "fence", 100.0)

    # WHEN the runbook invokes fence before that start ends, THEN it pays a cold start of its own
    assert world.use_function(west, "fence", 100.0 + cold_start / 2) > 0.0


def test_the_reconcilers_warm_up_makes_its_regions_steps_warm_and_only_its_own(world: World) -> None:
    # GIVEN nothing has run in either region
    east, west = world.config.regions.pair

    # WHEN the standby's reconciler runs (one invocation, as the timeline runs it)
    with world.clock.invocation():
        reconcile_region(world.deps[west])

    # THEN a minute later every step function of the standby is warm, none of the primary's
    assert all(world.is_warm(west, step, 60.0) for step in STEP_NAMES)
    assert not any(world.is_warm(east, step, 60.0) for step in STEP_NAMES)


def test_each_warm_up_is_charged_as_a_best_effort_api_call_of_the_reconciler(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN every API call the standby's reconciler makes is recorded
    west = world.config.regions.standby
    charged: list[tuple[str, bool]] = []
    charge = world.costs.charge

    def recording(region: str, *, best_effort: bool = False, operation: str = "api_call") -> None:
        charged.append((region, best_effort))
        charge(region, best_effort=best_effort, operation=operation)

    monkeypatch.setattr(world.costs, "charge", recording)

    # WHEN it runs
    with world.clock.invocation():
        reconcile_region(world.deps[west])

    # THEN one best-effort call in its own region per step function was charged to it
    # (the convergence makes no best-effort call when its region is reachable)
    assert charged.count((west, True)) == len(STEP_NAMES)


def test_a_dark_regions_functions_cannot_be_warmed(world: World) -> None:
    # GIVEN the primary has gone dark
    east = world.config.regions.primary
    world.go_dark(east)

    # WHEN something tries to warm its functions, THEN the warm-up fails and they stay cold
    with world.clock.invocation():
        failures = reconcile_region(world.deps[east]).warm_up_failures
    assert failures is not None
    assert len(failures) == len(STEP_NAMES)
    assert not world.is_warm(east, "promote", world.clock.seconds())
