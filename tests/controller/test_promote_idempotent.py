"""GIVEN a promotion that AWS accepted WHEN promote runs again (a retry after its invocation
died, or a concurrent one) THEN it never sends a second promotion: it waits while the
promotion runs and finds it done afterwards. moto promotes at once and accepts a second
request, so the named models give the promotion a duration and refuse a second request."""

from __future__ import annotations

from typing import Any

import pytest

from drill.stepfunctions import FunctionDied
from switchyard.deps import RunbookDeps
from switchyard.model import StepStatus
from switchyard.retry import EventHook
from switchyard.steps import STEPS, RetryableStepError
from tests.controller.conftest import Controller, failover_state

PROMOTION_SECONDS = 300.0
PROMOTIONS = ("PromoteReadReplica", "SwitchoverGlobalCluster", "FailoverGlobalCluster")


def slow_promotion_deps(controller: Controller) -> RunbookDeps:
    """The standby's deps with a modelled promotion that runs for PROMOTION_SECONDS."""
    return controller.deps(promotion_seconds=PROMOTION_SECONDS)


def promote(controller: Controller, state: Any, deps: RunbookDeps) -> Any:
    with controller.call_log.step("promote"):
        return STEPS["promote"](state, deps)


def promotion_calls(controller: Controller) -> list[str]:
    return [call.operation for call in controller.call_log.snapshot() if call.operation in PROMOTIONS]


def die_after_the_first_promotion(controller: Controller) -> list[str]:
    """The invocation dies (a function timeout) right after RDS answered the first promotion."""
    died: list[str] = []

    def die(**_: Any) -> None:
        if not died:
            died.append("PromoteReadReplica")
            raise FunctionDied("after PromoteReadReplica was accepted")

    controller.hooks.append(EventHook("after-call.rds.PromoteReadReplica", die, controller.config.regions.standby))
    return died


def test_a_promote_whose_invocation_died_after_issuing_waits_then_finds_it_done(rds: Controller) -> None:
    # GIVEN fence has run, and the first promote invocation dies after RDS accepted the promotion
    rds.publish_lag(1.0)
    deps = slow_promotion_deps(rds)
    state = rds.run_steps(failover_state(rds.config, approval=rds.approval()), deps, ["validate", "lock", "fence"])
    died = die_after_the_first_promotion(rds)
    with pytest.raises(FunctionDied):
        promote(rds, state, deps)
    assert died == ["PromoteReadReplica"]

    # WHEN the state machine retries it while RDS is still promoting THEN it returns at once without
    # sending another (the readiness loop waits for the promotion)
    running = promote(rds, state, deps)
    assert (running.status, "already running" in running.message) == (StepStatus.NOOP, True), running
    # AND once more after the promotion finished
    rds.clock.advance(PROMOTION_SECONDS)
    done = promote(rds, state, deps)

    # THEN the replica is the writer and exactly one promotion was ever sent
    assert done.status is StepStatus.NOOP, done
    assert promotion_calls(rds) == ["PromoteReadReplica"]


def test_the_epochs_promotion_record_says_what_was_sent(rds: Controller) -> None:
    # GIVEN fence has run
    rds.publish_lag(1.0)
    deps = slow_promotion_deps(rds)
    state = rds.run_steps(failover_state(rds.config, approval=rds.approval()), deps, ["validate", "lock", "fence"])

    # WHEN promote sends the promotion
    result = promote(rds, state, deps)

    # THEN the record of the lock's epoch names the operation, the run and AWS's answer
    assert result.status is StepStatus.DONE
    record = deps.state.read_promotion(rds.config.regions.standby, epoch=state.epoch or 0)
    assert record is not None
    assert (record["operation"], record["execution"], record["outcome"]) == (
        "PromoteReadReplica",
        state.execution,
        "accepted",
    )


def test_a_recorded_promotion_that_aws_does_not_show_yet_is_not_sent_again(rds: Controller) -> None:
    # GIVEN this epoch's promotion was claimed and sent, but describe does not show it yet
    rds.publish_lag(1.0)
    deps = slow_promotion_deps(rds)
    state = rds.run_steps(failover_state(rds.config, approval=rds.approval()), deps, ["validate", "lock", "fence"])
    record = {"operation": "PromoteReadReplica", "execution": state.execution, "issued_at": rds.clock().isoformat()}
    assert deps.state.claim_promotion(rds.config.regions.standby, epoch=state.epoch or 0, record=record)

    # WHEN promote runs THEN it waits for the promotion to show, without sending one
    with pytest.raises(RetryableStepError, match="not sending it again"):
        promote(rds, state, deps)
    # AND past the visibility window it hands the run to a human, still without sending one
    rds.clock.advance(3600)
    result = promote(rds, state, deps)
    assert result.status is StepStatus.NEEDS_HUMAN
    assert "shows no promotion" in result.message
    assert promotion_calls(rds) == []


def test_an_aurora_failover_in_progress_is_never_requested_twice(aurora: Controller) -> None:
    # GIVEN a managed failover towards the standby was requested and is running
    aurora.publish_lag(1.0)
    outage = aurora.outage(aurora.config.regions.primary)
    deps = slow_promotion_deps(aurora)
    state = aurora.run_steps(failover_state(aurora.config, approval=aurora.approval()), deps, ["validate", "lock"])
    first = promote(aurora, state, deps)
    assert first.status is StepStatus.DONE, first

    # WHEN promote runs again while the global cluster is failing over THEN it sends nothing and returns
    running = promote(aurora, state, deps)
    assert (running.status, "failing-over" in running.message) == (StepStatus.NOOP, True), running
    # AND after it finished
    aurora.clock.advance(PROMOTION_SECONDS)
    done = promote(aurora, state, deps)

    # THEN one failover was requested in all, and the standby's cluster is the writer
    outage.end()
    assert done.status is StepStatus.NOOP, done
    assert promotion_calls(aurora) == ["FailoverGlobalCluster"]
