"""GIVEN a provisioned environment WHEN one runbook step runs THEN it does its work, and
re-running it changes nothing (for both database engines)."""

from __future__ import annotations

import pytest

from switchyard.model import StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps import STEPS
from tests.controller.conftest import Controller, failover_state

STEPS_BEFORE = {
    "lock": ["validate"],
    "fence": ["validate", "lock"],
    "promote": ["validate", "lock", "fence"],
    "scale_up": ["validate", "lock"],
    "flip": ["validate", "lock", "fence", "promote"],
    "wait_ready": ["validate", "lock", "fence", "promote", "scale_up", "flip"],
    "verify": ["validate", "lock", "fence", "promote", "scale_up", "flip", "wait_ready"],
    "release": ["validate", "lock", "fence", "promote", "scale_up", "flip", "wait_ready", "verify"],
    "record": ["validate", "lock", "fence", "promote", "scale_up", "flip", "wait_ready", "verify", "release"],
}
WORK_OF = {
    "lock": "PutItem",
    "fence": "PutItem",
    "promote": ("PromoteReadReplica", "SwitchoverGlobalCluster"),
    "scale_up": "SetDesiredCapacity",
    "flip": "PutItem",
    "release": "UpdateItem",
    "record": "Publish",
}


def _prepared(controller: Controller, step: str) -> tuple[RunbookState, object]:
    controller.publish_lag(1.0)
    deps = controller.deps()
    state = failover_state(controller.config, approval=controller.approval())
    return controller.run_steps(state, deps, STEPS_BEFORE.get(step, [])), deps


def _run(controller: Controller, step: str, state: RunbookState, deps: object) -> tuple[StepResult, list[str]]:
    before = len(controller.call_log.mutating())
    with controller.call_log.step(step):
        result = STEPS[step](state, deps)
    return result, [call.operation for call in controller.call_log.mutating()[before:]]


@pytest.mark.parametrize("step", sorted(WORK_OF))
def test_mutating_step_does_its_work_then_is_a_noop(controller: Controller, step: str) -> None:
    # GIVEN the steps before it have run
    state, deps = _prepared(controller, step)

    # WHEN the step runs
    first, first_calls = _run(controller, step, state, deps)

    # THEN it did its work with the expected mutating call
    assert first.status is StepStatus.DONE, first
    expected = WORK_OF[step] if isinstance(WORK_OF[step], tuple) else (WORK_OF[step],)
    assert set(expected) & set(first_calls), first_calls
    # AND WHEN it runs again THEN it observes the work done and makes no mutating call
    second, second_calls = _run(controller, step, state.with_result(first), deps)
    assert second.status is StepStatus.NOOP, second
    assert second_calls == []


@pytest.mark.parametrize("step", ["validate", "preflight", "wait_ready", "verify"])
def test_observing_step_makes_no_mutating_call(controller: Controller, step: str) -> None:
    # GIVEN the steps before it have run
    state, deps = _prepared(controller, step)

    # WHEN the step runs twice
    results = [_run(controller, step, state, deps) for _ in range(2)]

    # THEN it succeeded both times without a single mutating call
    assert [result.ok for result, _ in results] == [True, True], results
    assert [calls for _, calls in results] == [[], []]


def test_preflight_reports_what_the_state_machine_needs_for_approval(rds: Controller) -> None:
    # GIVEN the standby lags 1 s, within the dev budget of 60 s, in automatic mode
    rds.publish_lag(1.0)
    deps = rds.deps()

    # WHEN preflight runs for a failover
    result = STEPS["preflight"](failover_state(rds.config), deps)

    # THEN no approval is required and the lag is reported
    assert result.observed["approval_required"] is False
    assert result.observed["approval_reason"] == ""
    assert result.observed["replication_lag_seconds"] == pytest.approx(1.0)


def test_preflight_asks_for_approval_when_lag_is_unknown(rds: Controller) -> None:
    # GIVEN no replication-lag datapoint at all
    deps = rds.deps()

    # WHEN preflight runs for a failover
    result = STEPS["preflight"](failover_state(rds.config), deps)

    # THEN approval is required because the lag is unknown
    assert result.observed["approval_required"] is True
    assert "unknown" in result.observed["approval_reason"]
    assert result.observed["replication_lag_seconds"] is None


def test_preflight_in_manual_mode_asks_for_approval_even_within_budget(aurora: Controller) -> None:
    # GIVEN prod (manual mode) with the lag within budget
    aurora.publish_lag(1.0)
    deps = aurora.deps()

    # WHEN preflight runs for a failover without an approval
    result = STEPS["preflight"](failover_state(aurora.config), deps)

    # THEN it says an approval is needed, and why
    assert result.observed["approval_required"] is True
    assert "manual mode" in result.observed["approval_reason"]


def test_preflight_blocks_when_the_standby_asg_is_missing(rds: Controller) -> None:
    # GIVEN the standby's ASG was deleted
    rds.aws("autoscaling", rds.config.regions.standby).delete_auto_scaling_group(
        AutoScalingGroupName=rds.topology.names.asg(rds.config.regions.standby), ForceDelete=True
    )
    rds.publish_lag(1.0)

    # WHEN preflight runs
    result = STEPS["preflight"](failover_state(rds.config), rds.deps())

    # THEN it stops for a human with a blocker naming the ASG
    assert result.status is StepStatus.NEEDS_HUMAN
    assert [finding.check for finding in result.findings if finding.severity == "blocker"] == ["target-asg"]


def test_scale_up_never_goes_above_the_group_max(rds: Controller) -> None:
    # GIVEN the standby ASG's max was lowered below the scale-up target
    standby = rds.config.regions.standby
    rds.aws("autoscaling", standby).update_auto_scaling_group(
        AutoScalingGroupName=rds.topology.names.asg(standby), MinSize=1, MaxSize=1, DesiredCapacity=1
    )
    state, deps = _prepared(rds, "scale_up")

    # WHEN scale_up runs
    result, _ = _run(rds, "scale_up", state, deps)

    # THEN it is a no-op at the max instead of exceeding it
    assert result.status is StepStatus.NOOP
    assert result.observed["wanted"] == 1


def test_wait_ready_checks_once_and_answers_waiting_while_the_standby_is_a_replica(rds: Controller) -> None:
    # GIVEN the standby database was never promoted
    state, deps = _prepared(rds, "scale_up")

    # WHEN wait_ready runs
    result, calls = _run(rds, "wait_ready", state, deps)

    # THEN it checked once without sleeping, answers waiting, names what is missing and changes nothing
    assert result.status is StepStatus.WAITING, result
    assert rds.topology.names.db_instance(rds.config.regions.standby) in result.message
    assert rds.sleeps == []
    assert calls == []


def test_flip_moves_traffic_while_the_standby_database_is_still_promoting(rds: Controller) -> None:
    # GIVEN an RDS promotion that takes 300 s (modelled: moto promotes at once) was just sent
    rds.publish_lag(1.0)
    deps = rds.deps(promotion_seconds=300)
    state = rds.run_steps(failover_state(rds.config), deps, ["validate", "lock", "fence", "promote"])
    assert not deps.database.describe(rds.config.regions.standby).writable

    # WHEN flip runs
    result, calls = _run(rds, "flip", state, deps)

    # THEN it wrote the standby active into the standby's table without waiting for the writer
    assert result.status is StepStatus.DONE, result
    assert "PutItem" in calls
    desired = deps.state.read_desired(rds.config.regions.standby)
    assert desired is not None
    assert desired.active_region == rds.config.regions.standby
