"""One environment's two regions in production time, in memory.

The real controller runs here: the monitor's evaluations and the reconciler on their
schedules, and every runbook execution through the real ASL
(``stacks/controller/runbook.asl.json``, interpreted by ``switchyard_sim.asl``) with the
real step handlers. What AWS does is modelled behind the same ports the controller uses
(``switchyard_sim.memory``), with durations drawn from the latency model
(``drill/latency_model.toml``) elapsing on a simulated clock (SimPy):

- every port call costs an API round trip; a call into a dark region costs what the
  controller's own timeouts and retry policy make it wait (``switchyard.retry``);
- the state table is MRSC: one strongly consistent copy, answered in every reachable
  region (the witness is always reachable here);
- a database promotion completes after a drawn duration for its operation; a promoted
  RDS replica leaves the old primary a writer until it is fenced (as RDS does);
- new instances go InService after a drawn launch-to-healthy time;
- Route 53: each region's load-balancer check and traffic-switch check change state
  ``failure_threshold`` x ``interval`` plus aggregation after the endpoint does; the
  failover record follows both through the calculated check; a client moves when its
  cached alias answer expires (the full 60 s, pessimistic);
- the monitor reads Route 53's verdict through the sentinel record (a DNS answer up to
  its TTL old) and, when us-east-1 answers, the API; the probe of a dark region times out;
- Lambda: a step function's execution environment stays warm only while it is used; an
  invocation more than ``WARM_IDLE_SECONDS`` after its last use starts cold again (a drawn
  ``lambda_cold_start``). The reconciler's warm-up (``SimFunctionWarmer``, an API call of the
  reconciler) is such a use, from the moment the warm-up runs.

Not modelled: throttling (except where a scenario scripts it), Lambda concurrency (one
execution environment per function: an invocation that arrives while a warm-up holds it
would get a second, cold one; a warm-up lasts milliseconds, so that is left out), Lambda
recycling a warm environment before the idle time,
CloudWatch alarms of a reachable region going to ALARM (no scenario here needs them),
S3 beyond the two reads preflight makes.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import simpy

from stacks.controller.runbook_definition import RUNBOOK_DEFINITION
from switchyard.adapters.database import LAG_PERIOD
from switchyard.adapters.health import PROBE_TIMEOUT_SECONDS, ROUTE53_REGION
from switchyard.config import EnvironmentConfig
from switchyard.contract import HEALTH_CHECK_PURPOSES, STEP_NAMES, VERDICT_TTL_SECONDS, Names, initial_desired_state
from switchyard.decision import GLOBAL_OBSERVER, ProbeOutcome, ProbeResult, Signal, SignalSource
from switchyard.deps import RunbookDeps
from switchyard.handlers.runbook import run_step_handler
from switchyard.model import DesiredState
from switchyard.retry import BEST_EFFORT_TIMEOUTS, CRITICAL_PATH_TIMEOUTS, ClientFactory, RetryPolicy
from switchyard_sim import asl
from switchyard_sim.latency import (
    LatencyModel,
    promotion_operation,
    route53_detection_seconds,
    traffic_switch_seconds,
)
from switchyard_sim.memory import (
    FakeCompute,
    FakeDatabase,
    FakeFunctionWarmer,
    FakeNotifier,
    FakeRunbookStarter,
    FakeStateStore,
    FakeTrafficRecords,
    StartedRun,
    fake_deps,
    refused,
    unreachable,
)

SIM_ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)
# How long an idle Lambda execution environment stays warm. AWS does not document it and
# third-party measurements vary; 300 s is an assumption, chosen short (the pessimistic
# side): after it, the next invocation pays a cold start.
WARM_IDLE_SECONDS = 300.0
BASE_REPLICA_LAG_SECONDS = 0.2
LAG_PERIOD_SECONDS = LAG_PERIOD.total_seconds()


def dark_call_seconds(*, best_effort: bool) -> float:
    """What one call into a region that does not answer costs the controller: the connect
    timeout of each attempt plus the retry policy's mean backoff between them."""
    if best_effort:
        return BEST_EFFORT_TIMEOUTS.connect_seconds
    policy = RetryPolicy()
    backoff = sum(
        min(policy.max_delay_seconds, policy.base_delay_seconds * 2**retry) / 2
        for retry in range(policy.max_attempts - 1)
    )
    return policy.max_attempts * CRITICAL_PATH_TIMEOUTS.connect_seconds + backoff


