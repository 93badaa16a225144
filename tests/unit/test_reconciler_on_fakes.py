"""The reconciler (switchyard.reconciler.reconcile_region) on in-memory fakes: capacity by
role, standing still without a desired state, and a fenced region's database fenced only
after its lost writes are snapshotted."""

from __future__ import annotations

import pytest

from switchyard.config import EnvironmentConfig
from switchyard.contract import Names, initial_desired_state
from switchyard.database_fence import SNAPSHOT_FIRST
from switchyard.model import DesiredState
from switchyard.reconciler import UNKNOWN_ROLE, reconcile_region
from tests.fakes import Fakes


@pytest.fixture
def fakes(dev_config: EnvironmentConfig) -> Fakes:
    return Fakes(dev_config)


def after_failover(fakes: Fakes, config: EnvironmentConfig) -> None:
    """us-west-2 active at epoch 1, us-east-1 fenced; RDS promoted the replica, so the old
    primary is a standalone writer that may hold lost writes."""
    east, west = config.regions.primary, config.regions.standby
    fakes.seed_desired(
        DesiredState(
            active_region=west,
            epoch=1,
            fenced_region=east,
            updated_by="arn:run",
            reason="f",
            updated_at="2026-01-01T00:00:00Z",
        )
    )
    fakes.database.writers = {east, west}
    fakes.state.record_lost_writes(east, epoch=1, record={"old_primary": east, "why": "RDS replica promotion"})


def test_without_a_desired_state_nothing_changes_but_the_heartbeat(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    west = dev_config.regions.standby
    fakes.compute.groups[west].desired = 3

    convergence = reconcile_region(fakes.deps(west))

    assert convergence.role == UNKNOWN_ROLE
    assert convergence.desired_state is not None
    assert convergence.desired_state.problem == "missing"
    assert fakes.compute.calls == []
    assert fakes.state.read_heartbeat(west, of_region=west) == fakes.clock().isoformat()


def test_an_unreadable_desired_state_changes_nothing(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    west = dev_config.regions.standby
    fakes.seed_desired(initial_desired_state(dev_config))
    fakes.state.make_unreachable(west)

    convergence = reconcile_region(fakes.deps(west))

    assert convergence.desired_state is not None
    assert convergence.desired_state.problem == "unreadable"
    assert convergence.heartbeat_error is not None, "the heartbeat could not be written either, and says so"
    assert fakes.compute.calls == []


def test_capacity_follows_each_regions_role(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    capacity = dev_config.capacity
    fakes.seed_desired(initial_desired_state(dev_config))
    fakes.compute.groups[east].desired = 1
    fakes.compute.groups[west].desired = 3

    active = reconcile_region(fakes.deps(east))
    standby = reconcile_region(fakes.deps(west))

    assert (active.role, active.before, active.after) == ("active", 1, capacity.primary_desired)
    assert (standby.role, standby.before, standby.after) == ("standby", 3, capacity.standby_warm_min)
    assert standby.fences is None, "a standby that is not fenced fences nothing"


def test_a_held_lock_only_lets_capacity_go_up(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    west = dev_config.regions.standby
    fakes.seed_desired(initial_desired_state(dev_config))
    fakes.compute.groups[west].desired = 3
    fakes.state.acquire_lock(west, holder="arn:run", now="t", min_epoch=0)

    convergence = reconcile_region(fakes.deps(west))

    assert convergence.runbook_in_progress is True
    assert convergence.after == 3, "a failover's scale-up is never undone before its flip"
    assert fakes.compute.calls == []


def test_the_new_active_standby_scales_to_its_target(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    west = dev_config.regions.standby
    after_failover(fakes, dev_config)

    convergence = reconcile_region(fakes.deps(west))

    assert (convergence.role, convergence.after) == ("active", dev_config.capacity.standby_scale_up_target)


def test_a_fenced_region_snapshots_its_lost_writes_then_stops_its_database(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    east = dev_config.regions.primary
    after_failover(fakes, dev_config)
    snapshot = Names(dev_config).lost_writes_snapshot(1)

    convergence = reconcile_region(fakes.deps(east))

    assert fakes.database.snapshots == {east: [snapshot]}
    assert fakes.database.stops == [east]
    record = fakes.state.read_lost_writes_record(east, epoch=1)
    assert record is not None
    assert record["snapshot"] == snapshot
    assert convergence.fences is not None
    assert convergence.fences[f"database@{east}"] == "fenced: stopping (StopDBInstance sent)"
    assert convergence.fences[f"asg@{east}"].startswith("fenced: desired 1")
    assert convergence.needs_human is False


def test_a_fenced_database_is_not_stopped_before_its_snapshot_exists(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    east = dev_config.regions.primary
    after_failover(fakes, dev_config)
    fakes.database.snapshot_not_ready.add(east)

    waiting = reconcile_region(fakes.deps(east))
    fakes.database.snapshot_not_ready.clear()
    fakes.clock.advance(60)
    next_run = reconcile_region(fakes.deps(east))

    assert waiting.database_fence is not None
    assert waiting.database_fence.label == SNAPSHOT_FIRST
    assert waiting.database_fence.snapshots["1"].startswith("pending:")
    assert next_run.database_fence is not None
    assert next_run.database_fence.fenced
    assert fakes.database.stops == [east], "stopped once, on the run after the snapshot"


def test_an_aurora_writer_that_was_not_demoted_needs_a_human(dev_config: EnvironmentConfig) -> None:
    aurora = dev_config.model_copy(
        update={"database": dev_config.database.model_copy(update={"engine": "aurora-postgres"})}
    )
    fakes = Fakes(aurora)
    east = aurora.regions.primary
    after_failover(fakes, aurora)
    fakes.database.writers = {east}  # AWS has not demoted it (its region is back, the failover pending)

    convergence = reconcile_region(fakes.deps(east))

    assert convergence.database_fence is not None
    assert convergence.database_fence.refused
    assert convergence.needs_human is True
    assert fakes.database.stops == []
