"""The fault cases of issue 3, each as its own test: GIVEN a fault WHEN the controller
meets it THEN it stays safe."""

from __future__ import annotations

import pytest

from switchyard.handlers import monitor
from switchyard.handlers.runbook import run_step_handler
from switchyard.model import Decision, StepStatus
from switchyard.steps import STEPS, RetryableStepError
from tests.controller.conftest import (
    SCHEDULED_EVENT,
    Controller,
    FakeLambdaContext,
    StaticProbe,
    active_region,
    failover_state,
)
from tests.controller.route53_verdicts import route53_sees
from tests.controller.runner import no_answer, run_runbook


# -- duplicate trigger -------------------------------------------------------------------
def test_duplicate_trigger_starts_exactly_one_runbook(rds: Controller) -> None:
    # GIVEN the primary's alarms fire and the standby's probe fails (quorum, one from outside)
    primary, standby = rds.config.regions.pair
    arn = rds.state_machine(standby)
    rds.alarm_everything(primary)
    probe = StaticProbe(healthy=False)
    deps = route53_sees(rds.deps(standby, probe=probe), probe, {primary: True})
    outcomes = rds.evaluate(deps, 3)
    assert outcomes[-1]["decision"] == Decision.FAIL_OVER

    # WHEN the same trigger is delivered again (and once more by an alarm event)
    rds.clock.advance(-60)
    # (one evaluation each, as rds.evaluate ran them: the minute's sub-minute evaluations are
    # tests/controller/test_monitor_cadence.py's)
    again = monitor.single_evaluation(SCHEDULED_EVENT, FakeLambdaContext(), deps=deps)
    alarm_event = {**SCHEDULED_EVENT, "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch"}
    third = monitor.single_evaluation(alarm_event, FakeLambdaContext(), deps=deps)

    # THEN exactly one execution exists, with the deterministic name
    executions = rds.executions(arn, standby)
    assert [execution["name"] for execution in executions] == [f"auto-failover-to-{standby}-from-epoch-0"]
    assert again["started_execution"] == third["started_execution"] == outcomes[-1]["started_execution"]


# -- throttling --------------------------------------------------------------------------
def test_promote_throttled_three_times_then_succeeds_promotes_once(rds: Controller) -> None:
    # GIVEN PromoteReadReplica is throttled on its first three attempts
    injected = rds.fail("rds", "PromoteReadReplica", "Throttling", times=3)
    rds.publish_lag(1.0)
    deps = rds.deps()
    state = rds.run_steps(failover_state(rds.config), deps, ["validate", "lock", "fence"])

    # WHEN promote runs
    result = STEPS["promote"](state, deps)

    # THEN it succeeded on the fourth attempt after three jittered backoffs
    assert result.status is StepStatus.DONE
    assert len(injected) == 3
    assert rds.call_log.operations().count("PromoteReadReplica") == 4
    assert rds.sleeps == [0.1, 0.2, 0.4]  # base 0.2 * 2**n, full jitter fixed at 0.5 by the test
    # AND the replica is the writer, so a re-run is a no-op (one effective promotion)
    assert STEPS["promote"](state, deps).status is StepStatus.NOOP
    assert rds.call_log.operations().count("PromoteReadReplica") == 4


def test_promote_that_keeps_failing_needs_a_human_and_keeps_the_lock(rds: Controller) -> None:
    # GIVEN PromoteReadReplica is throttled on every attempt
    rds.fail("rds", "PromoteReadReplica", "Throttling")
    rds.publish_lag(1.0)
    deps = rds.deps()

    # WHEN the deployed runbook runs (promote's Retry runs out)
    outcome = run_runbook(failover_state(rds.config), deps)

    # THEN promote was retried, each attempt raising the error the Retry matches, then it stopped there
    attempts = outcome.calls("promote")
    assert len(attempts) > 1
    assert {attempt.error for attempt in attempts} == {"RetryableStepError"}
    assert outcome.stopped_at == "promote"
    # AND the failure path kept the lock (changes began) and recorded the run for a human
    assert outcome.execution.error == "Switchyard.FailedAfterChanges"
    assert outcome.calls("release") == []
    assert outcome.status("record") is StepStatus.DONE
    # AND the standby's database was never promoted
    assert (
        rds.aws("rds", rds.config.regions.standby)
        .describe_db_instances()["DBInstances"][0]
        .get("ReadReplicaSourceDBInstanceIdentifier")
    )


def test_a_retryable_promote_failure_is_raised_for_the_state_machine(rds: Controller) -> None:
    # GIVEN PromoteReadReplica is throttled on every attempt
    rds.fail("rds", "PromoteReadReplica", "ThrottlingException")
    rds.publish_lag(1.0)
    deps = rds.deps()
    state = failover_state(rds.config, epoch=1)

    # WHEN promote's handler runs THEN it raises the error the state machine retries on
    with pytest.raises(RetryableStepError, match="ThrottlingException from PromoteReadReplica"):
        run_step_handler("promote", state.model_dump(mode="json"), deps)


