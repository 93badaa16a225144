"""The approval pause (task token) and the failure paths, executed with the real handlers."""

from __future__ import annotations

from drill.stepfunctions import ApprovalRequest
from switchyard.config import EnvironmentConfig
from switchyard.handlers.traffic_switch import switch_answer
from tests.statemachine.conftest import RunbookWorld, runbook_world

ABOVE_BUDGET_LAG_SECONDS = 300.0  # dev's RPO budget is 60 s
STEPS_ALLOWED_TO_WRITE_ON_A_SAFE_STOP = {"lock", "release", "record"}


def start_paused_for_approval(world: RunbookWorld) -> tuple[str, ApprovalRequest]:
    """Lag above the RPO budget, a failover started: its execution and the approval request it sent."""
    world.controller.clock.advance(600)  # the earlier datapoint leaves the lag lookback window
    world.controller.publish_lag(ABOVE_BUDGET_LAG_SECONDS)
    execution = world.runbook.start(world.request(), name="failover-INC-42")
    return execution, world.runbook.next_approval_request(timeout_seconds=15)


def steps_that_wrote(world: RunbookWorld) -> set[str]:
    return {call.step or "-" for call in world.controller.call_log.mutating()}


def test_lag_above_budget_pauses_for_an_approval_that_states_the_lag(standby: RunbookWorld) -> None:
    # GIVEN lag above the RPO budget WHEN a failover starts
    with standby.handlers():
        execution, request = start_paused_for_approval(standby)
        # THEN an approval request carrying the lag and the findings goes to the topic, nothing changed yet
        preflight = request.message["preflight"]
        assert preflight["observed"]["replication_lag_seconds"] == ABOVE_BUDGET_LAG_SECONDS
        assert preflight["observed"]["approval_required"] is True
        assert any(finding["check"] == "approval" for finding in preflight["findings"])
        assert request.execution == "failover-INC-42"
        assert steps_that_wrote(standby) == {"lock"}
        standby.reject(request.task_token, "not now")
        assert standby.runbook.wait(execution).status == "FAILED"


def test_an_approved_failover_continues_and_completes(standby: RunbookWorld) -> None:
    # GIVEN a failover paused for approval
    with standby.handlers():
        execution, request = start_paused_for_approval(standby)
        # WHEN an operator approves with a note
        standby.approve(request.task_token, "accept 300 s of lag, orders replayable")
        report = standby.runbook.wait(execution)
    # THEN the runbook completes, the approval is in its output and the standby is active
    assert report.status == "SUCCEEDED", report.cause
    assert report.output is not None
    assert report.output["approval"]["note"].startswith("accept 300 s of lag, orders replayable")
    promoted = report.output["results"]["promote"]["observed"]
    assert promoted["approval"]["accepted_lag_seconds"] == ABOVE_BUDGET_LAG_SECONDS  # carried through the ASL
    assert report.states.index("AcceptApproval") < report.states.index("TakeOver")
    desired = standby.desired()
    assert desired is not None
    assert desired.active_region == standby.region


def test_the_requester_approving_their_own_data_losing_failover_is_refused(standby: RunbookWorld) -> None:
    # GIVEN an RDS failover requested by "tests" (a promotion that loses the lag), paused for approval
    with standby.handlers():
        execution, request = start_paused_for_approval(standby)
        # WHEN the requester approves it themselves
        standby.approve(request.task_token, "accept 300 s of lag", approved_by="tests")
        report = standby.runbook.wait(execution)
    # THEN promote refuses, naming the problem, and no database was promoted
    assert report.status == "FAILED"
    assert "the approver 'tests' is the requester 'tests'" in (report.cause or "")
    assert "PromoteReadReplica" not in standby.controller.call_log.operations()


def test_an_approval_for_less_lag_than_promote_measures_is_refused(standby: RunbookWorld) -> None:
    # GIVEN a failover paused for approval with the lag at 300 s
    with standby.handlers():
        execution, request = start_paused_for_approval(standby)
        # WHEN a second operator approves having accepted only 100 s
        standby.approve(request.task_token, "accept 100 s of lag", accepted_lag_seconds=100.0)
        report = standby.runbook.wait(execution)
    # THEN promote refuses, naming both lags, and no database was promoted
    assert report.status == "FAILED"
    assert "accepted a lag of 100.0s; the lag is now 300.0s" in (report.cause or "")
    assert "PromoteReadReplica" not in standby.controller.call_log.operations()


