"""The database fence and lost writes (issue 9): a data-losing failover leaves a lost-writes
record; the old primary, when its region returns, is snapshotted and only then stopped (RDS)
or verified demoted (Aurora) by its own reconciler, every run; failback waits for an
operator's acknowledgement."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchyard.contract import DATABASE_NOT_FENCED_METRIC, Names
from switchyard.handlers import reconciler
from switchyard.iam_request import ANY_RESOURCE, describe_request
from switchyard.model import Action, DesiredState, StepStatus
from switchyard.steps import STEPS
from tests.controller.conftest import SCHEDULED_EVENT, Controller, FakeLambdaContext, failover_state
from tests.controller.runner import run_runbook

PROMOTE_PATH = ["validate", "lock", "preflight", "fence", "promote"]
# The teardown checks every call against the synthesized policy; a call whose resources the
# IAM describer cannot name addresses "*", which no least-privilege grant allows.
SNAPSHOT_ARNS_DESCRIBED = describe_request(
    "rds", "CopyDBClusterSnapshot", "eu-west-1", {"TargetDBClusterSnapshotIdentifier": "x"}, account="1"
).resources != (ANY_RESOURCE,)


def replicate(controller: Controller, key: str, *, source: str, into: str) -> None:
    """Copy one state-table item between replicas, as the MRSC global table would (moto keeps
    each region's table apart)."""
    table = controller.topology.names.state_table
    item = controller.aws("dynamodb", source).get_item(TableName=table, Key={"pk": {"S": key}})["Item"]
    controller.aws("dynamodb", into).put_item(TableName=table, Item=item)


def failover_with_the_primary_dark(controller: Controller) -> tuple[Any, int]:
    """A failover to the standby while the primary region is unreachable (approved lag)."""
    config = controller.config
    outage = controller.outage(config.regions.primary)
    controller.publish_lag(1.0)
    deps = controller.deps()
    state = controller.run_steps(failover_state(config, approval=controller.approval()), deps, PROMOTE_PATH)
    outage.end()
    assert state.epoch is not None
    return state, state.epoch


def region_returns(controller: Controller, epoch: int) -> None:
    """The old primary's region is back: its replica catches up with the desired state and
    the lost-writes record (what MRSC gives it on its first read)."""
    names, standby, primary = (
        controller.topology.names,
        controller.config.regions.standby,
        controller.config.regions.primary,
    )
    for key in (names.desired_state_key, names.lost_writes_key(epoch)):
        replicate(controller, key, source=standby, into=primary)


def reconcile(controller: Controller, region: str) -> dict[str, Any]:
    event = {**SCHEDULED_EVENT, "region": region}
    return reconciler.handler(event, FakeLambdaContext(), deps=controller.deps(region))


def rds_calls(controller: Controller, *operations: str) -> list[str]:
    return [call.operation for call in controller.call_log.snapshot() if call.operation in operations]


def instance_status(controller: Controller, region: str) -> str:
    identifier = controller.topology.names.db_instance(region)
    described = controller.aws("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)
    return str(described["DBInstances"][0]["DBInstanceStatus"])


def test_a_failover_with_the_primary_dark_records_lost_writes_and_fences_what_it_can(rds: Controller) -> None:
    # GIVEN / WHEN a failover to the standby while the primary region is dark
    state, epoch = failover_with_the_primary_dark(rds)
    names, standby, primary = rds.topology.names, rds.config.regions.standby, rds.config.regions.primary

    # THEN promote left the lost-writes record before promoting, naming the old primary
    record = rds.deps().state.read_lost_writes_record(standby, epoch=epoch)
    assert record is not None
    assert (record["old_primary"], record["new_writer"], record.get("snapshot")) == (primary, standby, None)
    assert state.result("promote").observed["lost_writes_record"] == names.lost_writes_key(epoch)
    # AND the fence step recorded each fence: the database could not be reached
    fences = state.result("fence").observed["fences"]
    assert fences[f"desired-state@{standby}"].startswith("fenced")
    assert fences[f"database@{primary}"].startswith("pending: unreachable")
    assert fences[f"switch@{primary}"].startswith("pending: its replica is unreadable from here")


def test_the_returning_rds_primary_is_snapshotted_then_stopped_by_its_own_reconciler(rds: Controller) -> None:
    # GIVEN a failover with the primary dark, and the primary region back
    _, epoch = failover_with_the_primary_dark(rds)
    primary = rds.config.regions.primary
    region_returns(rds, epoch)
    before = len(rds.call_log.snapshot())

    # WHEN the old region's reconciler runs
    result = reconcile(rds, primary)

    # THEN it snapshotted the old primary under the contract's name, recorded it, then stopped it
    snapshot = Names(rds.config).lost_writes_snapshot(epoch)
    assert result["database_fence"]["lost_writes_snapshots"] == {str(epoch): snapshot}
    calls = [call.operation for call in rds.call_log.snapshot()[before:]]
    assert calls.index("CreateDBSnapshot") < calls.index("StopDBInstance")
    assert rds.aws("rds", primary).describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"]
    assert (rds.deps(primary).state.read_lost_writes_record(primary, epoch=epoch) or {})["snapshot"] == snapshot
    assert instance_status(rds, primary) == "stopped"
    assert result["fences"][f"database@{primary}"] == "fenced: stopping (StopDBInstance sent)"
    assert result["fences"][f"asg@{primary}"].startswith("fenced")
    assert result["fences"][f"switch@{primary}"] == "fenced: answers 503 on this read"
    assert result["needs_human"] is False


def test_the_fence_is_constant_work_and_restops_an_instance_aws_restarted(rds: Controller) -> None:
    # GIVEN an old primary the reconciler stopped
    _, epoch = failover_with_the_primary_dark(rds)
    primary = rds.config.regions.primary
    region_returns(rds, epoch)
    reconcile(rds, primary)

    # WHEN it runs again: nothing more to do, verified stopped, no second snapshot
    again = reconcile(rds, primary)
    assert again["fences"][f"database@{primary}"] == "fenced: stopped (verified by DescribeDBInstances)"
    assert rds_calls(rds, "CreateDBSnapshot", "StopDBInstance") == ["CreateDBSnapshot", "StopDBInstance"]

    # WHEN AWS starts the instance again after 7 days: the next run stops it again
    rds.aws("rds", primary).start_db_instance(DBInstanceIdentifier=rds.topology.names.db_instance(primary))
    reconcile(rds, primary)
    assert rds_calls(rds, "StopDBInstance") == ["StopDBInstance", "StopDBInstance"]
    assert instance_status(rds, primary) == "stopped"


def test_no_stop_before_the_lost_writes_are_snapshotted(rds: Controller) -> None:
    # GIVEN a returning old primary that cannot be snapshotted yet
    _, epoch = failover_with_the_primary_dark(rds)
    primary = rds.config.regions.primary
    region_returns(rds, epoch)
    rds.fail("rds", "CreateDBSnapshot", "InvalidDBInstanceState", region=primary)

    # WHEN its reconciler runs
    result = reconcile(rds, primary)

    # THEN it did not stop it, and says why
    assert rds_calls(rds, "StopDBInstance") == []
    assert result["fences"][f"database@{primary}"] == "pending: the lost writes are snapshotted first"
    assert instance_status(rds, primary) == "available"


def test_an_old_primary_that_still_has_its_replica_is_refused_and_pages(
    rds: Controller, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    # GIVEN the primary fenced in the desired state but nothing promoted (no runbook running)
    primary = rds.config.regions.primary
    fenced = DesiredState(
        active_region=primary,
        epoch=3,
        fenced_region=primary,
        updated_by="tests",
        reason="fenced",
        updated_at="2026-01-01T00:00:00Z",
    )
    assert rds.deps(primary).state.write_desired(primary, fenced)

    # WHEN its reconciler runs
    result = reconcile(rds, primary)

    # THEN RDS would refuse the stop (it has a read replica): refused, a human is paged, nothing stopped
    assert result["fences"][f"database@{primary}"].startswith("refused: has a replica")
    assert result["needs_human"] is True
    assert rds_calls(rds, "StopDBInstance") == []
    # AND the database-not-fenced alarm's metric is counted, dimensioned by exactly the Region
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    [count] = [document for document in documents if DATABASE_NOT_FENCED_METRIC in document]
    assert count["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Region"]]
    assert (count["Region"], count[DATABASE_NOT_FENCED_METRIC]) == (primary, [1.0])


@pytest.mark.skipif(
    not SNAPSHOT_ARNS_DESCRIBED,
    reason="switchyard.iam_request does not name cluster-snapshot ARNs yet, so the policy check denies the copy",
)
def test_aurora_returning_writer_is_verified_demoted_after_copying_the_unplanned_failover_snapshot(
    aurora: Controller,
) -> None:
    # GIVEN an Aurora failover with the primary dark (AllowDataLoss), and the region back
    state, epoch = failover_with_the_primary_dark(aurora)
    primary = aurora.config.regions.primary
    assert state.result("promote").observed["operation"] == "FailoverGlobalCluster"
    region_returns(aurora, epoch)

    # WHEN the old region's reconciler runs
    result = reconcile(aurora, primary)

    # THEN AWS's unplanned-failover snapshot was copied to the manual lost-writes snapshot,
    # and the old writer is verified a read-only secondary (nothing is stopped)
    snapshot = Names(aurora.config).lost_writes_snapshot(epoch)
    copied = aurora.aws("rds", primary).describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot)
    assert copied["DBClusterSnapshots"]
    assert rds_calls(aurora, "CopyDBClusterSnapshot") == ["CopyDBClusterSnapshot"]
    assert result["fences"][f"database@{primary}"].startswith("fenced: demoted")
    assert result["needs_human"] is False


def test_failback_waits_until_the_lost_writes_are_acknowledged(rds: Controller) -> None:
    # GIVEN a completed data-losing failover to the standby
    config = rds.config
    outage = rds.outage(config.regions.primary)
    rds.publish_lag(1.0)
    deps = rds.deps()
    failover = run_runbook(failover_state(config, approval=rds.approval()), deps)
    outage.end()
    assert failover.stopped_at is None, failover.state.results
    epoch = failover.state.epoch
    assert epoch is not None
    primary, standby = config.regions.primary, config.regions.standby
    region_returns(rds, epoch)
    replicate(rds, rds.topology.names.lock_key, source=standby, into=primary)
    failback = failover_state(
        config,
        action=Action.FAILBACK,
        target_region=primary,
        execution=Names(config).execution_arn(primary, "failback-test-1"),
    )
    primary_deps = rds.deps(primary)

    # WHEN failback validates before the acknowledgement
    with rds.call_log.step("validate"):
        refused = STEPS["validate"](failback, primary_deps)

    # THEN it is refused, naming the epoch and the command
    assert refused.status is StepStatus.NEEDS_HUMAN
    assert refused.observed["unacknowledged_lost_writes"] == [epoch]
    assert f"acknowledge-lost-writes --env dev --epoch {epoch}" in refused.findings[0].message

    # WHEN an operator acknowledged them (once: a second acknowledgement is refused)
    store = primary_deps.state
    assert store.acknowledge_lost_writes(primary, epoch=epoch, by="assumed-role/op/alice", at="now", note="merged")
    assert not store.acknowledge_lost_writes(primary, epoch=epoch, by="assumed-role/op/bob", at="now", note="again")
    with rds.call_log.step("validate"):
        accepted = STEPS["validate"](failback, primary_deps)

    # THEN failback is accepted
    assert accepted.status is StepStatus.NOOP, accepted
    assert (store.read_lost_writes_record(primary, epoch=epoch) or {})["acknowledged_by"] == "assumed-role/op/alice"


def test_the_audit_record_keeps_every_fence_and_the_lost_writes_record(rds: Controller) -> None:
    config = rds.config
    outage = rds.outage(config.regions.primary)
    rds.publish_lag(1.0)
    deps = rds.deps()
    outcome = run_runbook(failover_state(config, approval=rds.approval()), deps)
    outage.end()
    audit = deps.state.read_audit(config.regions.standby, execution=outcome.state.holder)
    assert audit is not None
    primary = config.regions.primary
    assert set(audit["fences"]) >= {
        f"database@{primary}",
        f"switch@{primary}",
        f"desired-state@{config.regions.standby}",
    }
    assert audit["lost_writes"] == Names(config).lost_writes_key(outcome.state.epoch or 0)


def test_before_the_promotion_the_fence_step_verifies_the_switch_and_rds_refuses_to_stop(rds: Controller) -> None:
    # GIVEN both regions up WHEN a planned switchover fences the primary and promotes
    rds.publish_lag(0.0)
    deps = rds.deps()
    state = rds.run_steps(failover_state(rds.config, action=Action.SWITCHOVER), deps, PROMOTE_PATH)
    primary = rds.config.regions.primary

    # THEN the old region's switch is checked over its own replica (moto keeps each region's
    # table apart, so it still has epoch 0 there: pending, said so; under MRSC it reads the one
    # fence write, as the drill's invariant checker shows), its tier is at the warm minimum,
    # and its database still had its replica (RDS refuses to stop it): nothing stopped
    fences = state.result("fence").observed["fences"]
    assert fences[f"switch@{primary}"] == "pending: answers 200 (its replica is at epoch 0, not yet 1)"
    assert fences[f"asg@{primary}"].startswith("fenced: desired capacity 1")
    assert fences[f"database@{primary}"].startswith("refused: has a replica")
    assert rds_calls(rds, "StopDBInstance") == []
    # AND a planned move leaves no lost-writes record
    assert deps.state.read_lost_writes(rds.config.regions.standby, up_to_epoch=state.epoch or 0) == []
