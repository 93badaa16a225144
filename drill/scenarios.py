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
    budget = outcome.config.rpo_budget_seconds
    window = outcome.loss_window_seconds or 0.0
    return Expectation(
        name=f"lost writes within the RPO budget ({budget} s)",
        passed=window <= budget,
        detail=f"{len(outcome.lost)} of {outcome.acknowledged} lost; the oldest was acknowledged "
        f"{window:.3f} s before the fault",
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


Inject = Callable[[Faults, EnvironmentConfig, int], None]


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


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    inject: Inject
    checks: tuple[Check, ...]
    operator_actions: tuple[Action, ...] = ()  # empty: the monitor decides (automatic path)
    ticks: int = 10  # monitor evaluations after the fault
    throttle: tuple[str, int] | None = None
    probe_broken: bool = False

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
            (runs_exactly(1), active_on("standby"), loss_within_rpo_budget, old_region_fenced),
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
            "planned switchover to the standby, the old primary rejoins as a replica, then failback",
            _nothing,
            (runs_exactly(2), active_on("primary"), no_lost_writes),
            operator_actions=(Action.SWITCHOVER, Action.FAILBACK),
            ticks=2,
        ),
    )
}


def scenario_checks(scenario: Scenario, config: EnvironmentConfig) -> tuple[Check, ...]:
    """The checks that apply: in manual mode the automatic path only notifies a human."""
    if scenario.automatic and config.mode == "manual" and scenario.name != "monitoring-blind":
        return (human_notified_in_manual_mode,)
    return scenario.checks