def test_a_rejected_approval_stops_safely_and_releases_the_lock(standby: RunbookWorld) -> None:
    # GIVEN a failover paused for approval
    with standby.handlers():
        execution, request = start_paused_for_approval(standby)
        # WHEN an operator rejects it
        standby.reject(request.task_token, "lag is falling, wait for a switchover")
        report = standby.runbook.wait(execution)
    # THEN it fails before any change, says why and what to do, releases the lock, leaves traffic alone
    assert report.status == "FAILED"
    assert report.error == "Switchyard.FailedBeforeChanges"
    assert "lag is falling" in (report.cause or "")
    assert "lock is released" in (report.cause or "")
    assert "TakeOver" not in report.states
    lock = standby.lock()
    assert lock is not None
    assert not lock.held
    desired = standby.desired()
    assert desired is not None
    assert (desired.active_region, desired.epoch) == (standby.config.regions.primary, 0)
    assert steps_that_wrote(standby) <= STEPS_ALLOWED_TO_WRITE_ON_A_SAFE_STOP


def test_a_failover_whose_promote_keeps_failing_is_recorded_keeps_the_lock_and_traffic_on_the_target(
    standby: RunbookWorld,
) -> None:
    # GIVEN promotion throttled on every attempt
    standby.controller.fail("rds", "PromoteReadReplica", "Throttling")
    # WHEN a failover executes
    report = standby.run(standby.request(), name="failover-INC-42")
    # THEN the state machine retried promote, then took the after-changes path: recorded, lock kept
    assert report.status == "FAILED"
    assert report.error == "Switchyard.FailedAfterChanges"
    assert "KEEPS the lock" in (report.cause or "")
    promote_runs = [i for i in standby.runbook.invocations if i.handler.endswith(".promote")]
    assert len(promote_runs) == 4  # the first attempt and three retries (MaxAttempts 3)
    assert "RecordFailure" in report.states
    lock = standby.lock()
    assert lock is not None
    assert (lock.held, lock.holder) == (True, report.arn)
    # AND traffic stays where the failover's first flip put it, before the fence and the promotion:
    # on the target, the old primary fenced at the run's epoch (a human promotes or fails back)
    assert report.states.index("FlipTrafficFirst") < report.states.index("Promote")
    assert "FlipTraffic" not in report.states
    desired = standby.desired()
    assert desired is not None
    assert (desired.active_region, desired.fenced_region, desired.epoch) == (
        standby.region,
        standby.config.regions.primary,
        lock.epoch,
    )
    audit = standby.controller.deps(standby.region).state.read_audit(standby.region, execution=report.arn)
    assert audit is not None


def test_a_switchover_whose_promote_keeps_failing_never_moves_traffic_to_the_target(standby: RunbookWorld) -> None:
    # GIVEN the replica caught up and promotion throttled on every attempt
    standby.controller.clock.advance(600)  # the earlier lag datapoint leaves the lookback window
    standby.controller.publish_lag(0.0)
    standby.controller.fail("rds", "PromoteReadReplica", "Throttling")
    # WHEN a planned switchover executes
    report = standby.run(standby.request(action="switchover", reason="planned maintenance"), name="switchover-CHG-7")
    # THEN it took the after-changes path with the lock kept
    assert (report.status, report.error) == ("FAILED", "Switchyard.FailedAfterChanges")
    lock = standby.lock()
    assert lock is not None
    assert (lock.held, lock.holder) == (True, report.arn)
    # AND no flip wrote: its first flip answers noop for a planned move and FlipTraffic was never reached,
    # so the desired state names the old primary active, as the fence left it: fenced at the run's epoch
    assert "FlipTrafficFirst" in report.states
    assert "FlipTraffic" not in report.states
    assert not [call for call in standby.controller.call_log.mutating() if call.step == "flip"]
    desired = standby.desired()
    assert desired is not None
    primary = standby.config.regions.primary
    assert (desired.active_region, desired.fenced_region, desired.epoch) == (primary, primary, lock.epoch)
    # AND so neither switch answers 200: the old primary stops taking writes (fence before promote)
    # until a human finishes the move or lifts the fence
    assert switch_answer(primary, desired)[0] == 503
    assert switch_answer(standby.region, desired)[0] == 503