class ModelledBuckets:
    """The two S3 calls preflight makes: both buckets versioned, the source replicating to the target."""

    def __init__(self, world: World, region: str, *, best_effort: bool) -> None:
        self.world, self.region, self.best_effort = world, region, best_effort

    def _call(self) -> None:
        self.world.costs.charge(self.region, best_effort=self.best_effort)
        if self.world.faults.is_dark(self.region):
            raise unreachable("s3", self.region)

    def get_bucket_versioning(self, *, Bucket: str) -> dict[str, Any]:  # noqa: N803, ARG002 - boto3's names
        self._call()
        return {"Status": "Enabled"}

    def get_bucket_replication(self, *, Bucket: str) -> dict[str, Any]:  # noqa: N803, ARG002
        self._call()
        other = self.world.config.regions.other(self.region)
        destination = f"arn:aws:s3:::{self.world.names.bucket(other)}"
        return {"ReplicationConfiguration": {"Rules": [{"Status": "Enabled", "Destination": {"Bucket": destination}}]}}


class SimClients(ClientFactory):
    """The clients code reaches for around the ports: S3 (preflight's bucket checks) only."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world

    def client(self, service: str, region: str, *, best_effort: bool = False) -> Any:
        if service == "s3":
            return ModelledBuckets(self.world, region, best_effort=best_effort)
        raise NotImplementedError(f"the simulation models no {service} client (code reached around a port)")


class Timeline:
    """A value that changes at points in simulated time."""

    def __init__(self, initial: Any) -> None:
        self.changes: list[tuple[float, Any]] = [(float("-inf"), initial)]

    def set(self, at: float, value: Any) -> None:
        self.changes.append((at, value))
        self.changes.sort(key=lambda change: change[0])

    def at(self, moment: float) -> Any:
        value = self.changes[0][1]
        for when, changed in self.changes:
            if when > moment:
                break
            value = changed
        return value

    def times(self) -> list[float]:
        return [when for when, _ in self.changes[1:]]


class SimClock:
    """Simulated seconds since :data:`SIM_ORIGIN`; inside a handler invocation, plus the time
    its calls and sleeps have taken so far (a handler runs atomically at its start time)."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.accrued = 0.0

    def seconds(self) -> float:
        return float(self.env.now) + self.accrued

    def __call__(self) -> datetime:
        return SIM_ORIGIN + timedelta(seconds=self.seconds())

    def spend(self, seconds: float) -> None:
        self.accrued += seconds

    @contextmanager
    def invocation(self) -> Iterator[list[float]]:
        """Run one handler; the list it yields receives the seconds the handler took."""
        saved, self.accrued = self.accrued, 0.0
        took: list[float] = []
        try:
            yield took
        finally:
            took.append(self.accrued)
            self.accrued = saved


@dataclass
class Faults:
    """Which regions are dark (APIs, endpoint, database, controllers) and since when."""

    dark: dict[str, float] = field(default_factory=dict)

    def is_dark(self, region: str) -> bool:
        return region in self.dark


class Costs:
    """Charges the simulated clock for each port call."""

    def __init__(self, clock: SimClock, faults: Faults, model: LatencyModel, rng: random.Random) -> None:
        self.clock, self.faults, self.model, self.rng = clock, faults, model, rng

    def charge(self, region: str, *, best_effort: bool = False, operation: str = "api_call") -> None:
        if self.faults.is_dark(region):
            self.clock.spend(dark_call_seconds(best_effort=best_effort))
        else:
            self.clock.spend(self.model.draw(operation, self.rng))


