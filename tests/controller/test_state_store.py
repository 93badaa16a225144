"""GIVEN the state table WHEN runbooks take the lock and write desired state THEN one
holder at a time, epochs only grow, and the audit trail is append-only."""

from __future__ import annotations

import pytest

from switchyard.adapters.state import LockHeldError
from switchyard.model import DesiredState, StepStatus
from switchyard.steps import STEPS
from tests.controller.conftest import Controller, failover_state

NOW = "2026-11-24T21:00:00+00:00"


def test_the_lock_has_one_holder_and_the_same_holder_gets_its_epoch_back(rds: Controller) -> None:
    # GIVEN run-a holds the lock
    store, region = rds.deps().state, rds.config.regions.standby
    first = store.acquire_lock(region, holder="run-a", now=NOW, min_epoch=0)

    # WHEN run-a asks again and run-b asks
    again = store.acquire_lock(region, holder="run-a", now=NOW, min_epoch=0)
    with pytest.raises(LockHeldError, match="run-a"):
        store.acquire_lock(region, holder="run-b", now=NOW, min_epoch=0)

    # THEN run-a got the same epoch and run-b got nothing
    assert (first.epoch, again.epoch) == (1, 1)


def test_epochs_grow_past_both_the_lock_and_the_desired_state(rds: Controller) -> None:
    # GIVEN run-a held and released epoch 1, and the desired state is at epoch 5
    store, region = rds.deps().state, rds.config.regions.standby
    store.acquire_lock(region, holder="run-a", now=NOW, min_epoch=0)
    assert store.release_lock(region, holder="run-a", now=NOW)

    # WHEN run-b takes the lock
    lock = store.acquire_lock(region, holder="run-b", now=NOW, min_epoch=5)

    # THEN its epoch is above both
    assert lock.epoch == 6


def test_only_the_holder_can_release(rds: Controller) -> None:
    store, region = rds.deps().state, rds.config.regions.standby
    store.acquire_lock(region, holder="run-a", now=NOW, min_epoch=0)
    assert not store.release_lock(region, holder="run-b", now=NOW)
    lock = store.read_lock(region)
    assert lock is not None
    assert lock.held


def test_an_older_epoch_never_overwrites_a_newer_desired_state(rds: Controller) -> None:
    # GIVEN the desired state at epoch 3
    store, region = rds.deps().state, rds.config.regions.standby

    def state(epoch: int, active: str) -> DesiredState:
        return DesiredState(active_region=active, epoch=epoch, updated_by="t", reason="r", updated_at=NOW)

    assert store.write_desired(region, state(3, region))

    # WHEN a stale run writes epoch 2 THEN it is refused and epoch 3 stays
    assert not store.write_desired(region, state(2, rds.config.regions.primary))
    assert store.read_desired(region) == state(3, region)


def test_audit_records_are_written_once(rds: Controller) -> None:
    # GIVEN an audit record for an execution
    store, region = rds.deps().state, rds.config.regions.standby
    assert store.append_audit(region, execution="run-a", record={"outcome": "succeeded", "lag": 1.5})

    # WHEN the same execution appends again THEN it is refused and the first record stays
    assert not store.append_audit(region, execution="run-a", record={"outcome": "tampered"})
    record = store.read_audit(region, execution="run-a")
    assert record is not None
    assert record["outcome"] == "succeeded"


def test_the_lock_step_stops_when_the_other_regions_replica_shows_a_run(rds: Controller) -> None:
    # GIVEN a runbook started in the primary region holds the lock in the primary's replica
    primary, standby = rds.config.regions.pair
    deps = rds.deps(standby)
    deps.state.acquire_lock(primary, holder="failback-by-operator", now=NOW, min_epoch=0)

    # WHEN an automatic failover to the standby takes its lock
    result = STEPS["lock"](failover_state(rds.config), deps)

    # THEN it stops for a human and takes nothing in its own replica
    assert result.status is StepStatus.NEEDS_HUMAN
    assert result.observed["held_in"] == primary
    assert deps.state.read_lock(standby) is None


def test_the_lock_step_proceeds_when_the_other_region_is_dark(rds: Controller) -> None:
    # GIVEN the primary region cannot be reached
    primary, standby = rds.config.regions.pair
    rds.outage(primary)
    deps = rds.deps(standby)

    # WHEN the standby's runbook takes its lock THEN the dark region does not stop it
    assert STEPS["lock"](failover_state(rds.config), deps).status is StepStatus.DONE


def test_a_monitor_evaluation_that_read_stale_memory_does_not_overwrite_a_newer_one(rds: Controller) -> None:
    # GIVEN two monitor evaluations that both read the memory at version 0
    standby = rds.config.regions.standby
    state = rds.deps(standby).state
    first = state.write_monitor_memory(standby, {"failing_evaluations": 1}, read_version=0)

    # WHEN the slower one writes what it computed from the same read
    second = state.write_monitor_memory(standby, {"failing_evaluations": 7}, read_version=0)

    # THEN only the first write landed, and a write from a fresh read succeeds
    memory = state.read_monitor_memory(standby)
    assert (first, second) == (True, False)
    assert memory is not None
    assert memory["failing_evaluations"] == 1
    assert state.write_monitor_memory(standby, {"failing_evaluations": 2}, read_version=int(memory["version"]))
