"""Failback that prepares itself (issue 11): ``prepare-failback`` rebuilds the old primary as
a replica of the active region (RDS: lost-writes snapshot first, deleted only once it is
available, then a cross-region read replica of the writer) or checks that it rejoined
(Aurora), and reports ready once the replica has caught up. Steps on moto; every call is
checked against the rejoin function's synthesized policy at teardown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from drill.provision import publish_replication_lag
from switchyard.adapters.database import AuroraGlobalDatabase, RdsReplicaDatabase, RejoinPhase
from switchyard.config import EnvironmentConfig
from switchyard.contract import REJOIN_DEADLINE_SECONDS, Names
from switchyard.deps import RunbookDeps
from switchyard.model import Action, RunbookInput, StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps import STEPS
from tests.controller.conftest import Controller
from tests.controller.test_database_fence import failover_with_the_primary_dark, reconcile, region_returns

MAX_PASSES = 12


def prepare_state(config: EnvironmentConfig, name: str = "prepare-failback-INC-7") -> RunbookState:
    request = RunbookInput(
        action=Action.PREPARE_FAILBACK,
        target_region=config.regions.primary,
        reason="primary region recovered",
        incident_id="INC-7",
        requested_by="tests",
    )
    return RunbookState(request=request, execution=Names(config).execution_arn(config.regions.primary, name))


def publish_lag(controller: Controller, region: str, seconds: float) -> None:
    """The replica's lag metric in its region, as the engine publishes it."""
    publish_replication_lag(controller.config, seconds, at=controller.clock() - timedelta(seconds=30), region=region)


def rejoin_until_settled(
    controller: Controller, state: RunbookState, deps: RunbookDeps
) -> tuple[RunbookState, list[StepResult]]:
    """The state machine's loop: rejoin, and again after its Wait while it answers ``waiting``."""
    results: list[StepResult] = []
    for _ in range(MAX_PASSES):
        with controller.call_log.step("rejoin"):
            result = STEPS["rejoin"](state, deps)
        results.append(result)
        state = state.with_result(result)
        if result.status is not StepStatus.WAITING:
            break
        controller.clock.advance(60)
    return state, results


def prepare(controller: Controller, name: str = "prepare-failback-INC-7") -> tuple[RunbookState, list[StepResult]]:
    """validate -> lock -> rejoin (looped) in the primary's runbook, as prepare-failback runs it."""
    deps = controller.deps(controller.config.regions.primary)
    state = controller.run_steps(prepare_state(controller.config, name), deps, ["validate", "lock"])
    state, results = rejoin_until_settled(controller, state, deps)
    with controller.call_log.step("release"):
        STEPS["release"](state, deps)  # the state machine releases the lock on either path
    return state, results


def rds_failed_over(rds: Controller) -> int:
    """A data-losing failover to the standby; the old primary's region came back and its
    reconciler snapshotted (lost-writes record) and stopped it. Returns the failover's epoch."""
    state, epoch = failover_with_the_primary_dark(rds)
    rds.run_steps(state, rds.deps(), ["flip", "release"])  # traffic on the standby, the failover over
    region_returns(rds, epoch)
    reconcile(rds, rds.config.regions.primary)
    return epoch