class SimStateStore(FakeStateStore):
    """The MRSC state table: one strongly consistent copy, reachable from every live region."""

    def __init__(self, config: EnvironmentConfig, costs: Costs, on_desired: Callable[[DesiredState], None]) -> None:
        super().__init__(config)
        self.costs = costs
        self.on_desired = on_desired
        self.shared: dict[str, dict[str, Any]] = {}
        self._best_effort = False

    def _table(self, region: str) -> dict[str, dict[str, Any]]:
        self.costs.charge(region, best_effort=self._best_effort, operation="state_table_write")
        self._check(region)
        return self.shared

    @contextmanager
    def _effort(self, best_effort: bool) -> Iterator[None]:
        self._best_effort = best_effort
        try:
            yield
        finally:
            self._best_effort = False

    def read_desired(self, region: str, *, best_effort: bool = False) -> DesiredState | None:
        with self._effort(best_effort):
            return super().read_desired(region)

    def read_lock(self, region: str, *, best_effort: bool = False) -> Any:
        with self._effort(best_effort):
            return super().read_lock(region)

    def write_desired(self, region: str, state: DesiredState) -> bool:
        before = self.shared.get(self.names.desired_state_key)
        written = super().write_desired(region, state)
        if written and (before is None or before.get("active_region") != state.active_region):
            self.on_desired(state)
        return written


class SimDatabase(FakeDatabase):
    """Promotions take a drawn time for their operation; the replica's lag metric rises
    while its source is dark (what RDS and Aurora report, see docs/architecture.md)."""

    def __init__(self, world: World) -> None:
        super().__init__(world.config, world.clock)  # type: ignore[arg-type]
        self.world = world
        self.throttle_promotions = 0  # the next N promotion requests are throttled (a scenario's script)
        self.writable_at: dict[str, float] = {}

    def describe(self, region: str, *, best_effort: bool = False) -> Any:
        self.world.costs.charge(region, best_effort=best_effort)
        status = super().describe(region, best_effort=best_effort)
        datapoint = self.world.lag_datapoint()
        if status.writable or datapoint is None:
            return replace(status, replication_lag_seconds=None)
        lag, observed_at = datapoint
        return replace(status, replication_lag_seconds=lag, replication_lag_observed_at=observed_at)

    def promote(self, region: str, *, primary_reachable: bool) -> str:
        self.world.costs.charge(region)
        if self.throttle_promotions > 0:
            self.throttle_promotions -= 1
            raise refused("ThrottlingException", "Rate exceeded (scripted)", self._operation(primary_reachable=False))
        operation = promotion_operation(self.config, primary_reachable=primary_reachable)
        planned = self.world.planned.pop(operation, None)  # the first promotion takes the run's planned draw
        self.promotion_seconds = planned if planned is not None else self.world.draw(operation)
        started = super().promote(region, primary_reachable=primary_reachable)
        self.writable_at[region] = self.world.clock.seconds() + self.promotion_seconds
        return started

    def fence_writer(self, region: str, *, best_effort: bool = False) -> Any:
        self.world.costs.charge(region, best_effort=best_effort)
        return super().fence_writer(region, best_effort=best_effort)

    def snapshot(self, region: str, name: str, *, best_effort: bool = False) -> str:
        self.world.costs.charge(region, best_effort=best_effort)
        return super().snapshot(region, name, best_effort=best_effort)


class SimCompute(FakeCompute):
    """Each instance a change adds goes InService after a drawn launch-to-healthy time."""

    def __init__(self, world: World) -> None:
        super().__init__(world.config)
        self.world = world
        self._best_effort = False
        self.ready_at: dict[str, list[float]] = {region: [] for region in world.config.regions.pair}
        for region, group in self.groups.items():
            self.ready_at[region] = [0.0] * group.desired

    def describe(self, region: str) -> Any:
        self.world.costs.charge(region, best_effort=self._best_effort)
        group = self.groups.get(region)
        if group is not None:
            now = self.world.clock.seconds()
            group.in_service = min(group.desired, sum(at <= now for at in self.ready_at[region]))
        return super().describe(region)

    def set_desired(self, region: str, desired: int, *, best_effort: bool = False) -> int:
        self._best_effort = best_effort
        try:
            target = super().set_desired(region, desired, best_effort=best_effort)
        finally:
            self._best_effort = False
        launched = self.ready_at[region]
        now = self.world.clock.seconds()
        while len(launched) < target:
            launched.append(now + self.world.draw("instance_ready"))
        del launched[target:]
        return target

    def capacity_ready_at(self, region: str, wanted: int) -> float | None:
        launched = sorted(self.ready_at[region])
        return launched[wanted - 1] if len(launched) >= wanted else None


