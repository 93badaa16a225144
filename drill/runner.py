"""Run one drill scenario end to end against the embedded emulation.

1. Start a moto server on loopback and provision the environment's topology in both
   regions (drill.provision, the same names the stacks deploy); deploy the runbook state
   machine into moto (drill.stepfunctions: moto interprets the real ASL and every Lambda
   task runs the real step handler in-process).
2. Start the workload: a writer committing numbered records to whichever region the
   service name resolves to, and a reader recording which region answers. The state
   table is answered by the MRSC model (drill.emulation.ModelledStrongConsistency), and
   each Lambda task runs with the deps of the region its function is deployed in, so two
   regions' runbooks can run at once.
3. Inject the scenario's fault; each tick, advance the drill clock by one evaluation
   interval, let CloudWatch "evaluate" the alarms (modelled), and run the real health
   monitor handler in each reachable region. In automatic mode the monitor starts the
   state machine itself; operator scenarios start it as the CLI would.
4. Measure: detection, decision, each step's start/end, when traffic answered from the
   new region, acknowledged writes lost (before and after the fault), AWS calls per step,
   and who could serve and write over the whole run (drill.invariants: never two
   writers, an expectation of every scenario).
5. The production timeline: for a scenario the production-time simulation models
   (``switchyard_sim.timeline.SIM_SCENARIOS``), one run of it with a fixed seed on the
   environment as configured (the real monitor, step handlers and runbook ASL on a
   simulated clock, every AWS duration drawn from ``drill/latency_model.toml``): detection,
   decision, each step, flip, traffic moved, database writable, in production seconds.
   Other scenarios have none, and the report says so.

The moto run never sleeps out the runbook's Wait states (its poll loops): each one
advances the drill clock instead (drill.stepfunctions). Step timings in the report are
moto's history (wall clock), so a Wait's skipped seconds show on the drill clock's events,
not between the steps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from drill import stepfunctions
from drill.adapters import (
    AlarmEvaluator,
    DrillDatabase,
    DrillHealthSignals,
    FaultInjectingClientFactory,
    ThrottleScript,
    TimedApiCallLog,
)
from drill.clock import DrillClock
from drill.dataplane import ReplicatedDatabase
from drill.emulation import ModelledStrongConsistency, moto_server
from drill.invariants import InvariantVerdict, WriterHistory, WriterSample
from drill.invariants import check as check_invariant
from drill.policy_check import check_calls
from drill.provision import provision
from drill.rebuild import ModelledRebuild
from drill.report import (
    DataLoss,
    DrillReport,
    Expectation,
    InvariantSummary,
    Measured,
    PolicyCheckSummary,
    Production,
    ProductionStep,
    StepTiming,
    TimelineEvent,
    WriterChange,
)
from drill.scenarios import Outcome, Scenario, scenario_checks
from drill.stepfunctions import (
    ExecutionReport,
    LambdaContext,
    LocalRunbook,
    all_states,
    load_definition,
    local_runbook,
    scoped_environment,
)
from drill.workload import Workload
from drill.world import Faults, Route53FailoverModel
from switchyard.adapters.database import ReplicationLagReader, modelled_database
from switchyard.adapters.protection import modelled_protection
from switchyard.adapters.state import DynamoStateStore
from switchyard.config import EnvironmentConfig
from switchyard.deps import ReadinessPolling, RunbookDeps, build_runbook_deps
from switchyard.desired_state import DesiredStateUnavailable, read_local_desired
from switchyard.handlers import monitor, reconciler
from switchyard.handlers.environment import override_deps
from switchyard.handlers.traffic_switch import switch_answer
from switchyard.model import Action, Decision, DesiredState, RunbookInput
from switchyard.retry import ApiCallLog, ClientFactory, RetryPolicy
from switchyard.runbook_state import Approval
from switchyard_cli.executions import PendingApproval, execution_history, pending_approval
from switchyard_sim.latency import load_model
from switchyard_sim.timeline import SIM_SCENARIOS, RunResult, simulate

Progress = Callable[[str], None]


class DrillError(RuntimeError):
    """The drill itself could not go on (not a failed expectation: those are in the report)."""


DEFAULT_REPLICATION_LAG_SECONDS = 0.2
# the workload ticks every 5 ms; the invariant checker samples every 10th tick, and at once
# after every change of the state table, of the faults and of the data plane's writers
SAMPLE_EVERY_TICKS = 10
PROMOTION_OPERATIONS = frozenset({"PromoteReadReplica", "SwitchoverGlobalCluster", "FailoverGlobalCluster"})
FIRST_MUTATING_STEP = "fence"  # a run that never entered it changed nothing
FOLLOW_TIMEOUT_SECONDS = 180.0
DRILL_EVALUATIONS_PER_MINUTE = 1  # see _automatic
STEADY_STATE_EVALUATIONS = 2
PRODUCTION_SEED = 1  # one fixed draw of the latency model: the same report for the same tree
QUIET_ENVIRONMENT = {
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "drill",
    "AWS_SECRET_ACCESS_KEY": "drill",  # moto only; there is no AWS account here
}


def _quiet(_: str) -> None:
    """Progress sink that prints nothing (tests)."""


@dataclass
class Timeline:
    origin: float
    events: list[TimelineEvent] = field(default_factory=list)

    def mark(self, event: str, at: float, detail: str = "") -> None:
        self.events.append(TimelineEvent(event=event, at_seconds=round(at - self.origin, 3), detail=detail))

    def first(self, event: str) -> float | None:
        return next((e.at_seconds for e in self.events if e.event == event), None)


@dataclass
class Recording:
    """What a scenario run records as it goes."""

    timeline: Timeline
    reports: list[ExecutionReport] = field(default_factory=list)
    offsets: dict[str, float] = field(default_factory=dict)  # execution name -> drill clock minus wall clock
    last_request_at: float | None = None  # operator scenarios: when the last action was requested
    decision_evaluation_started: float | None = None  # monotonic: the evaluation that decided to fail over
    decided_on: tuple[str, ...] = ()  # the failing signals of the first evaluation that decided to fail over


@dataclass
class Drill:
    """Everything one scenario run wires together."""

    config: EnvironmentConfig
    scenario: Scenario
    endpoint_url: str
    progress: Progress
    clock: DrillClock = field(default_factory=lambda: DrillClock(datetime(2026, 1, 1, tzinfo=UTC)))
    faults: Faults = field(default_factory=Faults)
    throttles: ThrottleScript = field(default_factory=ThrottleScript)
    call_log: TimedApiCallLog = field(default_factory=TimedApiCallLog)
    replication_lag_seconds: float = DEFAULT_REPLICATION_LAG_SECONDS

    def __post_init__(self) -> None:
        config = self.config
        primary, standby = config.regions.pair
        self.data = ReplicatedDatabase(
            primary=primary,
            standby=standby,
            replication_lag_seconds=self.replication_lag_seconds,
            clock=self.clock,
            network_up=self.faults.database_reachable,
        )
        self.strong_consistency = ModelledStrongConsistency(config, self.faults, self.endpoint_url)
        self.world_state = DynamoStateStore(config, self._world_clients(None))  # the drill's own reads: not counted
        # each region's traffic switch: the real read (one best-effort attempt) through the model
        self.switch_deps = {
            region: build_runbook_deps(config, region, clients=self._world_clients(region))
            for region in config.regions.pair
        }
        self.dns = Route53FailoverModel(config, self.faults, self._switch_on)
        self.workload = Workload(self.data, self.dns.resolve, self.faults, self.clock, accepts=self.dns.healthy)
        self.history = WriterHistory()
        self.strong_consistency.on_write(self.sample)
        self.data.change_listeners.append(self.sample)
        self.alarms = AlarmEvaluator(config, self.faults, self.endpoint_url, requests=self.workload)
        # the old primary's rebuild (prepare-failback) in production time: moto does it at once
        self.rebuild = ModelledRebuild.typical(self.clock, load_model())
        self.deps = {region: self._deps(region) for region in config.regions.pair}
        self._probe_broken = False
        self.recording: Recording | None = None

    # -- wiring ---------------------------------------------------------------------------
    def _world_clients(self, caller_region: str | None) -> FaultInjectingClientFactory:
        """Clients for the drill's own view of the world: faults and the MRSC model apply,
        nothing is recorded (not a Switchyard function's calls)."""
        return FaultInjectingClientFactory(
            faults=self.faults,
            throttles=ThrottleScript(),
            endpoint_url=self.endpoint_url,
            call_log=None,
            retry_policy=RetryPolicy(base_delay_seconds=0.01, max_delay_seconds=0.1),
            caller_region=caller_region,
            account=self.config.account,
            strong_consistency=self.strong_consistency,
        )

    def _switch_on(self, region: str) -> bool:
        """The traffic switch's own logic over a strongly consistent read of that region's
        replica (one attempt); a failed read answers 503, as the real switch does."""
        desired = read_local_desired(self.switch_deps[region], best_effort=True)
        if isinstance(desired, DesiredStateUnavailable):
            return False
        status, _ = switch_answer(region, desired)
        return status == 200

    def sample(self) -> None:
        """Record who could serve and write right now (drill.invariants)."""
        with self.strong_consistency.atomically():  # both switches read at one instant
            active = tuple(region for region in self.config.regions.pair if self._switch_on(region))
        writable = self.data.writable_regions()
        accepting = tuple(region for region in writable if region in active)
        self.history.record(WriterSample(self.clock(), active, writable, accepting))

    def never_two_writers(self) -> InvariantVerdict:
        """The invariant checker's verdict over the history recorded so far."""
        return check_invariant(
            self.history.snapshot(),
            self.data.acknowledged_writes_snapshot(),
            samples=self.history.samples,
            end=self.clock(),
        )

    def desired(self) -> DesiredState | None:
        """The desired state as a strongly consistent read in whichever region can answer."""
        for region in self.config.regions.pair:
            try:
                return self.world_state.read_desired(region, best_effort=True)
            except Exception:  # noqa: BLE001, S112 - that region cannot answer: ask the other
                continue
        return None

    def _deps(self, region: str) -> RunbookDeps:
        clients = FaultInjectingClientFactory(
            faults=self.faults,
            throttles=self.throttles,
            endpoint_url=self.endpoint_url,
            call_log=self.call_log,
            retry_policy=RetryPolicy(base_delay_seconds=0.01, max_delay_seconds=0.1),
            caller_region=region,  # these deps are the functions deployed in ``region``
            account=self.config.account,
            strong_consistency=self.strong_consistency,
        )
        bookkeeping = ClientFactory(endpoint_url=self.endpoint_url)
        lag = ReplicationLagReader(clients, self.clock.now)
        engine_model = modelled_database(self.config, clients, lag, bookkeeping)
        return build_runbook_deps(
            self.config,
            region,
            clients=clients,
            clock=self.clock.now,
            sleep=lambda seconds: time.sleep(min(seconds, 0.05)),
            database=DrillDatabase(engine_model, self.data, self.faults, self.rebuild),
            health=DrillHealthSignals(
                self.config,
                clients,
                self.clock.now,
                faults=self.faults,
                dns=self.dns,
                probe_broken=lambda: self._probe_broken,
            ),
            readiness=ReadinessPolling(attempts=20, interval_seconds=0.05),
            # moto has no AWS Backup recovery points: modelled (switchyard.adapters.protection)
            protection=modelled_protection(self.config, clients, self.clock.now),
        )

    def background(self) -> None:
        """Constant work of the world: the state table replicates synchronously (MRSC), so
        what is left is watching it: a sample for the invariant checker."""
        self.sample()

    def regional_handlers(self) -> AbstractContextManager[Any]:
        """Run every Lambda task with the deps of the region its function is deployed in
        (read from the invoked function's ARN), so the runbooks of both regions can run
        at the same time, each as its own region's functions."""
        original = stepfunctions._import_handler
        deps = self.deps

        def regional(path: str) -> Callable[[Any, Any], Any]:
            handler = original(path)

            def run(event: Any, context: Any) -> Any:
                region = str(context.invoked_function_arn).split(":")[3]
                return handler(event, context, deps=deps[region])  # type: ignore[call-arg]

            return run

        return mock.patch.object(stepfunctions, "_import_handler", regional)

    # -- running ------------------------------------------------------------------------
    def evaluate_monitors(self, *, reconcile: bool = True) -> list[dict[str, Any]]:
        """One evaluation interval of each reachable region's controller: the reconciler's
        constant work when ``reconcile`` (it runs once a minute, the first evaluation of each
        minute), then one evaluation of the monitor (``single_evaluation``: in AWS one
        scheduled invocation runs a minute of them; here the caller ticks the clock per
        evaluation). Both write the region's heartbeat."""
        reachable = [region for region in self.config.regions.pair if self.faults.api_reachable(region)]
        for region in reachable if reconcile else ():  # a dark region's controller cannot run
            reconciler.handler(_scheduled_event(self.config, region), _context(region), deps=self.deps[region])
        self.background()  # the heartbeats replicate before the other region reads them
        outcomes = []
        for region in reachable:
            event = _scheduled_event(self.config, region)
            outcome = monitor.single_evaluation(event, _context(region), deps=self.deps[region])
            outcomes.append({"region": region, **outcome})
        return outcomes


def _scheduled_event(config: EnvironmentConfig, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "00000000-0000-0000-0000-000000000000",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": config.account,
        "time": "2026-01-01T00:00:00Z",
        "region": region,
        "resources": [f"arn:aws:events:{region}:{config.account}:rule/switchyard-monitor"],
        "detail": {},
    }


def _context(region: str) -> LambdaContext:
    return LambdaContext("switchyard-drill-controller", f"arn:aws:lambda:{region}:000000000000:function:drill")


def _step_of_state() -> dict[str, str]:
    """Task state name -> runbook step, read from the ASL's function substitutions."""
    mapping = {}
    for name, state in all_states(load_definition()).items():
        function = str(state.get("Parameters", {}).get("FunctionName", ""))
        if function.startswith("${") and function.endswith("_function_arn}"):
            mapping[name] = function[2 : -len("_function_arn}")]
    return mapping


def _step_timings(
    reports: list[ExecutionReport], offset: dict[str, float], origin: float, call_log: ApiCallLog
) -> list[StepTiming]:
    steps = _step_of_state()
    calls: dict[str, list[bool]] = {}
    for call in call_log.snapshot():
        if call.step:
            calls.setdefault(call.step, []).append(call.mutating)
    timings: list[StepTiming] = []
    for report in reports:
        shift = offset[report.name] - origin
        for visit in report.visits:
            step = steps.get(visit.name)
            if step is None or visit.kind != "Task":
                continue
            end = visit.exited_at or visit.entered_at
            made = calls.get(step, [])
            timings.append(
                StepTiming(
                    step=step,
                    status="done" if visit.exited_at else "unfinished",
                    start_seconds=round(visit.entered_at.timestamp() + shift, 3),
                    end_seconds=round(end.timestamp() + shift, 3),
                    api_calls=len(made),
                    mutating_calls=sum(made),
                    critical_path=True,
                )
            )
    return _mark_parallel_branch(timings)


def _mark_parallel_branch(timings: list[StepTiming]) -> list[StepTiming]:
    """scale_up runs beside fence -> promote: the shorter side is off the critical path."""
    by_step = {t.step: t for t in timings}
    if not {"scale_up", "fence", "promote"} <= set(by_step):
        return timings
    scale = by_step["scale_up"].end_seconds - by_step["scale_up"].start_seconds
    chain = by_step["promote"].end_seconds - by_step["fence"].start_seconds
    shorter = {"scale_up"} if scale <= chain else {"fence", "promote"}
    return [t.model_copy(update={"critical_path": t.step not in shorter}) for t in timings]


def run_scenario(
    config: EnvironmentConfig,
    scenario: Scenario,
    *,
    progress: Progress = _quiet,
    observe: Callable[[Drill, Recording], None] | None = None,
    replication_lag_seconds: float = DEFAULT_REPLICATION_LAG_SECONDS,
) -> DrillReport:
    """Run ``scenario`` on ``config`` and return the report (nothing is written);
    ``observe`` sees the drill's internals once the run is over (the benchmark uses it)."""
    primary, standby = config.regions.pair
    production = production_timeline(config, scenario)
    with ExitStack() as stack:
        stack.enter_context(scoped_environment(QUIET_ENVIRONMENT))
        endpoint = stack.enter_context(moto_server())
        clock = DrillClock(datetime(2026, 1, 1, tzinfo=UTC))  # the runbook's Wait states advance it
        session = local_runbook(config, standby, endpoint_url=endpoint, advance_clock=clock.advance)
        runbooks = {standby: stack.enter_context(session)}
        drill = Drill(
            config, scenario, endpoint, progress, clock=clock, replication_lag_seconds=replication_lag_seconds
        )
        progress(f"provisioning {config.name} ({config.database.engine}) in {primary} and {standby} on {endpoint}")
        provision(config, endpoint_url=endpoint)
        runbooks[standby].deploy()
        if _needs_primary_runbook(scenario):
            runbooks[primary] = LocalRunbook(config, primary, endpoint_url=endpoint)
            runbooks[primary].deploy()
        stack.enter_context(drill.regional_handlers())
        stack.enter_context(override_deps(drill.deps[standby]))
        drill.background()
        drill.workload.start(on_tick=drill.background, every=SAMPLE_EVERY_TICKS)
        stack.callback(drill.workload.stop)
        for _ in range(STEADY_STATE_EVALUATIONS):  # steady state: controllers ran, heartbeats replicated
            drill.clock.advance(config.detection.evaluation_interval_seconds)
            drill.evaluate_monitors()
        time.sleep(0.2)  # writes flowing and replicating before the fault
        report = _run(drill, scenario, runbooks).model_copy(update={"production": production})
        if observe is not None:
            assert drill.recording is not None
            observe(drill, drill.recording)
        return report
    raise AssertionError("unreachable")  # pragma: no cover


def _needs_primary_runbook(scenario: Scenario) -> bool:
    return (
        Action.FAILBACK in scenario.operator_actions
        or scenario.failback_attempt
        or any(role == "primary" for role, _ in scenario.concurrent_starts)
    )


def _run(drill: Drill, scenario: Scenario, runbooks: dict[str, LocalRunbook]) -> DrillReport:
    config, progress = drill.config, drill.progress
    primary, standby = config.regions.pair
    origin = drill.clock()
    timeline = Timeline(origin)
    lag_at_fault = drill.data.lag_seconds()
    acknowledged_at_fault = drill.workload.acknowledged_snapshot()
    scenario.inject(drill.faults, config, 0)
    if scenario.stale_client:
        drill.workload.start_stale_client(primary)
    drill.sample()
    drill._probe_broken = scenario.probe_broken
    if scenario.throttle:
        drill.throttles.throttle(*scenario.throttle)
    timeline.mark("fault injected" if scenario.automatic else "operator request", origin, scenario.summary)
    progress(f"t+0.000 s  {scenario.summary}")
    recording = drill.recording = Recording(timeline)
    reports, offsets = recording.reports, recording.offsets
    notified = _act(drill, scenario, runbooks, recording)
    failover_reports = list(reports)
    writable_after = drill.data.writable_regions()  # before any failback rebuilds the old primary
    failback = _attempt_failback(drill, runbooks[primary], recording) if scenario.failback_attempt and reports else None
    target = _target_after(config, scenario, failover_reports)
    moved = None
    if reports:
        moved = drill.workload.first_answer_from(target, after=recording.last_request_at or origin)
    if moved is not None:
        timeline.mark(f"traffic answered by {target}", moved)
    time.sleep(0.1)
    drill.workload.stop()
    drill.sample()
    acknowledged = drill.workload.acknowledged_snapshot()
    lost = drill.data.lost(acknowledged)
    lost_before_fault = [seq for seq in lost if seq in acknowledged_at_fault]
    desired = drill.desired()
    active_after = desired.active_region if desired else primary
    answering = drill.dns.resolve()
    steps = _step_timings(failover_reports, offsets, origin, drill.call_log)
    runs = [(report.name, report.status) for report in reports]
    calls = drill.call_log.snapshot()
    stale_acknowledged_after_fault = [
        seq for seq in drill.workload.stale_acknowledged if seq not in acknowledged_at_fault
    ]
    outcome = Outcome(
        config=config,
        runs=runs,
        run_errors=[
            f"{report.name}: {report.error}: {(report.cause or '')[:300]}"
            for report in reports
            if report.status != "SUCCEEDED"
        ],
        active_region_after=active_after,
        answering_region_after=answering,
        acknowledged=len(acknowledged),
        lost=lost,
        loss_window_seconds=drill.workload.loss_window(lost, origin),
        traffic_moved_at=moved,
        notified_human=notified,
        throttled=dict(drill.throttles.throttled),
        promote_calls=sum(call.operation == "PromoteReadReplica" for call in calls),
        fenced_old_region=_fenced_in_old_region(reports),
        lost_after_fault=len(lost) - len(lost_before_fault),
        promotions=sum(call.operation in PROMOTION_OPERATIONS and call.step is not None for call in calls),
        effective_runs=[(report.name, report.status) for report in failover_reports if _effective(report)],
        stale_attempts=drill.workload.stale_attempts,
        stale_acknowledged=len(stale_acknowledged_after_fault),
        writable_after=writable_after,
        lost_writes_snapshot=_lost_writes_snapshot(drill, desired),
        failback_run=(failback.name, failback.status) if failback else None,
        failback_effective=bool(failback and _effective(failback)),
        failback_refusal=_refusal(failback) if failback else "",
        decided_on=recording.decided_on,
    )
    expectations = [check(outcome) for check in scenario_checks(scenario, config)]
    verdict = drill.never_two_writers()
    expectations.append(Expectation(name=INVARIANT_EXPECTATION, passed=verdict.passed, detail=verdict.detail()))
    policy_expectation, policy = _check_policies(config, drill.call_log)
    expectations.append(policy_expectation)
    detection = timeline.first("detected")
    runbook_seconds = (steps[-1].end_seconds - steps[0].start_seconds) if steps else None
    rto = round(moved - (recording.last_request_at or origin), 3) if moved is not None else None
    return DrillReport(
        environment=config.name,
        scenario=scenario.name,
        engine=config.database.engine,
        primary_region=primary,
        standby_region=standby,
        active_region_after=active_after,
        passed=all(item.passed for item in expectations),
        expectations=expectations,
        timeline=sorted(timeline.events, key=lambda event: event.at_seconds),
        steps=steps,
        data=DataLoss(
            acknowledged_writes=len(acknowledged),
            lost_writes=len(lost),
            lost_before_fault=len(lost_before_fault),
            lost_after_fault=outcome.lost_after_fault,
            lost_sequences=lost[:100],
            loss_window_seconds=outcome.loss_window_seconds,
            replication_lag_at_fault_seconds=lag_at_fault,
        ),
        measured=Measured(
            detection_seconds=detection,
            runbook_seconds=round(runbook_seconds, 3) if runbook_seconds is not None else None,
            rto_seconds=rto,
            runbook_runs=len(reports),
            api_calls=len(drill.call_log.snapshot()),
        ),
        production=None,  # run_scenario adds it: a simulation, not this run
        policy=policy,
        invariant=_invariant_summary(verdict),
        writers=_writer_changes(drill.history.snapshot(), origin),
    )


def _act(drill: Drill, scenario: Scenario, runbooks: dict[str, LocalRunbook], recording: Recording) -> bool:
    """The scenario's trigger: the monitors, or operators; returns whether a human was notified."""
    if scenario.automatic:
        return _automatic(drill, scenario, runbooks[drill.config.regions.standby], recording)
    if scenario.concurrent_starts:
        _concurrent_operators(drill, scenario, runbooks, recording)
    else:
        _operator(drill, scenario, runbooks, recording)
    return False


INVARIANT_EXPECTATION = (
    "never two writers: at most one active region, at most one database accepting writes, "
    "no write acknowledged by a database that was not the writer"
)


def _invariant_summary(verdict: InvariantVerdict) -> InvariantSummary:
    return InvariantSummary(
        passed=verdict.passed,
        samples=verdict.samples,
        max_active_regions=verdict.max_active_regions,
        max_accepting_databases=verdict.max_accepting_databases,
        max_writable_databases=verdict.max_writable_databases,
        two_engines_writable_seconds=verdict.two_engines_writable_seconds,
        writes_by_non_writer=len(verdict.writes_by_non_writer),
    )


def _writer_changes(changes: list[WriterSample], origin: float) -> list[WriterChange]:
    return [
        WriterChange(
            at_seconds=round(change.at - origin, 3),
            active_regions=list(change.active_regions),
            writable_databases=list(change.writable_databases),
            accepting_databases=list(change.accepting_databases),
        )
        for change in changes
    ]


def _effective(report: ExecutionReport) -> bool:
    """Whether the run reached its first mutating step (a refused run never does)."""
    steps = _step_of_state()
    return any(steps.get(visit.name) == FIRST_MUTATING_STEP for visit in report.visits)


def _refusal(report: ExecutionReport) -> str:
    """Why a run stopped: its error and cause, or the messages of its results."""
    results = ((report.output or {}).get("results") or {}).values()
    messages = [str(result.get("message", "")) for result in results if isinstance(result, dict)]
    return " ".join(filter(None, [report.error or "", report.cause or "", *messages]))


def _lost_writes_snapshot(drill: Drill, desired: DesiredState | None) -> str | None:
    """The old primary's snapshot in the lost-writes records up to the current epoch."""
    read = getattr(drill.world_state, "read_lost_writes", None)
    if read is None or desired is None:
        return None  # the state store has no lost-writes records (yet)
    for region in drill.config.regions.pair:
        try:
            records = read(region, up_to_epoch=desired.epoch)
        except Exception:  # noqa: BLE001, S112 - that region cannot answer: ask the other
            continue
        snapshots = [str(record["snapshot"]) for record in records if record.get("snapshot")]
        return ", ".join(snapshots) or None
    return None


POLICY_EXPECTATION = "every AWS call allowed by its function's synthesized IAM policy"


def _check_policies(config: EnvironmentConfig, call_log: ApiCallLog) -> tuple[Expectation, PolicyCheckSummary]:
    """Check every call a Switchyard function made during the run against that function's
    policy in the synthesized templates (moto enforces no IAM). A template that cannot be
    synthesized fails the expectation: nothing was checked, so nothing is known to be allowed."""
    try:
        check = check_calls(config, call_log.snapshot())
    except Exception as exc:  # noqa: BLE001 - reported as a failed expectation, the drill's own verdict
        detail = f"could not check: the templates did not synthesize: {type(exc).__name__}: {exc}"
        unlabelled = sum(call.step is None for call in call_log.snapshot())
        return Expectation(name=POLICY_EXPECTATION, passed=False, detail=detail[:2000]), PolicyCheckSummary(
            checked_calls=0, unlabelled_calls=unlabelled, denied_calls=0, uncheckable_calls=0
        )
    summary = PolicyCheckSummary(
        checked_calls=check.checked,
        unlabelled_calls=check.unlabelled,
        denied_calls=check.denied_calls,
        uncheckable_calls=len(check.problems),
    )
    return Expectation(name=POLICY_EXPECTATION, passed=check.passed, detail=check.summary()), summary


def _target_after(config: EnvironmentConfig, scenario: Scenario, reports: list[ExecutionReport]) -> str:
    """Where traffic should be once the scenario's runbooks ran."""
    if scenario.operator_actions:
        return config.regions.primary if scenario.operator_actions[-1] is Action.FAILBACK else config.regions.standby
    return config.regions.standby if reports else config.regions.primary


def _fenced_in_old_region(reports: list[ExecutionReport]) -> bool:
    for report in reports:
        fence = ((report.output or {}).get("results") or {}).get("fence") or {}
        fenced = (fence.get("observed") or {}).get("fenced") or []
        if any(str(item).startswith("asg@") for item in fenced):
            return True
    return False


def production_timeline(config: EnvironmentConfig, scenario: Scenario) -> Production | None:
    """``scenario`` on a simulated production clock, one run with :data:`PRODUCTION_SEED`,
    the environment as configured (prod's manual mode included: what it shows is what a
    human-less production run would do); None when the simulation does not model it."""
    modelled = SIM_SCENARIOS.get(scenario.name)
    if modelled is None:
        return None
    return production_of(simulate(config, load_model(), modelled, PRODUCTION_SEED), mode=config.mode)


def production_of(result: RunResult, *, mode: str) -> Production:
    """The report's section from one simulated run (every time in seconds after the fault)."""
    run = result.as_dict()
    return Production(
        seed=result.seed,
        mode=mode,
        floor_seconds=run["floor_s"],
        detection_seconds=run["detected_s"],
        decision_seconds=run["decided_s"],
        runbook_started_seconds=run["runbook_started_s"],
        runbook_ended_seconds=run["runbook_ended_s"],
        runbook_status=result.runbook_status,
        runbook_error=result.runbook_error,
        flip_seconds=run["flipped_s"],
        traffic_moved_seconds=run["traffic_moved_s"],
        database_writable_seconds=run["database_writable_s"],
        capacity_ready_seconds=run["capacity_ready_s"],
        rto_seconds=run["rto_s"],
        steps=[
            ProductionStep(
                state=step["state"], start_seconds=step["start_s"], end_seconds=step["end_s"], attempts=step["attempts"]
            )
            for step in run["steps"]
        ],
    )


def _automatic(drill: Drill, scenario: Scenario, runbook: LocalRunbook, recording: Recording) -> bool:
    """Tick the monitors; wait for any runbook they start. Returns whether a human was notified."""
    config, progress = drill.config, drill.progress
    timeline = recording.timeline
    # a scenario's tick is one scheduled minute (one monitor invocation): its faults change at
    # the minute. The drill evaluates once a minute (DRILL_EVALUATIONS_PER_MINUTE), not at the
    # production cadence: it checks what the controller does (expectations, never two
    # writers, every call against IAM) against the emulation, where each evaluation costs
    # real time; how long detection takes at the production cadence is the production
    # timeline's to say (switchyard_sim, the report's ``production`` section)
    per_minute = DRILL_EVALUATIONS_PER_MINUTE
    interval = 60 // per_minute
    started: set[str] = set()
    notified = False
    for evaluation in range(scenario.ticks * per_minute):
        tick, within_minute = divmod(evaluation, per_minute)
        first_of_minute = within_minute == 0
        drill.clock.advance(interval)
        if first_of_minute:
            scenario.inject(drill.faults, config, tick)
        drill.alarms.evaluate()
        drill.background()  # a sample right after the faults changed
        evaluation_started = time.monotonic()
        for outcome in drill.evaluate_monitors(reconcile=first_of_minute):
            now = drill.clock()
            decision = outcome.get("decision")
            if decision and decision != Decision.HEALTHY and timeline.first("detected") is None:
                timeline.mark("detected", now, f"{outcome['region']} monitor: {decision}")
                progress(f"t+{now - timeline.origin:.3f} s  detected by {outcome['region']}'s monitor ({decision})")
            notified = notified or bool(outcome.get("notified"))
            arn = outcome.get("started_execution")
            if decision == Decision.FAIL_OVER and timeline.first("decision: fail over") is None:
                timeline.mark("decision: fail over", now, "; ".join(outcome.get("reasons", []))[:200])
                recording.decision_evaluation_started = evaluation_started
                recording.decided_on = tuple(outcome.get("failing_signals") or ())
                progress(f"t+{now - timeline.origin:.3f} s  decision: fail over")
            if arn is None and _recommended(drill, scenario, outcome) and not started:
                arn = _start_recommended_failover(drill, runbook, recording)
            if arn and arn not in started:
                started.add(arn)
                recording.offsets[arn.rsplit(":", 1)[-1]] = drill.clock() - time.time()
                timeline.mark("runbook started", now, arn.rsplit(":", 1)[-1])
                recording.reports.append(_follow(drill, runbook, arn, timeline))
    return notified


DRILL_REQUESTER = "switchyard-drill"  # the operator the drill plays; never its approver (DRILL_APPROVER)


def drill_request(action: Action, target_region: str, reason: str, incident_id: str) -> RunbookInput:
    """A runbook request as the drill's operator makes it with the CLI."""
    return RunbookInput(
        action=action,
        target_region=target_region,
        reason=reason,
        incident_id=incident_id,
        requested_by=DRILL_REQUESTER,
    )


def _recommended(drill: Drill, scenario: Scenario, outcome: dict[str, Any]) -> bool:
    """Manual mode: the monitor recommended a failover to a human who, in this scenario, acts on it."""
    return (
        drill.config.mode == "manual"
        and scenario.operator_follows_recommendation
        and outcome.get("decision") == Decision.FAIL_OVER
        and bool(outcome.get("notified"))
    )


def _start_recommended_failover(drill: Drill, runbook: LocalRunbook, recording: Recording) -> str:
    """Start the failover the recommendation asked for, as ``switchyard failover`` would: in
    the standby's runbook, requested by the drill (approved later by another person)."""
    standby = drill.config.regions.standby
    request = drill_request(
        Action.FAILOVER, standby, "drill: acting on the monitor's failover recommendation", "DRILL-RECOMMENDED"
    )
    recording.last_request_at = drill.clock()
    recording.timeline.mark("failover requested", recording.last_request_at, "on the monitor's recommendation")
    with override_deps(drill.deps[standby]):
        return runbook.start(request.model_dump(mode="json"), name="failover-DRILL-RECOMMENDED")


def _operator(drill: Drill, scenario: Scenario, runbooks: dict[str, LocalRunbook], recording: Recording) -> None:
    config = drill.config
    primary, standby = config.regions.pair
    for number, action in enumerate(scenario.operator_actions, start=1):
        target = primary if action in (Action.FAILBACK, Action.PREPARE_FAILBACK) else standby
        drill.background()  # an operator acts seconds later: the previous run's writes have replicated
        request = drill_request(action, target, f"drill: {scenario.name}", f"DRILL-{number}")
        name = f"{action.value}-DRILL-{number}"
        runbook = runbooks[target]
        with override_deps(drill.deps[target]):
            recording.offsets[name] = drill.clock() - time.time()
            recording.last_request_at = drill.clock()
            recording.timeline.mark(f"{action.value} requested", recording.last_request_at, f"to {target}")
            arn = runbook.start(request.model_dump(mode="json"), name=name)
            recording.reports.append(_follow(drill, runbook, arn, recording.timeline))
        _mark_rebuild(drill, recording.timeline)


def _concurrent_operators(
    drill: Drill, scenario: Scenario, runbooks: dict[str, LocalRunbook], recording: Recording
) -> None:
    """Two operators start the same incident at the same instant: every start of
    ``scenario.concurrent_starts`` in its own thread behind a barrier, then each run is
    followed to its end (approvals answered as the on-call operator would)."""
    config = drill.config
    action = scenario.operator_actions[0]
    target = config.regions.primary if action is Action.FAILBACK else config.regions.standby
    request = drill_request(action, target, f"drill: {scenario.name}", "INC-42").model_dump(mode="json")
    starts = [
        (runbooks[config.regions.primary if role == "primary" else target], name)
        for role, name in scenario.concurrent_starts
    ]
    barrier = threading.Barrier(len(starts))
    arns: list[str | None] = [None] * len(starts)
    errors: list[str] = []

    def start(index: int, runbook: LocalRunbook, name: str) -> None:
        barrier.wait()
        try:
            arns[index] = runbook.start(request, name=name)
        except Exception as exc:  # noqa: BLE001 - a refused start is an outcome, reported on the timeline
            errors.append(f"{runbook.region}/{name}: {exc}")

    recording.last_request_at = drill.clock()
    recording.timeline.mark(f"{action.value} requested", recording.last_request_at, f"{len(starts)} starts at once")
    threads = [
        threading.Thread(target=start, args=(index, runbook, name), name=f"operator-{index}")
        for index, (runbook, name) in enumerate(starts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for error in errors:
        recording.timeline.mark("start refused", drill.clock(), error[:200])
    for (runbook, _), arn in zip(starts, arns, strict=True):
        if arn is None:
            continue
        recording.offsets[arn.rsplit(":", 1)[-1]] = drill.clock() - time.time()
        recording.reports.append(_follow(drill, runbook, arn, recording.timeline))


def _attempt_failback(drill: Drill, runbook: LocalRunbook, recording: Recording) -> ExecutionReport:
    """What an operator does next after a data-losing failover: prepare the failback
    (``switchyard prepare-failback``: the old primary rebuilt as a replica, its data kept as
    the lost-writes snapshot) and start a failback, before anyone acknowledged the writes the
    failover lost. The preparation may run; the failback must refuse."""
    primary = drill.config.regions.primary
    prepare = drill_request(
        Action.PREPARE_FAILBACK, primary, "drill: rebuild the old primary before failing back", "DRILL-FAILBACK"
    )
    prepare_name = "prepare-failback-DRILL-FAILBACK"
    recording.offsets[prepare_name] = drill.clock() - time.time()
    recording.timeline.mark("prepare-failback requested", drill.clock(), f"to {primary}")
    recording.reports.append(
        _follow(drill, runbook, runbook.start(prepare.model_dump(mode="json"), name=prepare_name), recording.timeline)
    )
    _mark_rebuild(drill, recording.timeline)
    request = drill_request(
        Action.FAILBACK, primary, "drill: failback before the lost writes are acknowledged", "DRILL-FAILBACK"
    )
    name = "failback-DRILL-FAILBACK"
    recording.offsets[name] = drill.clock() - time.time()
    recording.timeline.mark("failback requested", drill.clock(), "lost writes not acknowledged")
    arn = runbook.start(request.model_dump(mode="json"), name=name)
    report = _follow(drill, runbook, arn, recording.timeline)
    recording.reports.append(report)
    return report


def _follow(drill: Drill, runbook: LocalRunbook, arn: str, timeline: Timeline) -> ExecutionReport:
    """Wait (bounded) for one execution, printing each step as it finishes and answering an
    approval request the way the on-call operator would with ``switchyard approve``."""
    shown: set[tuple[str, float]] = set()
    sfn = runbook.client("stepfunctions")
    deadline = time.monotonic() + FOLLOW_TIMEOUT_SECONDS
    while True:
        report = runbook.report(arn)
        for visit in report.visits:
            key = (visit.name, visit.entered_at.timestamp())
            if visit.kind == "Task" and visit.exited_at is not None and key not in shown:
                shown.add(key)
                drill.progress(f"           step {visit.name:<16} {visit.seconds or 0:7.3f} s")
        if report.status != "RUNNING":
            timeline.mark(f"runbook {report.status.lower()}", drill.clock(), report.name)
            drill.progress(f"           runbook {report.name}: {report.status}")
            return report
        waiting = pending_approval(execution_history(sfn, arn))
        if waiting is not None:
            _approve(drill, sfn, waiting, timeline)
        if time.monotonic() > deadline:
            raise DrillError(f"runbook {report.name} still running after {FOLLOW_TIMEOUT_SECONDS} s")
        time.sleep(0.05)


DRILL_APPROVER = "drill-operator"  # never the requester (switchyard-drill, switchyard-monitor)


def _approve(drill: Drill, sfn: Any, waiting: PendingApproval, timeline: Timeline) -> None:
    """Approve as the drill's operator, a person other than the requester (four eyes), accepting
    the lag the request carried, as ``switchyard approve`` does by default."""
    observed = (waiting.request.get("preflight") or {}).get("observed") or {}
    lag = observed.get("replication_lag_seconds")
    why = observed.get("approval_reason") or "approval required"
    approval = Approval(
        approved_by=DRILL_APPROVER,
        approved_at=drill.clock.now(),
        note=f"drill: accepted replication lag {lag} s ({why})",
        accepted_lag_seconds=None if lag is None else float(lag),
    )
    sfn.send_task_success(taskToken=waiting.task_token, output=approval.model_dump_json())
    timeline.mark("approved by the operator", drill.clock(), why[:120])
    drill.progress(f"           approval requested ({why}); approved by the drill's operator")


def _mark_rebuild(drill: Drill, timeline: Timeline) -> None:
    """The rebuild's modelled operations (sent, finished) and the data plane's rejoin, on the
    drill clock: the report's timeline shows how long the preparation took in production time."""
    marked = {(event.event, event.at_seconds) for event in timeline.events}
    for event in drill.rebuild.events:
        if (event.event, round(event.at - timeline.origin, 3)) not in marked:
            timeline.mark(event.event, event.at, event.detail)