def instance(controller: Controller, region: str) -> dict[str, Any]:
    identifier = controller.topology.names.db_instance(region)
    return dict(controller.aws("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0])


def operations(controller: Controller, step: str) -> list[str]:
    return [call.operation for call in controller.call_log.snapshot() if call.step == step and call.mutating]


# -- RDS ----------------------------------------------------------------------------------------


def test_rds_old_primary_is_kept_as_its_snapshot_then_replaced_by_a_replica_of_the_new_primary(
    rds: Controller,
) -> None:
    # GIVEN a data-losing failover; the returning old primary was snapshotted and stopped
    epoch = rds_failed_over(rds)
    primary, standby = rds.config.regions.primary, rds.config.regions.standby
    snapshot = Names(rds.config).lost_writes_snapshot(epoch)
    publish_lag(rds, primary, 0.0)

    # WHEN prepare-failback runs to its end
    _, results = prepare(rds)

    # THEN the old primary is now a read replica of the new primary, under the contract's name
    assert results[-1].status is StepStatus.DONE, results[-1]
    assert instance(rds, primary)["ReadReplicaSourceDBInstanceIdentifier"] == instance(rds, standby)["DBInstanceArn"]
    # AND the reconciler's lost-writes snapshot was reused (not a second one), and kept
    assert rds.aws("rds", primary).describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"]
    assert results[0].observed["database"]["snapshot"] == snapshot
    # AND the old instance was deleted before its replacement was requested
    assert [op for op in operations(rds, "rejoin") if op != "AddTagsToResource"] == [
        "DeleteDBInstance",
        "CreateDBInstanceReadReplica",
    ]
    assert "ready for failback" in results[-1].message


def test_rds_rebuild_reports_waiting_while_the_replica_has_not_caught_up(rds: Controller) -> None:
    # GIVEN a rebuilt replica whose lag is above the RPO budget
    rds_failed_over(rds)
    primary = rds.config.regions.primary
    publish_lag(rds, primary, rds.config.rpo_budget_seconds + 30.0)

    # WHEN prepare-failback checks it
    _, results = prepare(rds)

    # THEN it keeps waiting, naming the lag, and never reports ready
    assert all(result.status is StepStatus.WAITING for result in results)
    assert "lag" in results[-1].message


def test_rds_rerun_of_a_finished_rebuild_changes_nothing(rds: Controller) -> None:
    # GIVEN a finished rebuild
    rds_failed_over(rds)
    publish_lag(rds, rds.config.regions.primary, 0.0)
    prepare(rds)
    sent = operations(rds, "rejoin")

    # WHEN prepare-failback runs again (a new execution)
    _, results = prepare(rds, name="prepare-failback-INC-7-attempt2")

    # THEN it observes the replica and sends nothing
    assert results[-1].status is StepStatus.NOOP, results[-1]
    assert operations(rds, "rejoin") == sent


def test_rds_old_primary_is_never_deleted_before_its_snapshot_is_available(
    rds: Controller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the old primary's snapshot still being created (moto makes every snapshot available at once)
    rds_failed_over(rds)
    primary = rds.config.regions.primary
    identifier = rds.topology.names.db_instance(primary)

    def creating(self: RdsReplicaDatabase, region: str, name: str) -> dict[str, Any]:
        return {"DBSnapshotIdentifier": name, "DBInstanceIdentifier": identifier, "Status": "creating", "TagList": []}

    monkeypatch.setattr(RdsReplicaDatabase, "_db_snapshot", creating)

    # WHEN prepare-failback runs
    _, results = prepare(rds)

    # THEN it waits for the snapshot and the old instance is still there
    assert results[-1].status is StepStatus.WAITING
    assert "creating" in results[-1].message
    assert "DeleteDBInstance" not in operations(rds, "rejoin")
    assert instance(rds, primary)["DBInstanceStatus"] == "stopped"


def test_rds_without_a_lost_writes_record_the_old_primary_is_snapshotted_first(rds: Controller) -> None:
    # GIVEN the old primary is a standalone writer the desired state fenced, with no lost-writes record
    config = rds.config
    primary, standby = config.regions.primary, config.regions.standby
    deps = rds.deps(primary)
    deps.database.promote(standby, primary_reachable=True)
    rds.standby_active(epoch=3, reason="switched")
    publish_lag(rds, primary, 0.0)

    # WHEN prepare-failback runs
    _, results = prepare(rds)

    # THEN the first pass took a snapshot named for the epoch that fenced it, and nothing else
    assert "CreateDBSnapshot" in results[0].actions[0]
    assert results[0].observed["database"]["snapshot"] == Names(config).lost_writes_snapshot(3)
    assert operations(rds, "rejoin")[:1] == ["CreateDBSnapshot"]
    assert results[-1].status is StepStatus.DONE


def test_prepare_failback_stops_for_a_human_when_the_other_region_is_not_active(rds: Controller) -> None:
    # GIVEN the configured primary is still the active region (nothing to prepare)
    deps = rds.deps(rds.config.regions.primary)
    state = prepare_state(rds.config)

    # WHEN validate sees the request
    result = STEPS["validate"](state, deps)

    # THEN it is refused before any change
    assert result.status is StepStatus.NEEDS_HUMAN
    assert "already the active region" in result.message


def test_rejoin_stops_for_a_human_at_its_deadline(rds: Controller) -> None:
    # GIVEN a rebuilt replica that never catches up
    rds_failed_over(rds)
    primary = rds.config.regions.primary
    publish_lag(rds, primary, 10_000.0)
    deps = rds.deps(primary)
    state = rds.run_steps(prepare_state(rds.config), deps, ["validate", "lock"])
    state, _ = rejoin_until_settled(rds, state, deps)

    # WHEN the deadline has passed at the next check
    rds.clock.advance(REJOIN_DEADLINE_SECONDS)
    with rds.call_log.step("rejoin"):
        result = STEPS["rejoin"](state, deps)

    # THEN it stops for a human, saying the rebuild goes on and how to keep waiting
    assert result.status is StepStatus.NEEDS_HUMAN
    assert "start prepare-failback again" in result.message


# -- Aurora -------------------------------------------------------------------------------------


def aurora_switched_over(aurora: Controller) -> None:
    """The standby's cluster is the global writer (a switchover); the desired state says so."""
    standby = aurora.config.regions.standby
    aurora.deps(standby).database.promote(standby, primary_reachable=True)
    aurora.standby_active(epoch=2, reason="switched")


def test_aurora_old_cluster_rejoined_as_a_secondary_is_ready(aurora: Controller) -> None:
    # GIVEN a switchover: AWS keeps the old writer as a secondary
    aurora_switched_over(aurora)
    publish_lag(aurora, aurora.config.regions.primary, 0.2)

    # WHEN prepare-failback runs
    _, results = prepare(aurora)

    # THEN it reports ready and changed nothing in AWS
    assert results[-1].status is StepStatus.NOOP, results[-1]
    assert results[-1].observed["database"]["phase"] == RejoinPhase.REJOINED
    assert operations(aurora, "rejoin") == []


def test_aurora_old_cluster_detached_from_the_global_database_is_reported_missing(
    aurora: Controller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the old primary's cluster is outside the global database (the worse case after a
    # failover). moto 5's RemoveFromGlobalCluster answers 200 and keeps the member (measured),
    # so the global cluster is read without it.
    aurora_switched_over(aurora)
    detached = aurora.topology.names.db_cluster_arn(aurora.config.regions.primary)
    original = AuroraGlobalDatabase._global_cluster

    def without_the_old_primary(self: AuroraGlobalDatabase, region: str, *, best_effort: bool = False) -> Any:
        found = original(self, region, best_effort=best_effort)
        members = [m for m in (found or {}).get("GlobalClusterMembers", []) if m["DBClusterArn"] != detached]
        return None if found is None else {**found, "GlobalClusterMembers": members}

    monkeypatch.setattr(AuroraGlobalDatabase, "_global_cluster", without_the_old_primary)

    # WHEN prepare-failback runs
    _, results = prepare(aurora)

    # THEN it stops for a human, saying what is missing, and created nothing
    assert results[-1].status is StepStatus.NEEDS_HUMAN
    assert "not a member" in results[-1].message
    assert operations(aurora, "rejoin") == []
