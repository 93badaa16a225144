"""GIVEN a provisioned environment WHEN the whole runbook runs THEN the standby takes
over in the safe order, for both database engines."""

from __future__ import annotations

from datetime import timedelta

from switchyard.model import StepStatus
from tests.controller.conftest import Controller, active_region, failover_state
from tests.controller.runner import Denial, deny, run_runbook

CRITICAL_OPERATIONS = {
    "PromoteReadReplica": "promote",
    "SwitchoverGlobalCluster": "promote",
    "FailoverGlobalCluster": "promote",
}


def test_full_runbook_fences_promotes_once_and_moves_traffic_to_the_standby(controller: Controller) -> None:
    # GIVEN the standby lags 1 s (within both budgets) and an approval (prod is manual mode)
    controller.publish_lag(1.0)
    deps = controller.deps()
    state = failover_state(controller.config, approval=controller.approval())

    # WHEN the deployed runbook runs
    outcome = run_runbook(state, deps)

    # THEN the execution succeeded with every step's result ok
    assert outcome.succeeded, (outcome.execution.error, outcome.execution.cause)
    assert all(result.ok for result in outcome.state.results.values()), outcome.state.results
    # AND the old primary was fenced before the one promotion was sent, and readiness was checked after it
    all_calls = controller.call_log.snapshot()
    promotions = [i for i, call in enumerate(all_calls) if call.operation in CRITICAL_OPERATIONS]
    assert len(promotions) == 1
    fence_writes = [i for i, call in enumerate(controller.call_log.mutating()) if call.step == "fence"]
    mutating_promotion = next(
        i for i, call in enumerate(controller.call_log.mutating()) if call.operation in CRITICAL_OPERATIONS
    )
    assert fence_writes
    assert min(fence_writes) < mutating_promotion
    assert promotions[0] < max(i for i, call in enumerate(all_calls) if call.step == "wait_ready")
    # AND the desired state in the target region says the standby is active at the lock's epoch
    desired = deps.state.read_desired(controller.config.regions.standby)
    assert desired is not None
    assert (desired.active_region, desired.epoch, desired.fenced_region) == (
        controller.config.regions.standby,
        outcome.state.epoch,
        controller.config.regions.primary,
    )


def test_scale_up_overlaps_fence_and_promote(controller: Controller) -> None:
    # GIVEN scaling the standby up takes longer than fencing (simulated task durations)
    controller.publish_lag(1.0)
    deps = controller.deps()
    state = failover_state(controller.config, approval=controller.approval())

    # WHEN the deployed runbook runs
    outcome = run_runbook(state, deps, task_seconds={"scale_up": 30.0})

    # THEN scale_up was still running when the promotion was sent: the definition runs them side by side
    assert outcome.succeeded, (outcome.execution.error, outcome.execution.cause)
    assert outcome.status("scale_up") is StepStatus.DONE
    scale_up, promote = outcome.calls("scale_up")[0], outcome.calls("promote")[0]
    assert scale_up.at <= promote.at < scale_up.at + 30.0


def test_rerunning_a_finished_runbook_changes_nothing(controller: Controller) -> None:
    # GIVEN a runbook that completed
    controller.publish_lag(1.0)
    deps = controller.deps()
    state = failover_state(controller.config, approval=controller.approval())
    run_runbook(state, deps)
    before = len(controller.call_log.mutating())

    # WHEN the same execution runs again (a crash-and-retry of the whole execution)
    controller.clock.advance(timedelta(seconds=30).total_seconds())
    rerun = run_runbook(state, deps)

    # THEN every step is a no-op and no mutating call was made
    statuses = {name: result.status for name, result in rerun.state.results.items()}
    assert set(statuses.values()) <= {StepStatus.NOOP}, statuses
    assert len(controller.call_log.mutating()) == before


def test_the_readiness_loop_waits_out_a_slow_promotion_on_the_test_clock(rds: Controller) -> None:
    # GIVEN the standby database takes 300 s to become writable after its promotion is sent
    rds.publish_lag(1.0)
    deps = rds.deps(promotion_seconds=300.0)
    started = rds.clock()

    # WHEN the deployed runbook runs
    outcome = run_runbook(failover_state(rds.config, approval=rds.approval()), deps)

    # THEN it polled readiness more than once, the test clock moving with each Wait, then succeeded
    assert outcome.succeeded, (outcome.execution.error, outcome.execution.cause)
    assert len(outcome.calls("wait_ready")) > 1
    assert (rds.clock() - started).total_seconds() >= 300.0
    assert active_region(deps, rds.config.regions.standby) == rds.config.regions.standby


def test_an_operators_rejection_stops_the_runbook_before_any_change(rds: Controller) -> None:
    # GIVEN the replica lags above the RPO budget, so the runbook asks for an approval
    rds.publish_lag(120.0)
    deps = rds.deps()

    # WHEN the on-call engineer rejects it
    outcome = run_runbook(failover_state(rds.config), deps, approver=deny(Denial(by="oncall", note="wait for RDS")))

    # THEN the run failed before changes, naming the rejection, and nothing was promoted or moved
    assert outcome.execution.error == "Switchyard.FailedBeforeChanges"
    assert "oncall: wait for RDS" in (outcome.execution.cause or "")
    assert outcome.calls("promote") == []
    assert outcome.calls("flip") == []
    assert active_region(deps, rds.config.regions.standby) == rds.config.regions.primary