class SimNotifier(FakeNotifier):
    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world

    def publish(self, region: str, *, subject: str, message: dict[str, Any]) -> str:
        self.world.costs.charge(region)
        return super().publish(region, subject=subject, message=message)


class SimRunbookStarter(FakeRunbookStarter):
    """StartExecution: idempotent by name per region; a new execution runs the real ASL."""

    def __init__(self, world: World) -> None:
        super().__init__(world.config)
        self.world = world

    def start(self, region: str, *, name: str, runbook_input: dict[str, Any]) -> StartedRun:
        self.world.costs.charge(region)
        started = super().start(region, name=name, runbook_input=runbook_input)
        if not started.already_existed:
            self.world.start_execution(region, name, started.execution_arn, runbook_input)
        return started


class SimFunctionWarmer(FakeFunctionWarmer):
    """The reconciler's warm-up invoke: an API call of the reconciler (asynchronous, so it
    costs the caller only the request); the function then runs the warm-up at once, which
    makes its execution environment warm (after a cold start if it had gone cold)."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world

    def warm(self, region: str, step: str) -> None:
        self.world.costs.charge(region, best_effort=True)
        super().warm(region, step)
        self.world.use_function(region, step, self.world.clock.seconds())


class SimHealth:
    """The monitor's signals, from the modelled endpoints and Route 53 checks."""

    def __init__(self, world: World) -> None:
        self.world = world

    def observe(self, watched_region: str, *, observer_region: str) -> list[Signal]:
        return [*self.target_signals(watched_region), self._probe(watched_region, observer_region)]

    def target_signals(self, target_region: str) -> list[Signal]:
        return [self._route53_api(target_region), self._route53_sentinel(target_region), *self._alarms(target_region)]

    def health_checks(self, watched_region: str) -> dict[str, str]:
        return {purpose: f"{watched_region}-{purpose}" for purpose in HEALTH_CHECK_PURPOSES}

    def _now(self) -> datetime:
        return self.world.clock()

    def _route53_api(self, region: str) -> Signal:
        """GetHealthCheckStatus: Route 53's control plane, in us-east-1."""
        if self.world.faults.is_dark(ROUTE53_REGION):
            self.world.clock.spend(BEST_EFFORT_TIMEOUTS.connect_seconds)
            return Signal("route53", SignalSource.ROUTE53, GLOBAL_OBSERVER, None, None)
        self.world.clock.spend(self.world.draw("api_call"))
        healthy = self.world.load_balancer_check[region].at(self.world.clock.seconds())
        return Signal(f"route53:{region}", SignalSource.ROUTE53, GLOBAL_OBSERVER, not healthy, self._now())

    def _route53_sentinel(self, region: str) -> Signal:
        """The sentinel record through DNS: an answer up to its TTL old."""
        cached_for = self.world.rng.uniform(0.0, VERDICT_TTL_SECONDS)
        healthy = self.world.load_balancer_check[region].at(self.world.clock.seconds() - cached_for)
        name = f"route53-dns:{self.world.names.verdict_record(region)}"
        return Signal(name, SignalSource.ROUTE53, GLOBAL_OBSERVER, not healthy, self._now())

    def _alarms(self, region: str) -> list[Signal]:
        """The region's own alarms, read in that region (unreadable while it is dark)."""
        if self.world.faults.is_dark(region):
            self.world.clock.spend(dark_call_seconds(best_effort=True))
            return [Signal("alarm:unhealthy-hosts", SignalSource.ALARMS, region, None, None)]
        self.world.clock.spend(self.world.draw("api_call"))
        return [Signal("alarm:unhealthy-hosts", SignalSource.ALARMS, region, False, self._now())]

    def _probe(self, watched: str, observer: str) -> Signal:
        if self.world.faults.is_dark(watched):
            self.world.clock.spend(PROBE_TIMEOUT_SECONDS)
            result = ProbeResult(ProbeOutcome.UNREACHABLE, f"timed out after {PROBE_TIMEOUT_SECONDS:g}s")
            return Signal("probe", SignalSource.PROBE, observer, True, self._now(), result)
        self.world.clock.spend(self.world.draw("api_call"))
        healthy = ProbeResult(ProbeOutcome.HEALTHY, "HTTP 200")
        return Signal("probe", SignalSource.PROBE, observer, False, self._now(), healthy)