def test_a_validation_error_from_promote_is_not_retried(rds: Controller) -> None:
    # GIVEN RDS rejects the promotion as invalid
    rds.fail("rds", "PromoteReadReplica", "InvalidDBInstanceState")
    rds.publish_lag(1.0)
    deps = rds.deps()

    # WHEN promote runs
    result = STEPS["promote"](failover_state(rds.config, epoch=1), deps)

    # THEN one attempt, then a human
    assert result.status is StepStatus.NEEDS_HUMAN
    assert rds.call_log.operations().count("PromoteReadReplica") == 1


# -- primary recovers mid-failover ---------------------------------------------------------
def test_primary_recovering_mid_failover_does_not_flip_back(rds: Controller, lambda_context: FakeLambdaContext) -> None:
    # GIVEN the primary region is unreachable when the runbook starts
    primary, standby = rds.config.regions.pair
    outage = rds.outage(primary)
    rds.publish_lag(1.0)
    deps = rds.deps(standby)

    # WHEN it recovers right after the promotion, and the runbook carries on
    def recover_after_promotion(step: str) -> None:
        if step == "wait_ready":
            outage.end()

    outcome = run_runbook(failover_state(rds.config), deps, before_step=recover_after_promotion)

    # THEN the runbook finished on the standby; the fence into the dark region was a recorded miss
    assert outcome.stopped_at is None, outcome.state.results
    assert outcome.state.results["fence"].observed["not_fenced"]
    desired = deps.state.read_desired(standby)
    assert desired is not None
    assert (desired.active_region, desired.fenced_region) == (standby, primary)
    # AND the recovered primary's monitor, even seeing the new active region fail, does not fail back
    rds.state_machine(primary)
    rds.alarm_everything(standby)
    rds.clock.advance(rds.config.detection.hold_down_seconds)
    probe = StaticProbe(healthy=False)
    old_region = route53_sees(rds.deps(primary, probe=probe), probe, {standby: True})
    deps.state.write_desired(primary, desired)  # what global-table replication delivers
    outcomes = rds.evaluate(old_region, 5)
    assert all(outcome["decision"] != Decision.FAIL_OVER for outcome in outcomes)
    assert any("failback" in " ".join(outcome["reasons"]) for outcome in outcomes)
    assert active_region(old_region, primary) == standby


# -- missing data, lone probe --------------------------------------------------------------
def test_missing_metrics_never_trigger_an_automatic_failover(rds: Controller) -> None:
    # GIVEN the primary's alarms have no data and the probe cannot tell
    primary, standby = rds.config.regions.pair
    arn = rds.state_machine(standby)
    rds.alarm_everything(primary, "INSUFFICIENT_DATA")
    deps = rds.deps(standby, probe=StaticProbe(healthy=None))

    # WHEN the monitor evaluates for ten minutes
    outcomes = rds.evaluate(deps, 10)

    # THEN it never decided to fail over and started nothing
    assert {outcome["decision"] for outcome in outcomes} == {Decision.HEALTHY}
    assert rds.executions(arn, standby) == []


def test_only_the_controllers_own_probe_failing_is_no_quorum(rds: Controller) -> None:
    # GIVEN the alarms and Route 53 say healthy, only the controller's probe fails
    standby = rds.config.regions.standby
    arn = rds.state_machine(standby)
    deps = rds.deps(standby, probe=StaticProbe(healthy=False))

    # WHEN the monitor evaluates for ten minutes
    outcomes = rds.evaluate(deps, 10)

    # THEN it reports degraded, never fails over, starts nothing
    assert {outcome["decision"] for outcome in outcomes} == {Decision.DEGRADED}
    assert rds.executions(arn, standby) == []


def test_a_long_degraded_episode_without_quorum_tells_a_human_once(rds: Controller) -> None:
    # GIVEN only the controller's own probe fails, for longer than the escalation threshold
    standby = rds.config.regions.standby
    deps = rds.deps(standby, probe=StaticProbe(healthy=False))
    threshold = rds.config.detection.escalate_degraded_after_evaluations

    # WHEN the monitor evaluates past the threshold
    outcomes = rds.evaluate(deps, threshold + 5)

    # THEN exactly one evaluation notified, the one that reached the threshold, and nothing started
    notified = [index for index, outcome in enumerate(outcomes) if outcome["notified"]]
    assert notified == [threshold - 1]
    assert rds.executions(rds.state_machine(standby), standby) == []


