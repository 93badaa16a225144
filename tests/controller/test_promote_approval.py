"""Promote refuses an approval that does not hold (runbook_state.approval_problems), with
the real step against moto: no promotion call is made and the result names the problem."""

from __future__ import annotations

from switchyard.model import StepStatus
from switchyard.steps import STEPS
from tests.controller.conftest import Controller, failover_state

ABOVE_BUDGET_LAG_SECONDS = 120.0  # dev's RPO budget is 60 s


def test_an_approval_by_someone_else_for_the_lag_lets_the_rds_failover_promote(rds: Controller) -> None:
    # GIVEN the replica lags 120 s and a second person approved that lag just now
    rds.publish_lag(ABOVE_BUDGET_LAG_SECONDS)
    state = failover_state(rds.config, epoch=1, approval=rds.approval(approved_by="oncall"))
    # WHEN promote runs
    result = STEPS["promote"](state, rds.deps())
    # THEN it promotes and records the approval with the lag it accepted
    assert result.status is StepStatus.DONE, result.message
    assert result.observed["approval"]["accepted_lag_seconds"] == ABOVE_BUDGET_LAG_SECONDS
    assert "PromoteReadReplica" in rds.call_log.operations()


def test_the_requester_approving_their_own_rds_failover_is_refused(rds: Controller) -> None:
    # GIVEN a failover requested by "tests" (an RDS promotion always loses the lag), approved by "tests"
    rds.publish_lag(ABOVE_BUDGET_LAG_SECONDS)
    state = failover_state(rds.config, epoch=1, approval=rds.approval(approved_by="tests"))
    # WHEN promote runs
    result = STEPS["promote"](state, rds.deps())
    # THEN it stops for a human, naming the problem, and sends no promotion
    assert result.status is StepStatus.NEEDS_HUMAN
    assert "the approver 'tests' is the requester 'tests'" in result.message
    assert [finding.check for finding in result.findings] == ["approval"]
    assert "PromoteReadReplica" not in rds.call_log.operations()


def test_an_approval_that_aged_past_the_configured_limit_is_refused(rds: Controller) -> None:
    # GIVEN an approval given, then 16 minutes pass before promote runs (dev holds approvals 15 minutes)
    rds.publish_lag(ABOVE_BUDGET_LAG_SECONDS)
    state = failover_state(rds.config, epoch=1, approval=rds.approval())
    rds.clock.advance(16 * 60)
    # WHEN promote runs
    result = STEPS["promote"](state, rds.deps())
    # THEN it refuses, naming the approval's age and the limit
    assert result.status is StepStatus.NEEDS_HUMAN
    assert "the approval is 960s old, older than the 900s an approval holds" in result.message
    assert "PromoteReadReplica" not in rds.call_log.operations()