def test_a_transient_failure_is_retried_by_the_state_machine_and_the_run_completes(standby: RunbookWorld) -> None:
    # GIVEN promotion throttled long enough to exhaust one invocation's own retries (4 attempts)
    injected = standby.controller.fail("rds", "PromoteReadReplica", "Throttling", times=4)
    # WHEN a failover executes
    report = standby.run(standby.request(), name="failover-INC-42")
    # THEN the Retry on RetryableStepError ran promote again and the runbook completed, promoting once
    assert report.status == "SUCCEEDED", report.cause
    assert len(injected) == 4
    promote_runs = [i for i in standby.runbook.invocations if i.handler.endswith(".promote")]
    assert [run.error_type for run in promote_runs] == ["RetryableStepError", None]
    attempts = standby.controller.call_log.by_step()["promote"].count("PromoteReadReplica")
    assert attempts == 5  # four throttled, one effective


def test_a_lock_held_by_another_run_stops_without_touching_it(standby: RunbookWorld) -> None:
    # GIVEN another execution holds the lock
    store = standby.controller.deps(standby.region).state
    store.acquire_lock(standby.region, holder="failover-INC-1", now="2026-01-01T00:00:00+00:00", min_epoch=0)
    # WHEN a second failover executes
    report = standby.run(standby.request(), name="failover-INC-42")
    # THEN it stops before preflight, the other run's lock is untouched, traffic is untouched
    assert report.status == "FAILED"
    assert report.error == "Switchyard.FailedWithoutLock"
    assert "Preflight" not in report.states
    lock = standby.lock()
    assert lock is not None
    assert (lock.held, lock.holder) == (True, "failover-INC-1")
    desired = standby.desired()
    assert desired is not None
    assert desired.epoch == 0


def test_manual_mode_asks_for_approval_even_with_lag_in_budget(prod_config: EnvironmentConfig) -> None:
    # GIVEN prod (Aurora global database, manual mode) with the replica caught up
    with runbook_world(prod_config, prod_config.regions.standby) as world, world.handlers():
        world.controller.clock.advance(600)
        world.controller.publish_lag(0.0)
        # WHEN a failover starts
        execution = world.runbook.start(world.request(), name="failover-INC-42")
        request = world.runbook.next_approval_request(timeout_seconds=15)
        # THEN it pauses for a human because of the mode, not the lag
        assert "manual mode" in request.message["preflight"]["observed"]["approval_reason"]
        world.approve(request.task_token, "manual mode: go ahead, lag is zero")
        report = world.runbook.wait(execution)
    assert report.status == "SUCCEEDED", report.cause


def test_the_same_incident_started_in_the_other_region_holds_the_lock_against_this_one(standby: RunbookWorld) -> None:
    # GIVEN failover-INC-42 of the PRIMARY's runbook holds the lock, replicated into this replica
    names = standby.controller.deps(standby.region).names
    other = names.execution_arn(standby.config.regions.primary, "failover-INC-42")
    store = standby.controller.deps(standby.region).state
    store.acquire_lock(standby.region, holder=other, now="2026-01-01T00:00:00+00:00", min_epoch=0)
    # WHEN failover-INC-42 executes in this region's runbook (the same name, the runbooks' naming)
    report = standby.run(standby.request(), name="failover-INC-42")
    # THEN it is another holder: it stops before preflight and the other run's lock stays
    assert (report.status, report.error) == ("FAILED", "Switchyard.FailedWithoutLock")
    assert other in (report.cause or "")
    lock = standby.lock()
    assert lock is not None
    assert (lock.held, lock.holder, lock.epoch) == (True, other, 1)
