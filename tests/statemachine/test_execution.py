"""The runbook ASL executed by moto's Step Functions interpreter, every task running the
real step handler in-process against a moto-provisioned environment."""

from __future__ import annotations

from drill.provision import write_desired_state
from switchyard.config import EnvironmentConfig
from switchyard.model import DesiredState
from tests.statemachine.conftest import RunbookWorld, output_results, runbook_world

MUTATING_PATH = ["TakeLock", "Preflight", "TakeOver", "Promote", "FlipTraffic", "WaitReady", "Verify", "ReleaseLock"]


def entered_in_order(states: list[str], expected: list[str]) -> bool:
    positions = [states.index(state) for state in expected]
    return positions == sorted(positions)


def test_dry_run_runs_only_the_checks_and_changes_nothing(standby: RunbookWorld) -> None:
    # GIVEN a healthy environment WHEN a dry run executes
    report = standby.run(standby.request(action="dry-run"), name="dry-run-INC-42")
    # THEN it succeeds with the preflight findings, never takes the lock and makes no mutating call
    assert report.status == "SUCCEEDED"
    assert report.states == [
        "TakeInput",
        "IsInputAnObject",
        "Validate",
        "IsInputValid",
        "BeginRunbook",
        "IsDryRun",
        "DryRunPreflight",
        "DryRunReport",
    ]
    assert report.output is not None
    assert report.output["preflight"]["step"] == "preflight"
    assert standby.mutating_calls() == []
    assert standby.lock() is None


def test_failover_promotes_this_region_and_flips_traffic(standby: RunbookWorld) -> None:
    # GIVEN the primary active at epoch 0 and lag under budget WHEN a failover executes in the standby
    report = standby.run(standby.request(), name="failover-INC-42")
    # THEN every step ran in order, the standby is active at the lock's epoch, the lock is released
    assert report.status == "SUCCEEDED", report.cause
    assert entered_in_order(report.states, [*MUTATING_PATH, "RecordOutcome", "RunbookSucceeded"])
    assert report.states.index("Fence") < report.states.index("Promote")
    results = output_results(report)
    assert {"validate", "lock", "preflight", "fence", "promote", "scale_up", "flip", "verify", "release"} <= set(
        results
    )
    desired = standby.desired()
    assert desired is not None
    assert (desired.active_region, desired.epoch) == (standby.region, report.output["epoch"])  # type: ignore[index]
    lock = standby.lock()
    assert lock is not None
    assert not lock.held


def test_failover_records_each_steps_calls_under_its_step(standby: RunbookWorld) -> None:
    standby.run(standby.request(), name="failover-INC-42")
    by_step = standby.controller.call_log.by_step()
    assert "PromoteReadReplica" in by_step["promote"]
    assert "-" not in by_step, "every call of the runbook belongs to a step"


def test_switchover_executes_to_success_once_replication_caught_up(standby: RunbookWorld) -> None:
    # GIVEN the replica caught up (a switchover promises RPO 0) WHEN a switchover executes
    standby.controller.clock.advance(600)  # the earlier lag datapoint leaves the lookback window
    standby.controller.publish_lag(0.0)
    report = standby.run(standby.request(action="switchover", reason="planned maintenance"), name="switchover-CHG-7")
    # THEN the standby is active
    assert report.status == "SUCCEEDED", report.cause
    desired = standby.desired()
    assert desired is not None
    assert desired.active_region == standby.region


def test_failback_returns_traffic_to_the_configured_primary(dev_config: EnvironmentConfig) -> None:
    # GIVEN the standby active after an earlier failover (the old primary's rejoin as a replica is not
    # modelled by moto: its database is still the writable instance)
    primary, standby = dev_config.regions.pair
    with runbook_world(dev_config, primary) as world:
        after_failover = DesiredState(
            active_region=standby,
            epoch=1,
            fenced_region=primary,
            updated_by="t",
            reason="r",
            updated_at="2026-01-01T00:00:00Z",
        )
        for region in dev_config.regions.pair:
            write_desired_state(dev_config, region, after_failover)
        # WHEN a failback executes in the primary region
        report = world.run(world.request(action="failback", reason="primary recovered"), name="failback-INC-42")
        # THEN the primary is active again at a newer epoch
        assert report.status == "SUCCEEDED", report.cause
        desired = world.desired()
        assert desired is not None
        assert (desired.active_region, desired.epoch > 1) == (primary, True)
