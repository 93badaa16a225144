"""The drill's scenarios: what fault to inject, who triggers the runbook, and what must
hold afterwards. Each expectation is checked against what the drill measured."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from drill.report import Expectation
from drill.world import Faults
from switchyard.config import EnvironmentConfig
from switchyard.model import Action


@dataclass
class Outcome:
    """What a scenario run produced, for its expectations to judge."""

    config: EnvironmentConfig
    runs: list[tuple[str, str]]  # (execution name, status)
    run_errors: list[str]  # "name: error: cause" of every run that did not succeed
    active_region_after: str
    answering_region_after: str
    acknowledged: int
    lost: list[int]
    loss_window_seconds: float | None  # fault -> newest lost write's acknowledgement, counted back
    traffic_moved_at: float | None
    notified_human: bool
    throttled: dict[str, int] = field(default_factory=dict)
    promote_calls: int = 0
    fenced_old_region: bool = False
    lost_after_fault: int = 0  # lost writes acknowledged after the fault (split-brain writes)
    promotions: int = 0  # promotion calls of any engine (RDS promote, Aurora switchover/failover)
    effective_runs: list[tuple[str, str]] = field(default_factory=list)  # (name, status): reached a mutating step
    stale_attempts: int = 0  # writes the stale client tried straight at the old primary
    stale_acknowledged: int = 0  # ... and that a database acknowledged
    writable_after: tuple[str, ...] = ()  # databases writable at the engine level at the end
    lost_writes_snapshot: str | None = None  # the old primary's snapshot in the lost-writes record
    failback_run: tuple[str, str] | None = None  # (name, status) of the failback tried before the acknowledgement
    failback_effective: bool = False
    failback_refusal: str = ""
    decided_on: tuple[str, ...] = ()  # failing signals of the evaluation that decided to fail over

    @property
    def succeeded_runs(self) -> int:
        return sum(status == "SUCCEEDED" for _, status in self.runs)


Check = Callable[[Outcome], Expectation]


def runs_exactly(count: int) -> Check:
    def check(outcome: Outcome) -> Expectation:
        return Expectation(
            name=f"runbook runs == {count}",
            passed=len(outcome.runs) == count and outcome.succeeded_runs == count,
            detail=f"runs: {outcome.runs}" + "".join(f"; {error}" for error in outcome.run_errors),
        )

    return check


def runs_at_most(count: int) -> Check:
    def check(outcome: Outcome) -> Expectation:
        return Expectation(
            name=f"runbook runs <= {count}", passed=len(outcome.runs) <= count, detail=f"runs: {outcome.runs}"
        )

    return check


def active_on(role: Literal["primary", "standby"]) -> Check:
    def check(outcome: Outcome) -> Expectation:
        region = outcome.config.regions.primary if role == "primary" else outcome.config.regions.standby
        passed = outcome.active_region_after == region and outcome.answering_region_after == region
        return Expectation(
            name=f"traffic on the {role} ({region})",
            passed=passed,
            detail=f"desired state says {outcome.active_region_after}, "
            f"the service name answers from {outcome.answering_region_after}",
        )

    return check


def never_back_automatically(outcome: Outcome) -> Expectation:
    """After an automatic failover, traffic stays on the standby: failback is planned only."""
    standby = outcome.config.regions.standby
    failed_over = bool(outcome.runs)
    passed = not failed_over or outcome.active_region_after == standby
    return Expectation(
        name="no automatic failback",
        passed=passed,
        detail=f"failed over: {failed_over}; active after: {outcome.active_region_after}",
    )


def no_lost_writes(outcome: Outcome) -> Expectation:
    return Expectation(
        name="zero acknowledged writes lost",
        passed=not outcome.lost,
        detail=f"{len(outcome.lost)} of {outcome.acknowledged} lost",
    )


def loss_within_rpo_budget(outcome: Outcome) -> Expectation:
    """Every lost write counts, those acknowledged after the fault included (a write taken by
    a database that was about to be abandoned is lost data like any other)."""
    budget = outcome.config.rpo_budget_seconds
    window = outcome.loss_window_seconds or 0.0
    return Expectation(
        name=f"lost writes within the RPO budget ({budget} s)",
        passed=window <= budget,
        detail=f"{len(outcome.lost)} of {outcome.acknowledged} lost ({outcome.lost_after_fault} acknowledged after "
        f"the fault); they span {window:.3f} s of acknowledged writes up to the fault or the last lost one",
    )


def promoted_once_despite_throttling(outcome: Outcome) -> Expectation:
    throttled = sum(outcome.throttled.values())
    return Expectation(
        name="one effective promotion after throttling",
        passed=throttled >= 1 and outcome.promote_calls == throttled + 1,
        detail=f"throttled {throttled} times, {outcome.promote_calls} promote calls in all",
    )


def human_notified_in_manual_mode(outcome: Outcome) -> Expectation:
    return Expectation(
        name="manual mode: a human was notified, nothing ran",
        passed=outcome.notified_human and not outcome.runs,
        detail=f"notified: {outcome.notified_human}, runs: {outcome.runs}",
    )


def old_region_fenced(outcome: Outcome) -> Expectation:
    return Expectation(
        name="old primary fenced in its own region",
        passed=outcome.fenced_old_region,
        detail="fence reached the old region's APIs" if outcome.fenced_old_region else "fence could not reach it",
    )


def human_notified(outcome: Outcome) -> Expectation:
    return Expectation(
        name="a human was notified",
        passed=outcome.notified_human,
        detail=f"notified: {outcome.notified_human}",
    )


def one_effective_runbook(outcome: Outcome) -> Expectation:
    """Of runs started together for one incident, one acts; the others are refused (lock or
    validate) before their first mutating step."""
    effective = outcome.effective_runs
    passed = len(effective) == 1 and effective[0][1] == "SUCCEEDED"
    return Expectation(
        name="exactly one effective runbook, the others refused without changes",
        passed=passed,
        detail=f"effective: {effective}; runs: {outcome.runs}" + "".join(f"; {error}" for error in outcome.run_errors),
    )


def promoted_exactly_once(outcome: Outcome) -> Expectation:
    return Expectation(
        name="exactly one promotion",
        passed=outcome.promotions == 1,
        detail=f"{outcome.promotions} promotion call(s)",
    )


def failed_over_once(outcome: Outcome) -> Expectation:
    """The automatic failover ran and succeeded (whatever the later failback attempt did)."""
    first = outcome.runs[0] if outcome.runs else None
    return Expectation(
        name="the automatic failover ran once and succeeded",
        passed=first is not None and first[1] == "SUCCEEDED" and outcome.promotions == 1,
        detail=f"runs: {outcome.runs}; promotions: {outcome.promotions}"
        + "".join(f"; {error}" for error in outcome.run_errors),
    )


def stale_writes_refused(outcome: Outcome) -> Expectation:
    return Expectation(
        name="every write to the old primary refused after the promotion",
        passed=outcome.stale_attempts > 0 and outcome.stale_acknowledged == 0,
        detail=f"the stale client tried {outcome.stale_attempts} writes, {outcome.stale_acknowledged} acknowledged",
    )


def old_primary_database_fenced(outcome: Outcome) -> Expectation:
    """Once back, the old primary's database stops taking writes by itself (the reconciler's fence)."""
    primary = outcome.config.regions.primary
    return Expectation(
        name="the returning old primary's database fenced",
        passed=primary not in outcome.writable_after,
        detail=f"databases writable at the engine level at the end: {list(outcome.writable_after) or 'none'}",
    )


def old_primary_snapshot_recorded(outcome: Outcome) -> Expectation:
    return Expectation(
        name="a snapshot of the returning old primary recorded",
        passed=bool(outcome.lost_writes_snapshot),
        detail=f"lost-writes record's snapshot: {outcome.lost_writes_snapshot or 'none'}",
    )


def failback_refused_until_acknowledged(outcome: Outcome) -> Expectation:
    run = outcome.failback_run  # refused before its first mutating step, for the lost writes
    passed = run is not None and not outcome.failback_effective and "lost" in outcome.failback_refusal.lower()
    return Expectation(
        name="failback refused until the lost writes are acknowledged",
        passed=passed,
        detail=f"failback run: {run}; reached a mutating step: {outcome.failback_effective}; "
        f"refusal: {outcome.failback_refusal[:300] or 'none'}",
    )


Inject = Callable[[Faults, EnvironmentConfig, int], None]


DEEP_CHECK_SIGNAL_PREFIXES = ("route53:", "route53-dns:", "probe")  # both request the deep health path
STEADY_STATE_SIGNAL = "alarm:steady-state"
SHALLOW_CHECK_SIGNAL = "alarm:unhealthy-hosts"  # the load balancer's target health (shallow path)


def detected_through_deep_check_and_steady_state(outcome: Outcome) -> Expectation:
    """A database outage is seen by the checks that exercise the database: Route 53's check and
    the probe of the deep health path, and the application's own success rate; the shallow
    check keeps passing, so the load balancer never cycles the instances."""
    decided = outcome.decided_on
    deep = [name for name in decided if name.startswith(DEEP_CHECK_SIGNAL_PREFIXES)]
    passed = bool(deep) and STEADY_STATE_SIGNAL in decided and SHALLOW_CHECK_SIGNAL not in decided
    return Expectation(
        name="detected through the deep health check and the steady-state signal",
        passed=passed,
        detail=f"failing signals at the decision: {list(decided) or 'no decision'}",
    )


def _primary_dark(faults: Faults, config: EnvironmentConfig, tick: int) -> None:  # noqa: ARG001
    faults.set(config.regions.primary, dark=True)


def _primary_database_down(faults: Faults, config: EnvironmentConfig, tick: int) -> None:  # noqa: ARG001
    faults.set(config.regions.primary, database_down=True)


def _primary_flapping(faults: Faults, config: EnvironmentConfig, tick: int) -> None:
    faults.set(config.regions.primary, dark=tick % 2 == 0)


def _monitoring_blind(faults: Faults, config: EnvironmentConfig, tick: int) -> None:  # noqa: ARG001
    faults.set(config.regions.primary, monitoring_blind=True)


def _nothing(faults: Faults, config: EnvironmentConfig, tick: int) -> None:
    """Planned operations inject no fault."""


def _partition(faults: Faults, config: EnvironmentConfig, tick: int) -> None:  # noqa: ARG001
    faults.cut_link(*config.regions.pair)


def _primary_dark_standby_unhealthy(faults: Faults, config: EnvironmentConfig, tick: int) -> None:  # noqa: ARG001
    faults.set(config.regions.primary, dark=True)
    faults.set(config.regions.standby, database_down=True)


OLD_PRIMARY_RETURNS_AT_TICK = 8  # evaluations after the fault: the failover is over by then


def _primary_dark_then_back(faults: Faults, config: EnvironmentConfig, tick: int) -> None:
    faults.set(config.regions.primary, dark=tick < OLD_PRIMARY_RETURNS_AT_TICK)


OLD_PRIMARY_RETURNS_CHECKS: tuple[Check, ...] = (
    failed_over_once,
    active_on("standby"),
    stale_writes_refused,
    old_primary_database_fenced,
    old_primary_snapshot_recorded,
    failback_refused_until_acknowledged,
    loss_within_rpo_budget,
)


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    inject: Inject
    checks: tuple[Check, ...]
    operator_actions: tuple[Action, ...] = ()  # empty: the monitor decides (automatic path)
    ticks: int = 10  # scheduled minutes after the fault (each runs 60 / interval monitor evaluations)
    throttle: tuple[str, int] | None = None
    probe_broken: bool = False
    manual_mode_checks: tuple[Check, ...] | None = None  # None: manual mode only notifies (see scenario_checks)
    # operator scenarios: start the first action as these runs at the same instant,
    # (the region whose runbook runs it, execution name) each
    concurrent_starts: tuple[tuple[Literal["primary", "standby"], str], ...] = ()
    stale_client: bool = False  # a client keeps writing straight to the primary from the fault on
    failback_attempt: bool = False  # afterwards, prepare-failback (rebuild the old primary) and try a failback
    # manual mode: the on-call operator acts on the monitor's recommendation (starts the
    # failover as runbooks/manual-failover.md says), so the rest of the scenario runs too
    operator_follows_recommendation: bool = False

    @property
    def automatic(self) -> bool:
        return not self.operator_actions


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "region-outage",
            "the primary region goes dark: endpoint, alarms, APIs and database",
            _primary_dark,
            (runs_exactly(1), active_on("standby"), loss_within_rpo_budget),
        ),
        Scenario(
            "database-outage",
            "only the primary's database stops answering; the region's APIs still work",
            _primary_database_down,
            (
                runs_exactly(1),
                active_on("standby"),
                loss_within_rpo_budget,
                old_region_fenced,
                detected_through_deep_check_and_steady_state,
            ),
            manual_mode_checks=(human_notified_in_manual_mode, detected_through_deep_check_and_steady_state),
        ),
        Scenario(
            "flapping-primary",
            "the primary goes dark and comes back on every other evaluation",
            _primary_flapping,
            (runs_at_most(1), never_back_automatically, loss_within_rpo_budget),
            ticks=14,
        ),
        Scenario(
            "monitoring-blind",
            "metrics, alarms and health-check status go missing and the controller's own probe fails; "
            "the application is fine",
            _monitoring_blind,
            (runs_exactly(0), active_on("primary"), no_lost_writes),
            probe_broken=True,
        ),
        Scenario(
            "promotion-throttled",
            "the primary region goes dark and the first three promote calls are throttled",
            _primary_dark,
            (runs_exactly(1), active_on("standby"), promoted_once_despite_throttling),
            throttle=("PromoteReadReplica", 3),
        ),
        Scenario(
            "switchover",
            "planned switchover to the standby with both regions healthy (RPO 0)",
            _nothing,
            (runs_exactly(1), active_on("standby"), no_lost_writes),
            operator_actions=(Action.SWITCHOVER,),
            ticks=2,
        ),
        Scenario(
            "failback",
            "planned switchover to the standby, prepare-failback rebuilds the old primary as a replica and "
            "waits for its catch-up, then failback",
            _nothing,
            (runs_exactly(3), active_on("primary"), no_lost_writes),
            operator_actions=(Action.SWITCHOVER, Action.PREPARE_FAILBACK, Action.FAILBACK),
            ticks=2,
        ),
        Scenario(
            "partition",
            "only the link between the two regions is cut; both are healthy to the outside world",
            _partition,
            (runs_exactly(0), active_on("primary"), no_lost_writes),
            manual_mode_checks=(runs_exactly(0), active_on("primary"), no_lost_writes),
        ),
        Scenario(
            "both-unhealthy",
            "the primary goes dark and the standby's own endpoint is unhealthy (its database is down)",
            _primary_dark_standby_unhealthy,
            (runs_exactly(0), human_notified),
            manual_mode_checks=(runs_exactly(0), human_notified),
        ),
        Scenario(
            "concurrent-operators",
            "two operators start the same failover at once: in the standby's runbook and, with the same "
            "execution name, in the primary's; and a second name in the standby's",
            _nothing,
            (one_effective_runbook, promoted_exactly_once, active_on("standby")),
            operator_actions=(Action.FAILOVER,),
            ticks=2,
            concurrent_starts=(
                ("standby", "failover-INC-42"),
                ("primary", "failover-INC-42"),
                ("standby", "failover-INC-42-second-operator"),
            ),
        ),
        Scenario(
            "old-primary-returns",
            "the primary goes dark, the standby takes over (data-losing), then the primary comes back while a "
            "client with a cached DNS answer keeps writing to it; then a failback is tried",
            _primary_dark_then_back,
            OLD_PRIMARY_RETURNS_CHECKS,
            manual_mode_checks=(human_notified, *OLD_PRIMARY_RETURNS_CHECKS),
            ticks=OLD_PRIMARY_RETURNS_AT_TICK + 4,
            stale_client=True,
            failback_attempt=True,
            operator_follows_recommendation=True,
        ),
    )
}


def scenario_checks(scenario: Scenario, config: EnvironmentConfig) -> tuple[Check, ...]:
    """The checks that apply: in manual mode the automatic path only notifies a human,
    unless the scenario says what manual mode must do instead. (The never-two-writers
    invariant is checked by the runner in every scenario and mode.)"""
    if scenario.automatic and config.mode == "manual" and scenario.name != "monitoring-blind":
        return scenario.manual_mode_checks or (human_notified_in_manual_mode,)
    return scenario.checks
