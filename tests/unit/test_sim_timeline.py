"""The production-time simulation (switchyard_sim): the real controller on a simulated clock.

These check the simulation's own physics and bookkeeping; what the benchmark concludes
from it is in reports/bench.json (make bench).
"""

from __future__ import annotations

import random

import pytest

from switchyard.config import EnvironmentConfig
from switchyard.retry import BEST_EFFORT_TIMEOUTS, CRITICAL_PATH_TIMEOUTS, RetryPolicy
from switchyard_sim.latency import load_model
from switchyard_sim.timeline import SIM_SCENARIOS, RunResult, percentile, simulate, summarize
from switchyard_sim.world import World, dark_call_seconds

OUTAGE = SIM_SCENARIOS["region-outage"]


def automatic(config: EnvironmentConfig) -> EnvironmentConfig:
    return config.model_copy(update={"mode": "automatic"})


@pytest.fixture(params=["dev", "prod"])
def config(
    request: pytest.FixtureRequest, dev_config: EnvironmentConfig, prod_config: EnvironmentConfig
) -> EnvironmentConfig:
    return automatic(dev_config if request.param == "dev" else prod_config)


def test_a_dark_primary_is_failed_over_once_and_service_comes_back(config: EnvironmentConfig) -> None:
    result = simulate(config, load_model(), OUTAGE, seed=1)

    assert result.executions == 1
    assert result.runbook_status == "SUCCEEDED", result.runbook_error
    assert result.rto_s is not None
    assert result.detected_s is not None
    assert result.decided_s is not None
    assert result.flipped_s is not None
    assert result.detected_s <= result.decided_s <= result.flipped_s
    assert result.rto_s == max(result.traffic_moved_s or 0.0, result.database_writable_s or 0.0)


def test_no_run_beats_its_own_physical_floor(config: EnvironmentConfig) -> None:
    # the floor of a run is computed from the same draws: detection by Route 53 plus the
    # slower of the promotion and the traffic switch; the controller can only add to it
    results = [simulate(config, load_model(), OUTAGE, seed) for seed in range(12)]

    for result in results:
        assert result.rto_s is not None, result.as_dict()
        assert result.rto_s >= result.floor_s - 1e-6, result.as_dict()


def test_a_seed_reproduces_its_run(dev_config: EnvironmentConfig) -> None:
    first = simulate(automatic(dev_config), load_model(), OUTAGE, seed=7).as_dict()
    again = simulate(automatic(dev_config), load_model(), OUTAGE, seed=7).as_dict()

    assert first == again


def test_a_failover_the_rpo_gate_stops_waits_for_a_human_and_counts_as_failed(dev_config: EnvironmentConfig) -> None:
    # GIVEN an RPO budget of 0 s: every bound is over it, and nobody answers the approval
    strict = automatic(dev_config).model_copy(update={"rpo_budget_seconds": 0})

    result = simulate(strict, load_model(), OUTAGE, seed=1)

    assert result.failed
    assert result.database_writable_s is None, "nothing promoted without the approval"


def test_a_call_into_a_dark_region_costs_what_the_controllers_timeouts_make_it_wait() -> None:
    policy = RetryPolicy()

    assert dark_call_seconds(best_effort=True) == BEST_EFFORT_TIMEOUTS.connect_seconds
    assert dark_call_seconds(best_effort=False) >= policy.max_attempts * CRITICAL_PATH_TIMEOUTS.connect_seconds


def test_route53_answers_the_primary_when_no_record_is_healthy(dev_config: EnvironmentConfig) -> None:
    world = World(dev_config, load_model(), random.Random(1))
    primary = dev_config.regions.primary

    assert world.answer(10.0) == primary  # both healthy: PRIMARY
    world.go_dark(primary)
    late = 10_000.0
    assert world.answer(late) == primary, "primary failing and the standby's switch off: Route 53 fails open"


def test_the_lag_metric_rises_once_the_source_is_dark_and_keeps_its_replay_position(
    dev_config: EnvironmentConfig,
) -> None:
    world = World(dev_config, load_model(), random.Random(1))
    world.env.run(until=300)
    world.go_dark(dev_config.regions.primary)
    broke = world.env.now
    world.env.run(until=broke + 400)

    datapoint = world.lag_datapoint()

    assert datapoint is not None
    lag, observed_at = datapoint
    described = (observed_at.timestamp() - world.clock().timestamp()) + world.env.now
    assert described % 60 == pytest.approx(0.0, abs=1e-6), "one datapoint per minute, at the end of its period"
    assert described <= world.env.now - world.lag_metric_delay
    assert described - lag == pytest.approx(broke - 0.2, abs=1e-6), "observed_at - lag is where replay stopped"


def test_percentiles_are_nearest_rank_and_failed_runs_are_counted_apart() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([float(n) for n in range(1, 101)], 0.95) == 95.0
    assert percentile([], 0.5) is None
    ok = RunResult("dev", "x", 1, 100.0, traffic_moved_s=110.0, database_writable_s=120.0)
    failed = RunResult("dev", "x", 2, 100.0)

    summary = summarize([ok, failed], scenario="x", floor=100.0)

    assert (summary.runs, summary.failed_runs, summary.p50_s, summary.over_run_floor_p50) == (2, 1, 120.0, 1.2)
