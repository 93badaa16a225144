"""The rejoin step (prepare-failback) on the in-memory fakes: which actions it acts for, and
its loop's answers (waiting, then ready within the RPO budget)."""

from __future__ import annotations

import pytest

from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.model import Action, DesiredState, RunbookInput, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps import STEPS
from tests.fakes import Fakes


def state_for(config: EnvironmentConfig, action: Action) -> RunbookState:
    primary = config.regions.primary
    request = RunbookInput(
        action=action, target_region=primary, reason="primary recovered", incident_id="INC-7", requested_by="alice"
    )
    return RunbookState(request=request, execution=Names(config).execution_arn(primary, "run-1"), epoch=5)


@pytest.fixture
def failed_over(dev_config: EnvironmentConfig) -> Fakes:
    """The standby is the writer and active; the old primary a standalone writer (RDS)."""
    fakes = Fakes(dev_config)
    east, west = dev_config.regions.pair
    fakes.database.writers = {east, west}
    fakes.seed_desired(
        DesiredState(
            active_region=west,
            epoch=4,
            fenced_region=east,
            updated_by="tests",
            reason="failover",
            updated_at="2026-01-01T00:00:00Z",
        )
    )
    return fakes


@pytest.mark.parametrize("action", [Action.FAILBACK, Action.SWITCHOVER])
def test_rejoin_changes_nothing_for_any_other_action(
    failed_over: Fakes, dev_config: EnvironmentConfig, action: Action
) -> None:
    # GIVEN a run that is not prepare-failback WHEN rejoin is invoked THEN it skips, touching nothing
    result = STEPS["rejoin"](state_for(dev_config, action), failed_over.deps(dev_config.regions.primary))
    assert result.status is StepStatus.SKIPPED
    assert failed_over.database.snapshots == {}


def test_a_dry_run_rejoin_changes_nothing(failed_over: Fakes, dev_config: EnvironmentConfig) -> None:
    # GIVEN a dry run WHEN rejoin is invoked THEN it is skipped, nothing snapshotted
    result = STEPS["rejoin"](state_for(dev_config, Action.DRY_RUN), failed_over.deps(dev_config.regions.primary))
    assert result.status is StepStatus.SKIPPED
    assert failed_over.database.snapshots == {}


def test_rejoin_waits_while_rebuilding_then_reports_ready(failed_over: Fakes, dev_config: EnvironmentConfig) -> None:
    # GIVEN a prepare-failback run and a replica lag within the RPO budget once rebuilt
    east = dev_config.regions.primary
    deps = failed_over.deps(east)
    state = state_for(dev_config, Action.PREPARE_FAILBACK)
    failed_over.database.replica_lag_seconds = 1.0

    # WHEN the state machine's loop runs the step until it stops waiting
    statuses = []
    for _ in range(5):
        result = STEPS["rejoin"](state, deps)
        statuses.append(result.status)
        state = state.with_result(result)
        if result.status is not StepStatus.WAITING:
            break

    # THEN it waited through the snapshot and the replacement, then reported ready
    assert statuses == [StepStatus.WAITING, StepStatus.WAITING, StepStatus.DONE]
    assert failed_over.database.snapshots[east] == [Names(dev_config).lost_writes_snapshot(4)]
    assert east not in failed_over.database.writers