@dataclass(frozen=True)
class MonitorDecision:
    """What one monitor evaluation decided, when (simulated seconds) and in which region."""

    at: float
    region: str
    decision: str | None
    started_execution: str | None


class World:
    """Both regions of one environment, their controllers and the modelled AWS around them."""

    def __init__(self, config: EnvironmentConfig, model: LatencyModel, rng: random.Random) -> None:
        self.config, self.model, self.rng = config, model, rng
        self.names = Names(config)
        self.env = simpy.Environment()
        self.clock = SimClock(self.env)
        self.faults = Faults()
        self.costs = Costs(self.clock, self.faults, model, rng)
        self.machine = runbook_machine()
        pair = config.regions.pair
        self.load_balancer_check = {region: Timeline(True) for region in pair}
        self.switch_check = {region: Timeline(region == config.regions.primary) for region in pair}
        self.calculated_delay = {region: self.draw("route53_calculated") for region in pair}
        # drawn up front, so the run's own physical floor uses the same figures (floor_seconds_of_run)
        self.planned = {
            operation: self.draw(operation)
            for operation in ("rds_replica_promotion", "aurora_global_failover", "aurora_global_switchover")
        }
        self.planned_aggregation = {"dark": self.draw("route53_aggregation"), "flip": self.draw("route53_aggregation")}
        self.state = SimStateStore(config, self.costs, self._desired_changed)
        self.database = SimDatabase(self)
        self.compute = SimCompute(self)
        self.notifier = SimNotifier(self)
        self.traffic_records = FakeTrafficRecords(config.regions.primary)
        self.starter = SimRunbookStarter(self)
        self.function_warmer = SimFunctionWarmer(self)
        self.health = SimHealth(self)
        self.deps = {region: self._deps(region) for region in pair}
        self.executions: list[asl.Execution] = []
        self.running: list[simpy.Process] = []
        self.decisions: list[MonitorDecision] = []
        self.flips: list[tuple[float, str]] = []
        # per (region, step), its execution environment: when it was last used, when it became ready
        self.last_used: dict[tuple[str, str], float] = {}
        self.ready_at: dict[tuple[str, str], float] = {}
        self.cold_starts: list[tuple[float, str, str]] = []  # (when, region, step) of every cold start
        self.replication_broken_at: float | None = None
        self.lag_metric_delay = self.draw("alarm_metric_delay")
        with self.clock.invocation():  # the deployment's seed item: not a controller's time
            self.state.write_desired(pair[0], initial_desired_state(config))

    # -- wiring ------------------------------------------------------------------------------
    def draw(self, operation: str) -> float:
        return self.model.draw(operation, self.rng)

    def _deps(self, region: str) -> RunbookDeps:
        return fake_deps(
            self.config,
            region,
            clients=SimClients(self),
            database=self.database,
            compute=self.compute,
            state=self.state,
            notifier=self.notifier,
            health=self.health,
            traffic_records=self.traffic_records,
            runbook_starter=self.starter,
            function_warmer=self.function_warmer,
            clock=self.clock,
            sleep=self.clock.spend,
        )

    def replica_lag_at(self, moment: float) -> float:
        """The replica's lag at ``moment``: small while its source streams to it, then rising
        one second per second from when the stream stopped (ReplicaLag and
        AuroraGlobalDBReplicationLag keep growing while the source is dark)."""
        if self.replication_broken_at is None or moment <= self.replication_broken_at:
            return BASE_REPLICA_LAG_SECONDS
        return BASE_REPLICA_LAG_SECONDS + moment - self.replication_broken_at

    def lag_datapoint(self) -> tuple[float, datetime] | None:
        """The newest datapoint CloudWatch has published: one per minute (the period's
        Maximum, reached at its end on a rising lag), ``lag_metric_delay`` after its period."""
        newest_end = (self.clock.seconds() - self.lag_metric_delay) // LAG_PERIOD_SECONDS * LAG_PERIOD_SECONDS
        if newest_end <= 0:
            return None
        return self.replica_lag_at(newest_end), SIM_ORIGIN + timedelta(seconds=newest_end)

    # -- faults ------------------------------------------------------------------------------
    def go_dark(self, region: str) -> None:
        """The region's endpoint, APIs, database and controllers stop answering now."""
        now = self.clock.seconds()
        self.faults.dark[region] = now
        for port in (self.state, self.database, self.compute, self.notifier, self.starter, self.function_warmer):
            port.make_unreachable(region)
        detection = route53_detection_seconds(self.config, self.planned_aggregation["dark"])
        self.load_balancer_check[region].set(now + detection, False)
        self.switch_check[region].set(
            now + route53_detection_seconds(self.config, self.draw("route53_aggregation")), False
        )
        if region in self.database.writers:
            self.replication_broken_at = now

    def _desired_changed(self, state: DesiredState) -> None:
        """The traffic switches answer from the table at once; Route 53's checks follow."""
        now = self.clock.seconds()
        self.flips.append((now, state.active_region))
        for region in self.config.regions.pair:
            active = region == state.active_region and not self.faults.is_dark(region)
            aggregation = self.planned_aggregation["flip"] if active else self.draw("route53_aggregation")
            self.switch_check[region].set(now + route53_detection_seconds(self.config, aggregation), active)

    def floor_seconds_of_run(self, target: str, *, primary_reachable: bool = False) -> float:
        """This run's physical floor, from its own draws: Route 53's detection of the dark
        region + max(the promotion, the traffic switch to ``target``); see
        ``switchyard_sim.latency.floor_seconds`` for the same with typical figures."""
        detection = route53_detection_seconds(self.config, self.planned_aggregation["dark"])
        promotion = self.planned.get(promotion_operation(self.config, primary_reachable=primary_reachable))
        if promotion is None:  # taken by the promotion itself
            promotion = self.database.promotion_seconds
        switch = traffic_switch_seconds(
            self.config,
            state_write=self.model.typical("state_table_write"),
            aggregation=self.planned_aggregation["flip"],
            calculated=self.calculated_delay[target],
            answer_cache=self.model.typical("alias_answer_cache"),
        )
        return detection + max(promotion, switch)

    # -- Route 53 and clients ------------------------------------------------------------------
    def record_healthy(self, region: str, moment: float) -> bool:
        behind = moment - self.calculated_delay[region]
        return bool(self.load_balancer_check[region].at(behind) and self.switch_check[region].at(behind))

    def answer(self, moment: float) -> str:
        """The failover record's answer: PRIMARY when healthy, else SECONDARY when healthy,
        else PRIMARY (Route 53 answers as if all were healthy when none is)."""
        primary, standby = self.config.regions.pair
        if self.record_healthy(primary, moment):
            return primary
        return standby if self.record_healthy(standby, moment) else primary

    def traffic_moved_at(self, region: str, after: float) -> float | None:
        """When the last client resolves ``region`` (from ``after`` on, for good)."""
        candidates = sorted(
            {after}
            | {
                when + self.calculated_delay[checked]
                for checked in self.config.regions.pair
                for timeline in (self.load_balancer_check[checked], self.switch_check[checked])
                for when in timeline.times()
                if when + self.calculated_delay[checked] >= after
            }
        )
        moved: float | None = None
        for moment in candidates:
            on_region = self.answer(moment + 1e-6) == region  # just after the change, not at it (float)
            moved = (moment if moved is None else moved) if on_region else None
        if moved is None:
            return None
        return moved + self.model.typical("alias_answer_cache")

    # -- controllers ---------------------------------------------------------------------------
    def every(self, seconds: float, action: Callable[[], None], *, first: float = 0.0) -> simpy.Process:
        def loop() -> Generator[simpy.Event, Any, None]:
            yield self.env.timeout(first)
            while True:
                action()
                yield self.env.timeout(seconds)

        return self.env.process(loop())

    def start_execution(self, region: str, name: str, arn: str, runbook_input: dict[str, Any]) -> None:
        def execution() -> Generator[simpy.Event, Any, None]:
            yield self.env.timeout(self.clock.accrued)  # StartExecution returns within the caller's invocation
            process = asl.run(
                self.env,
                self.machine,
                runbook_input,
                name=name,
                execution_arn=arn,
                invoke=self._invoker(region),
                publish=self._no_human,
                rng=self.rng,
                clock_origin=SIM_ORIGIN,
            )
            result = yield process
            self.executions.append(result)

        self.running.append(self.env.process(execution()))

    def _environment_kept(self, key: tuple[str, str], at: float) -> bool:
        """The function's execution environment still exists at ``at``: used no more than
        ``WARM_IDLE_SECONDS`` before (a use recorded later than ``at`` also counts: a
        handler's clock runs ahead of the simulation's within its invocation)."""
        last = self.last_used.get(key)
        return last is not None and at - last <= WARM_IDLE_SECONDS

    def is_warm(self, region: str, step: str, at: float) -> bool:
        """Whether ``step``'s function in ``region`` has a warm execution environment at
        ``at``: kept (see above) and done with its cold start."""
        key = (region, step)
        return self._environment_kept(key, at) and self.ready_at[key] <= at

    def use_function(self, region: str, step: str, at: float) -> float:
        """An invocation (or warm-up) of ``step``'s function in ``region`` at ``at``: the cold
        start it pays, 0 when warm. A cold one starts a new environment, warm from when its
        start ends (or from when one already starting is ready, if sooner)."""
        key = (region, step)
        cold_start = 0.0
        if not self.is_warm(region, step, at):
            cold_start = self.draw("lambda_cold_start")
            self.cold_starts.append((at, region, step))
            ready = at + cold_start
            self.ready_at[key] = min(ready, self.ready_at[key]) if self._environment_kept(key, at) else ready
        self.last_used[key] = max(self.last_used.get(key, at), at + cold_start)
        return cold_start

    def _invoker(self, region: str) -> asl.Invoke:
        deps = self.deps[region]

        def invoke(function_name: str, payload: Any) -> Generator[simpy.Event, Any, Any]:
            step = step_of(function_name)
            cold_start = self.use_function(region, step, float(self.env.now))
            yield self.env.timeout(self.draw("lambda_warm_invoke") + cold_start)
            error: Exception | None = None
            result: Any = None
            with self.clock.invocation() as took:
                try:
                    result = run_step_handler(step, payload, deps)
                except Exception as exc:  # noqa: BLE001 - the Lambda runtime turns it into an error payload
                    error = exc
            yield self.env.timeout(took[0])
            key = (region, step)
            self.last_used[key] = max(self.last_used[key], float(self.env.now))  # idle counts from the end
            if error is not None:
                raise asl.TaskFailure(type(error).__name__, str(error))
            return result

        return invoke

    def _no_human(self, parameters: dict[str, Any], task_token: str) -> Generator[simpy.Event, Any, Any]:
        """An approval request in an automatic run: nobody answers (the task times out)."""
        del parameters, task_token
        yield self.env.event()  # never triggered


def step_of(function_name: str) -> str:
    """``${fence_function_arn}`` (the definition's placeholder) -> ``fence``."""
    step = function_name.removeprefix("${").removesuffix("_function_arn}")
    if step not in STEP_NAMES:
        raise asl.UnsupportedAsl(f"task FunctionName {function_name!r} is not a runbook step")
    return step


@functools.cache
def runbook_machine() -> asl.StateMachine:
    """The deployed definition, compiled once per process."""
    return asl.StateMachine(json.loads(RUNBOOK_DEFINITION.read_text(encoding="utf-8")))