# -- RPO budget ------------------------------------------------------------------------------
def test_lag_above_budget_blocks_an_automatic_rds_promotion(rds: Controller) -> None:
    # GIVEN the replica lags 120 s, above dev's 60 s budget
    rds.publish_lag(120.0)
    deps = rds.deps()

    # WHEN the runbook runs as the monitor starts it, and nobody answers the approval request
    outcome = run_runbook(failover_state(rds.config), deps, approver=no_answer)

    # THEN the approval request stated the lag
    [request] = outcome.approval_requests
    assert request["preflight"]["observed"]["approval_required"] is True
    assert "120.0s is above the RPO budget of 60s" in request["preflight"]["observed"]["approval_reason"]
    # AND the run stopped before changes: no promotion, the lock released, traffic untouched
    assert outcome.stopped_at == "approval"
    assert outcome.execution.error == "Switchyard.FailedBeforeChanges"
    assert outcome.calls("promote") == []
    assert "PromoteReadReplica" not in rds.call_log.operations()
    assert outcome.status("release") is StepStatus.DONE
    assert active_region(deps, rds.config.regions.standby) == rds.config.regions.primary


def test_lag_above_budget_blocks_an_aurora_failover_with_data_loss(aurora: Controller) -> None:
    # GIVEN the Aurora primary region is down and the secondary lags 30 s (budget 5 s)
    aurora.outage(aurora.config.regions.primary)
    aurora.publish_lag(30.0)
    deps = aurora.deps()

    # WHEN promote runs without an approval
    result = STEPS["promote"](failover_state(aurora.config, epoch=1), deps)

    # THEN it refuses the data-losing failover
    assert result.status is StepStatus.NEEDS_HUMAN
    assert "FailoverGlobalCluster" not in aurora.call_log.operations()


def test_an_approval_lets_the_aurora_failover_with_data_loss_proceed(aurora: Controller) -> None:
    # GIVEN the same outage and lag, and an operator's approval stating the lag
    aurora.outage(aurora.config.regions.primary)
    aurora.publish_lag(30.0)
    deps = aurora.deps()
    state = failover_state(aurora.config, epoch=1, approval=aurora.approval())

    # WHEN promote runs
    result = STEPS["promote"](state, deps)

    # THEN it fails over with allow-data-loss and records the approval
    assert result.status is StepStatus.DONE
    assert result.observed["operation"] == "FailoverGlobalCluster"
    assert result.observed["approval"]["approved_by"] == "oncall"
    assert deps.database.describe(aurora.config.regions.standby).writable


# -- a dark region, judged without its own APIs ------------------------------------------------
def test_a_dark_primary_is_failed_over_on_signals_read_from_the_standby(rds: Controller) -> None:
    # GIVEN us-east-1 (the primary, and Route 53's API) is dark: its alarms and health checks are unreadable,
    # and Route 53's DNS answers (its data plane, no us-east-1 needed) say the primary is unhealthy
    primary, standby = rds.config.regions.pair
    arn = rds.state_machine(standby)
    rds.replicate_heartbeat(primary, into=standby)  # its last heartbeat before going dark
    rds.clock.advance(10 * 60)
    rds.outage(primary)
    probe = StaticProbe(healthy=False)
    deps = route53_sees(rds.deps(standby, probe=probe), probe, {primary: True})

    # WHEN the standby's monitor evaluates for three minutes
    outcomes = rds.evaluate(deps, 3)

    # THEN the probe, the stale heartbeat and the sentinel's verdict (the one source a partition cannot
    # cause) are a quorum: it fails over
    assert outcomes[-1]["decision"] == Decision.FAIL_OVER
    assert [execution["name"] for execution in rds.executions(arn, standby)] == [
        f"auto-failover-to-{standby}-from-epoch-0"
    ]


def test_a_fresh_heartbeat_and_a_failing_probe_alone_do_not_fail_over(rds: Controller) -> None:
    # GIVEN the primary keeps its heartbeat fresh while only the probe fails
    primary, standby = rds.config.regions.pair
    deps = rds.deps(standby, probe=StaticProbe(healthy=False))

    # WHEN the monitor evaluates for five minutes, the heartbeat refreshed each minute
    decisions: list[str] = []
    for _ in range(5):
        rds.replicate_heartbeat(primary, into=standby)
        decisions.extend(outcome["decision"] for outcome in rds.evaluate(deps, 1))

    # THEN no failover
    assert Decision.FAIL_OVER not in decisions


def test_no_new_automatic_run_while_a_stopped_run_keeps_the_lock(rds: Controller) -> None:
    # GIVEN an earlier run stopped for a human and kept the lock, and the primary still fails
    primary, standby = rds.config.regions.pair
    arn = rds.state_machine(standby)
    rds.alarm_everything(primary)
    probe = StaticProbe(healthy=False)
    deps = route53_sees(rds.deps(standby, probe=probe), probe, {primary: True})
    deps.state.acquire_lock(standby, holder="failover-by-operator", now=rds.clock().isoformat(), min_epoch=0)

    # WHEN the monitor decides to fail over
    outcomes = rds.evaluate(deps, 3)

    # THEN it says why and starts nothing
    assert outcomes[-1]["decision"] == Decision.FAIL_OVER
    assert outcomes[-1]["started_execution"] is None
    assert "failover-by-operator holds the runbook lock" in outcomes[-1]["reasons"][-1]
    assert rds.executions(arn, standby) == []
