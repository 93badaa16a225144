"""GIVEN an operator's planned switchover or dry run, or a flip whose table write fails,
WHEN the runbook runs THEN it keeps RPO 0, changes nothing, or asks a human."""

from __future__ import annotations

from dataclasses import replace

import pytest

from switchyard.model import Action, StepStatus
from switchyard.steps import STEPS, RetryableStepError
from tests.controller.conftest import Controller, active_region, failover_state
from tests.controller.runner import run_runbook


def test_a_dry_run_makes_zero_mutating_calls(controller: Controller) -> None:
    # GIVEN a dry-run request
    controller.publish_lag(1.0)
    deps = controller.deps()
    state = failover_state(controller.config, action=Action.DRY_RUN)

    # WHEN the runbook runs it, and every mutating step is called anyway
    outcome = run_runbook(state, deps)
    skipped = {name: STEPS[name](outcome.state, deps).status for name in ("lock", "fence", "promote", "flip", "record")}

    # THEN preflight reported, the rest skipped, and not one mutating call was made
    assert outcome.status("preflight") is StepStatus.NOOP
    assert set(skipped.values()) == {StepStatus.SKIPPED}
    assert controller.call_log.mutating() == []


def test_a_planned_rds_switchover_waits_for_the_replica_to_catch_up(rds: Controller) -> None:
    # GIVEN a planned switchover while the replica still lags 3 s
    rds.publish_lag(3.0)
    deps = rds.deps()
    state = failover_state(rds.config, action=Action.SWITCHOVER, epoch=1)

    # WHEN promote runs THEN it asks to be retried and promotes nothing
    with pytest.raises(RetryableStepError, match="catch up"):
        STEPS["promote"](state, deps)
    assert "PromoteReadReplica" not in rds.call_log.operations()

    # AND once the lag reads 0 it promotes
    rds.clock.advance(60)
    rds.publish_lag(0.0)
    assert STEPS["promote"](state, deps).status is StepStatus.DONE


def test_a_planned_rds_switchover_promotes_when_the_lag_reaches_zero_while_it_polls(rds: Controller) -> None:
    # GIVEN a planned switchover whose newest lag datapoint (one a minute) predates the fence
    rds.publish_lag(3.0)

    def next_datapoint_arrives(seconds: float) -> None:
        rds.clock.advance(60)
        rds.publish_lag(0.0)

    deps = replace(rds.deps(), sleep=next_datapoint_arrives)
    state = failover_state(rds.config, action=Action.SWITCHOVER, epoch=1)

    # WHEN promote runs THEN it polled within the invocation and promoted at lag 0
    result = STEPS["promote"](state, deps)
    assert result.status is StepStatus.DONE
    assert result.observed["replication_lag_seconds"] == 0
    assert [call.operation for call in rds.call_log.mutating() if call.service == "rds"] == ["PromoteReadReplica"]


def test_a_planned_aurora_switchover_uses_switchover_not_failover(aurora: Controller) -> None:
    # GIVEN a planned switchover with the primary reachable
    aurora.publish_lag(0.0)
    deps = aurora.deps()

    # WHEN promote runs
    result = STEPS["promote"](failover_state(aurora.config, action=Action.SWITCHOVER, epoch=1), deps)

    # THEN it switched over (RPO 0) and the secondary is the writer
    assert result.observed["operation"] == "SwitchoverGlobalCluster"
    assert deps.database.describe(aurora.config.regions.standby).writable


def test_a_planned_switchover_refuses_when_the_primary_is_unreachable(aurora: Controller) -> None:
    # GIVEN the primary region is down
    aurora.outage(aurora.config.regions.primary)
    aurora.publish_lag(0.0)

    # WHEN preflight runs for a planned switchover
    result = STEPS["preflight"](failover_state(aurora.config, action=Action.SWITCHOVER), aurora.deps())

    # THEN it blocks and points to a failover
    assert result.status is StepStatus.NEEDS_HUMAN
    assert "use failover" in result.message or any("use failover" in finding.message for finding in result.findings)


def test_flip_asks_a_human_when_the_target_table_cannot_be_written(rds: Controller) -> None:
    # GIVEN a promoted standby, and the standby's state table refusing every write (not retryable)
    rds.publish_lag(1.0)
    deps = rds.deps()
    state = rds.run_steps(failover_state(rds.config), deps, ["validate", "lock", "fence", "promote"])
    rds.fail("dynamodb", "PutItem", "AccessDeniedException", region=rds.config.regions.standby)
    flipping = rds.deps()

    # WHEN flip runs
    result = STEPS["flip"](state, flipping)

    # THEN it stops for a human, having tried the Route 53 fallback, and traffic stays put
    assert result.status is StepStatus.NEEDS_HUMAN
    assert {finding.check for finding in result.findings} >= {"desired-state"}
    assert "ListResourceRecordSets" in rds.call_log.operations()
    assert active_region(flipping, rds.config.regions.standby) == rds.config.regions.primary
