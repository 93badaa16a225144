"""prepare-failback through the real runbook state machine (moto executes the ASL, the step
handlers run in-process): Validate -> TakeLock -> RebuildOldPrimary, looped through
PollRejoinAgain -> ReleaseLock -> RecordOutcome. No preflight, no takeover: traffic and the
desired state are never touched. A stop for a human releases the lock and records it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drill.stepfunctions import all_states, load_definition
from switchyard.config import EnvironmentConfig
from switchyard.contract import REJOIN_POLL_SECONDS
from tests.controller.test_prepare_failback import publish_lag
from tests.statemachine.conftest import RunbookWorld, output_results, runbook_world

EPOCH = 4
TAKEOVER_STATES = ("Preflight", "TakeOver", "FlipTrafficFirst", "Fence", "Promote", "FlipTraffic", "WaitReady")


@pytest.fixture
def primary(dev_config: EnvironmentConfig) -> Iterator[RunbookWorld]:
    """dev (RDS): the configured primary's runbook, after a failover made the standby active."""
    with runbook_world(dev_config, dev_config.regions.primary) as world:
        world.controller.standby_active(epoch=EPOCH)
        yield world


def prepare_request(world: RunbookWorld) -> dict[str, str]:
    return world.request(action="prepare-failback", target_region=world.config.regions.primary, incident_id="INC-7")


def test_the_rejoin_loop_waits_the_contract_interval() -> None:
    # GIVEN the deployed definition WHEN reading the rebuild's loop THEN it waits REJOIN_POLL_SECONDS
    states = all_states(load_definition())
    poll = states["PollRejoinAgain"]
    assert (poll["Type"], poll["Seconds"], poll["Next"]) == ("Wait", REJOIN_POLL_SECONDS, "RebuildOldPrimary")
    # AND only prepare-failback takes the rebuild's branch after the lock
    branch = states["IsPreparingFailback"]["Choices"]
    assert [(rule["StringEquals"], rule["Next"]) for rule in branch] == [("prepare-failback", "RebuildOldPrimary")]


def test_prepare_failback_rebuilds_waits_and_reports_ready_without_touching_traffic(primary: RunbookWorld) -> None:
    # GIVEN the standby's database is the writer and the old primary a standalone instance
    config = primary.config
    primary.controller.deps(config.regions.standby).database.promote(config.regions.standby, primary_reachable=True)
    publish_lag(primary.controller, config.regions.primary, 0.0)
    before = primary.desired()

    # WHEN prepare-failback executes in the real state machine
    report = primary.run(prepare_request(primary), name="prepare-failback-INC-7")

    # THEN it succeeded, ready for failback
    assert report.status == "SUCCEEDED", report.cause
    results = output_results(report)
    assert results["rejoin"]["status"] == "done"
    assert "ready for failback" in results["rejoin"]["message"]
    # AND it looped through its Wait between the rebuild's passes (snapshot, delete, replica)
    assert primary.waits == [REJOIN_POLL_SECONDS] * 3
    # AND it took no takeover state, and the desired state is as it was; the lock is free
    assert not set(TAKEOVER_STATES) & set(report.states)
    assert primary.desired() == before
    lock = primary.lock()
    assert lock is not None
    assert not lock.held
    # AND the rebuild's mutating calls are the rejoin step's, in order
    rebuild = [call.operation for call in primary.controller.call_log.snapshot() if call.step == "rejoin"]
    assert [op for op in rebuild if op.endswith(("Snapshot", "Instance", "Replica"))] == [
        "CreateDBSnapshot",
        "DeleteDBInstance",
        "CreateDBInstanceReadReplica",
    ]


def test_a_rebuild_that_needs_a_human_stops_releases_the_lock_and_records(primary: RunbookWorld) -> None:
    # GIVEN the desired state says the standby is active but its database is still a replica
    publish_lag(primary.controller, primary.config.regions.primary, 0.0)

    # WHEN prepare-failback executes
    report = primary.run(prepare_request(primary), name="prepare-failback-INC-7")

    # THEN it failed on the preparation's own path: nothing deleted, the lock released, recorded
    assert report.status == "FAILED"
    assert "FailedPreparingFailback" in report.states
    assert "RecordFailure" in report.states
    assert "not a standalone writer" in (report.cause or "")
    assert "DeleteDBInstance" not in primary.mutating_calls()
    lock = primary.lock()
    assert lock is not None
    assert not lock.held
