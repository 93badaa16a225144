"""GIVEN the same execution name started in both regions' runbooks (the runbooks' naming,
``failover-<incident>``) WHEN each takes the runbook lock THEN they are two holders: the
second is refused, and only a re-run of the same execution gets its epoch back.

moto's world has one table per region and no replication (conftest): the replicated case
is modelled by writing the other region's lock into this region's replica, which is what
a global table's replication delivers. Within one replica the conditional write is atomic;
across replicas it is not until the table is MRSC, so these tests stay within one replica
(and the lock step's best-effort peek at the other replica)."""

from __future__ import annotations

import pytest

from switchyard.adapters.state import LockHeldError
from switchyard.model import Decision, StepStatus
from switchyard.monitor import execution_name
from switchyard.steps import STEPS
from tests.controller.conftest import Controller, StaticProbe, failover_state
from tests.controller.route53_verdicts import route53_sees

NOW = "2026-11-24T21:00:00+00:00"
NAME = "failover-INC-42"


def test_the_same_name_in_both_regions_is_refused_in_one_replica(rds: Controller) -> None:
    # GIVEN the primary's run named failover-INC-42 holds the lock, replicated into the standby's replica
    primary, standby = rds.config.regions.pair
    store = rds.deps(standby).state
    east = rds.deps().names.execution_arn(primary, NAME)
    store.acquire_lock(standby, holder=east, now=NOW, min_epoch=0)

    # WHEN the standby's run of the same name acquires in that replica
    west = rds.deps().names.execution_arn(standby, NAME)
    with pytest.raises(LockHeldError) as refused:
        store.acquire_lock(standby, holder=west, now=NOW, min_epoch=0)

    # THEN it is refused, naming the other region's execution
    assert (refused.value.holder, refused.value.epoch) == (east, 1)


def test_the_lock_step_stops_the_second_same_named_run(rds: Controller) -> None:
    # GIVEN the primary's failover-INC-42 holds the lock in the standby's replica
    primary, standby = rds.config.regions.pair
    deps = rds.deps(standby)
    east = deps.names.execution_arn(primary, NAME)
    deps.state.acquire_lock(standby, holder=east, now=NOW, min_epoch=0)

    # WHEN the standby's runbook, also named failover-INC-42, runs its lock step
    result = STEPS["lock"](failover_state(rds.config, execution=deps.names.execution_arn(standby, NAME)), deps)

    # THEN it stops for a human, naming the other holder, and the lock stays the primary run's
    assert (result.status, result.observed["holder"]) == (StepStatus.NEEDS_HUMAN, east)
    lock = deps.state.read_lock(standby)
    assert lock is not None
    assert (lock.holder, lock.epoch, lock.held) == (east, 1, True)


def test_the_peek_at_the_other_replica_does_not_take_a_same_named_run_for_itself(rds: Controller) -> None:
    # GIVEN the primary's failover-INC-42 holds the lock in the primary's replica only (not replicated yet)
    primary, standby = rds.config.regions.pair
    deps = rds.deps(standby)
    east = deps.names.execution_arn(primary, NAME)
    deps.state.acquire_lock(primary, holder=east, now=NOW, min_epoch=0)

    # WHEN the standby's failover-INC-42 takes its lock
    result = STEPS["lock"](failover_state(rds.config, execution=deps.names.execution_arn(standby, NAME)), deps)

    # THEN the other replica's run stops it, and nothing is taken in its own replica
    assert (result.status, result.observed["holder"], result.observed["held_in"]) == (
        StepStatus.NEEDS_HUMAN,
        east,
        primary,
    )
    assert deps.state.read_lock(standby) is None


def test_a_rerun_of_the_same_execution_gets_its_epoch_back(rds: Controller) -> None:
    # GIVEN the standby's failover-INC-42 took the lock
    standby = rds.config.regions.standby
    deps = rds.deps(standby)
    state = failover_state(rds.config, execution=deps.names.execution_arn(standby, NAME))
    first = STEPS["lock"](state, deps)

    # WHEN the same execution (same ARN) runs the lock step again
    again = STEPS["lock"](state, deps)

    # THEN it holds the same epoch and changed nothing
    assert (first.status, again.status) == (StepStatus.DONE, StepStatus.NOOP)
    assert again.observed["epoch"] == first.observed["epoch"]


def test_release_by_a_same_named_run_of_the_other_region_releases_nothing(rds: Controller) -> None:
    # GIVEN the primary's failover-INC-42 holds the lock in the standby's replica
    primary, standby = rds.config.regions.pair
    deps = rds.deps(standby)
    east = deps.names.execution_arn(primary, NAME)
    deps.state.acquire_lock(standby, holder=east, now=NOW, min_epoch=0)

    # WHEN the standby's failover-INC-42 runs its release step
    state = failover_state(rds.config, execution=deps.names.execution_arn(standby, NAME), epoch=1)
    result = STEPS["release"](state, deps)

    # THEN the other run's lock stays held
    assert result.status is StepStatus.NOOP
    lock = deps.state.read_lock(standby)
    assert lock is not None
    assert (lock.holder, lock.held) == (east, True)


def test_audit_records_of_same_named_runs_in_two_regions_are_two_records(rds: Controller) -> None:
    # GIVEN failover-INC-42 of the primary recorded its audit item
    primary, standby = rds.config.regions.pair
    deps = rds.deps(standby)
    east, west = deps.names.execution_arn(primary, NAME), deps.names.execution_arn(standby, NAME)
    assert deps.state.append_audit(standby, execution=east, record={"outcome": "needs_human"})

    # WHEN failover-INC-42 of the standby records its own
    written = deps.state.append_audit(standby, execution=west, record={"outcome": "succeeded"})

    # THEN both records exist, each under its execution
    assert written
    assert [deps.state.read_audit(standby, execution=arn)["outcome"] for arn in (east, west)] == [  # type: ignore[index]
        "needs_human",
        "succeeded",
    ]


@pytest.mark.parametrize(("held_in_region", "starts"), [("standby", True), ("primary", False)])
def test_the_monitor_recognises_its_own_run_by_its_arn(rds: Controller, held_in_region: str, starts: bool) -> None:
    # GIVEN the lock is held by the monitor's deterministic execution name, started in
    # the standby's runbook (a duplicate delivery of its own start) or in the primary's
    primary, standby = rds.config.regions.pair
    rds.state_machine(standby)
    rds.alarm_everything(primary)
    probe = StaticProbe(healthy=False)
    deps = route53_sees(rds.deps(standby, probe=probe), probe, {primary: True})  # the checkers see it fail too
    desired = deps.state.read_desired(standby)
    assert desired is not None
    name = execution_name(standby, desired.epoch)
    region = standby if held_in_region == "standby" else primary
    deps.state.acquire_lock(standby, holder=deps.names.execution_arn(region, name), now=NOW, min_epoch=0)

    # WHEN the monitor decides to fail over
    outcome = rds.evaluate(deps, 3)[-1]

    # THEN it starts (idempotently) only when the holder is its own run in its own region
    assert outcome["decision"] == Decision.FAIL_OVER
    assert (outcome["started_execution"] is not None) is starts
