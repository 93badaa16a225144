"""One scenario in production time: inject the fault, run the controller, measure.

``simulate(config, model, scenario, seed)`` builds a :class:`switchyard_sim.world.World`,
runs both regions' controllers on their schedules (the monitor every
``detection.evaluation_interval_seconds`` and its heartbeat beats in between, every
``heartbeat_period_seconds``; the reconciler every minute, each starting at a
random phase of its schedule), injects the scenario's fault at a random moment after a
warm-up, and runs until the runbook has ended and traffic has settled, or the horizon.

RTO is measured, not computed: from the fault to the moment the last client resolves the
new region AND its database accepts writes (both are events of the simulated timeline).
A run *fails* when that never happens within the horizon.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from switchyard.config import EnvironmentConfig
from switchyard.deps import RunbookDeps
from switchyard.heartbeat import heartbeat_period_seconds, write_heartbeat
from switchyard.model import Decision
from switchyard.monitor import Trigger, respond_to_trigger
from switchyard.reconciler import reconcile_region
from switchyard_sim.latency import LatencyModel
from switchyard_sim.world import SIM_ORIGIN, MonitorDecision, World

WARM_UP_SECONDS = 180.0  # heartbeats and monitor memory exist before the fault
HORIZON_SECONDS = 3600.0  # after the fault: the approval task's own timeout
RECONCILE_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class SimScenario:
    """An automatic scenario: a fault the monitor must answer with one failover."""

    name: str
    summary: str
    inject: Callable[[World], None]
    throttled_promotions: int = 0


def _primary_dark(world: World) -> None:
    world.go_dark(world.config.regions.primary)


SIM_SCENARIOS: dict[str, SimScenario] = {
    scenario.name: scenario
    for scenario in (
        SimScenario(
            "region-outage", "the primary region goes dark: endpoint, alarms, APIs and database", _primary_dark
        ),
        SimScenario(
            "promotion-throttled",
            "the primary region goes dark and the first three promote calls are throttled",
            _primary_dark,
            throttled_promotions=3,
        ),
    )
}


@dataclass(frozen=True)
class StepSpan:
    state: str
    started_s: float
    ended_s: float | None
    attempts: int


@dataclass
class RunResult:
    """One simulated run; every time is in seconds after the fault."""

    env: str
    scenario: str
    seed: int
    floor_s: float  # this run's own floor (its draws); the model's typical floor is in the summary
    detected_s: float | None = None
    decided_s: float | None = None
    runbook_started_s: float | None = None
    flipped_s: float | None = None
    database_writable_s: float | None = None
    traffic_moved_s: float | None = None
    capacity_ready_s: float | None = None
    runbook_ended_s: float | None = None
    runbook_status: str | None = None
    runbook_error: str | None = None
    executions: int = 0
    steps: list[StepSpan] = field(default_factory=list)

    @property
    def rto_s(self) -> float | None:
        if self.traffic_moved_s is None or self.database_writable_s is None:
            return None
        return max(self.traffic_moved_s, self.database_writable_s)

    @property
    def failed(self) -> bool:
        return self.rto_s is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "scenario": self.scenario,
            "seed": self.seed,
            "rto_s": _round(self.rto_s),
            "floor_s": _round(self.floor_s),
            "detected_s": _round(self.detected_s),
            "decided_s": _round(self.decided_s),
            "runbook_started_s": _round(self.runbook_started_s),
            "flipped_s": _round(self.flipped_s),
            "database_writable_s": _round(self.database_writable_s),
            "traffic_moved_s": _round(self.traffic_moved_s),
            "capacity_ready_s": _round(self.capacity_ready_s),
            "runbook_ended_s": _round(self.runbook_ended_s),
            "runbook_status": self.runbook_status,
            "runbook_error": self.runbook_error,
            "executions": self.executions,
            "steps": [
                {"state": s.state, "start_s": _round(s.started_s), "end_s": _round(s.ended_s), "attempts": s.attempts}
                for s in self.steps
            ],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def simulate(config: EnvironmentConfig, model: LatencyModel, scenario: SimScenario, seed: int) -> RunResult:
    """One run of ``scenario`` with latencies drawn from ``model`` by ``random.Random(seed)``."""
    rng = random.Random(seed)
    world = World(config, model, rng)
    world.database.throttle_promotions = scenario.throttled_promotions
    interval = float(config.detection.evaluation_interval_seconds)
    beat = float(heartbeat_period_seconds(config.detection))
    for region in config.regions.pair:
        phase = rng.uniform(0.0, interval)
        world.every(interval, _monitor(world, region), first=phase)
        if beat < interval:  # the monitor's beats while it sleeps between evaluations
            world.every(beat, _in_region(world, region, write_heartbeat), first=phase + beat)
        reconcile_phase = rng.uniform(0.0, RECONCILE_EVERY_SECONDS)
        world.every(RECONCILE_EVERY_SECONDS, _in_region(world, region, reconcile_region), first=reconcile_phase)
    fault_at = WARM_UP_SECONDS + rng.uniform(0.0, 60.0)
    world.env.run(until=fault_at)
    scenario.inject(world)
    done = world.env.event()
    world.env.process(_watch_for_end(world, done))
    world.env.run(until=simpy_any(world, done, fault_at + HORIZON_SECONDS))
    return _measure(world, scenario, seed, fault_at)


def simpy_any(world: World, done: Any, until: float) -> Any:
    return world.env.any_of([done, world.env.timeout(until - world.env.now)])


def _watch_for_end(world: World, done: Any) -> Any:
    """Stop once a runbook ran to its end and nothing else is running."""
    while True:
        yield world.env.timeout(10.0)
        if world.running and all(not process.is_alive for process in world.running):
            done.succeed()
            return


def _monitor(world: World, region: str) -> Callable[[], None]:
    deps = world.deps[region]
    count = iter(range(1_000_000))

    def evaluate() -> None:
        if world.faults.is_dark(region):
            return  # a dark region's controller cannot run
        trigger = Trigger(f"sim-{region}-{next(count)}", deps.clock(), "Scheduled Event", "aws.events")
        with world.clock.invocation():
            outcome = respond_to_trigger(deps, trigger)
        decision = str(outcome.decision) if outcome.decision else None
        world.decisions.append(MonitorDecision(world.clock.seconds(), region, decision, outcome.started_execution))

    return evaluate


def _in_region(world: World, region: str, run: Callable[[RunbookDeps], object]) -> Callable[[], None]:
    """One invocation of a controller function in ``region`` (the heartbeat beat, the
    reconciler): nothing while the region is dark, where its controller cannot run."""
    deps = world.deps[region]

    def invoke() -> None:
        if world.faults.is_dark(region):
            return
        with world.clock.invocation():
            run(deps)

    return invoke


def _measure(world: World, scenario: SimScenario, seed: int, fault_at: float) -> RunResult:
    config = world.config
    standby = config.regions.standby
    result = RunResult(config.name, scenario.name, seed, world.floor_seconds_of_run(standby))

    def since(moment: float | None) -> float | None:
        return None if moment is None else moment - fault_at

    after = [decision for decision in world.decisions if decision.at >= fault_at and decision.region == standby]
    result.detected_s = since(next((d.at for d in after if d.decision not in {None, Decision.HEALTHY}), None))
    result.decided_s = since(next((d.at for d in after if d.decision == Decision.FAIL_OVER), None))
    result.executions = len(world.executions)
    if world.executions:
        execution = world.executions[0]
        result.runbook_started_s = since(execution.started_at)
        result.runbook_ended_s = since(execution.stopped_at)
        result.runbook_status = execution.status
        result.runbook_error = execution.error
        result.steps = [
            StepSpan(visit.name, visit.entered_at - fault_at, since(visit.exited_at), len(visit.attempts))
            for visit in execution.visits
            if visit.type in {"Task", "Parallel", "Wait"}
        ]
    flips = [at for at, region in world.flips if region == standby and at >= fault_at]
    result.flipped_s = since(flips[0] if flips else None)
    writable = world.database.writable_at.get(standby)
    result.database_writable_s = since(writable) if writable is not None and writable <= world.env.now else None
    if flips:
        moved = world.traffic_moved_at(standby, flips[0])
        result.traffic_moved_s = since(moved) if moved is not None and moved <= fault_at + HORIZON_SECONDS else None
    wanted = config.capacity.standby_scale_up_target
    ready = world.compute.capacity_ready_at(standby, wanted)
    result.capacity_ready_s = since(ready) if ready is not None else None
    return result


@dataclass(frozen=True)
class Summary:
    """The benchmark's figures for one scenario (reports/bench.json)."""

    env: str
    scenario: str
    runs: int
    p50_s: float | None
    p95_s: float | None
    max_s: float | None
    floor_s: float
    failed_runs: int
    run_floor_p50_s: float | None
    over_run_floor_p50: float | None
    over_run_floor_p95: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "scenario": self.scenario,
            "runs": self.runs,
            "p50_s": self.p50_s,
            "p95_s": self.p95_s,
            "max_s": self.max_s,
            "floor_s": self.floor_s,
            "failed_runs": self.failed_runs,
            "run_floor_p50_s": self.run_floor_p50_s,
            "over_run_floor_p50": self.over_run_floor_p50,
            "over_run_floor_p95": self.over_run_floor_p95,
        }


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile (``fraction`` in [0, 1]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarize(results: list[RunResult], *, scenario: str, floor: float) -> Summary:
    """p50, p95 and max RTO over the runs that restored service (failed runs counted apart);
    ``floor`` is the model's typical floor; the per-run figures compare each run with the
    floor of its own draws."""
    rtos = [result.rto_s for result in results if result.rto_s is not None]
    ratios = [result.rto_s / result.floor_s for result in results if result.rto_s is not None]

    def rounded(value: float | None, digits: int = 1) -> float | None:
        return None if value is None else round(value, digits)

    return Summary(
        env=results[0].env,
        scenario=scenario,
        runs=len(results),
        p50_s=rounded(percentile(rtos, 0.5)),
        p95_s=rounded(percentile(rtos, 0.95)),
        max_s=rounded(max(rtos) if rtos else None),
        floor_s=round(floor, 1),
        failed_runs=sum(result.failed for result in results),
        run_floor_p50_s=rounded(percentile([result.floor_s for result in results], 0.5)),
        over_run_floor_p50=rounded(percentile(ratios, 0.5), 3),
        over_run_floor_p95=rounded(percentile(ratios, 0.95), 3),
    )


__all__ = ["SIM_ORIGIN", "SIM_SCENARIOS", "RunResult", "SimScenario", "Summary", "simulate", "summarize"]
