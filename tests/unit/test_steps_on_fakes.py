"""Runbook steps (switchyard.steps.STEPS) on in-memory fakes: validate, lock, fence,
promote, flip, wait_ready and record, each called with a RunbookState as its handler calls it.

dev: RDS PostgreSQL, us-east-1 primary; a failover promotes us-west-2, run by us-west-2's
runbook (each region's runbook promotes only its own region).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from switchyard.config import EnvironmentConfig
from switchyard.contract import Names, initial_desired_state
from switchyard.model import Action, DesiredState, RunbookInput, Severity, StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps import STEPS, RetryableStepError
from tests.fakes import Fakes, refused

RUN = "failover-INC-1"


@pytest.fixture
def fakes(dev_config: EnvironmentConfig) -> Fakes:
    world = Fakes(dev_config)
    world.seed_desired(initial_desired_state(dev_config))
    return world


def runbook(config: EnvironmentConfig, action: Action, target: str, *, name: str = RUN) -> RunbookState:
    request = RunbookInput(
        action=action, target_region=target, reason="primary down", incident_id="INC-1", requested_by="alice"
    )
    return RunbookState(request=request, execution=Names(config).execution_arn(target, name))


def run(fakes: Fakes, state: RunbookState, *steps: str) -> tuple[RunbookState, StepResult]:
    """Run ``steps`` in the target region, carrying results and the lock's epoch as the state machine does."""
    deps = fakes.deps(state.request.target_region)
    result: StepResult | None = None
    for name in steps:
        result = STEPS[name](state, deps)
        state = state.with_result(result)
        if name == "lock" and result.ok:
            state = state.model_copy(update={"epoch": result.observed["epoch"]})
    assert result is not None
    return state, result


def blockers(result: StepResult) -> list[str]:
    return [finding.check for finding in result.findings if finding.severity is Severity.BLOCKER]


# -- validate -------------------------------------------------------------------------------


def test_validate_refuses_a_target_other_than_its_own_region(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    state = runbook(dev_config, Action.FAILOVER, west)

    result = STEPS["validate"](state, fakes.deps(east))

    assert result.status is StepStatus.NEEDS_HUMAN
    assert blockers(result) == ["runs-in-target-region"]


def test_validate_refuses_a_failback_until_lost_writes_are_acknowledged(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    fakes.seed_desired(
        DesiredState(
            active_region=west,
            epoch=1,
            fenced_region=east,
            updated_by="x",
            reason="f",
            updated_at="2026-01-01T00:00:00Z",
        )
    )
    fakes.state.record_lost_writes(east, epoch=1, record={"old_primary": east, "why": "RDS replica promotion"})
    failback = runbook(dev_config, Action.FAILBACK, east, name="failback-INC-1")

    _, refused = run(fakes, failback, "validate")
    fakes.state.acknowledge_lost_writes(east, epoch=1, by="bob", at="now", note="reconciled by hand")
    _, accepted = run(fakes, failback, "validate")

    assert refused.status is StepStatus.NEEDS_HUMAN
    assert blockers(refused) == ["lost-writes"]
    assert refused.observed["unacknowledged_lost_writes"] == [1]
    assert "acknowledge-lost-writes --env dev --epoch 1" in refused.findings[0].message
    assert accepted.status is StepStatus.NOOP


def test_validate_accepts_a_failover_to_its_own_region(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    _, result = run(fakes, runbook(dev_config, Action.FAILOVER, dev_config.regions.standby), "validate")
    assert result.status is StepStatus.NOOP
    assert result.observed["active_region"] == dev_config.regions.primary


# -- lock -------------------------------------------------------------------------------------


def test_lock_refuses_a_second_holder_and_gives_the_first_its_epoch_back(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    west = dev_config.regions.standby
    first = runbook(dev_config, Action.FAILOVER, west)
    second = runbook(dev_config, Action.FAILOVER, west, name="failover-INC-2")

    _, taken = run(fakes, first, "lock")
    _, refused = run(fakes, second, "lock")
    _, again = run(fakes, first, "lock")

    assert (taken.status, taken.observed["epoch"]) == (StepStatus.DONE, 1)
    assert refused.status is StepStatus.NEEDS_HUMAN
    assert refused.observed["holder"] == first.holder
    assert (again.status, again.observed["epoch"]) == (StepStatus.NOOP, 1)


def test_lock_refuses_while_the_other_regions_replica_shows_a_holder(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    fakes.state.acquire_lock(east, holder="arn:run-in-east", now="t", min_epoch=0)

    _, result = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock")

    assert result.status is StepStatus.NEEDS_HUMAN
    assert result.observed["held_in"] == east
    assert fakes.state.read_lock(west) is None, "nothing taken in the target's replica"


# -- fence ------------------------------------------------------------------------------------


def test_fence_writes_the_fence_and_records_every_fence(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    fakes.state.tables[east] = fakes.state.tables[west]  # MRSC: both regions read one strongly consistent table
    writes = []
    original = fakes.state.write_desired
    fakes.state.write_desired = lambda region, state: writes.append(region) or original(region, state)  # type: ignore[method-assign]

    _, result = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock", "fence")

    assert result.status is StepStatus.DONE
    assert writes == [west], "one write, through the target: nothing through the old region's endpoint"
    for region in (west, east):
        desired = fakes.state.read_desired(region)
        assert desired is not None
        assert (desired.epoch, desired.fenced_region, desired.active_region) == (1, east, east)
    assert fakes.compute.groups[east].desired == dev_config.capacity.standby_warm_min
    fences = result.observed["fences"]
    assert set(fences) == {f"desired-state@{west}", f"asg@{east}", f"switch@{east}", f"database@{east}"}
    assert fences[f"switch@{east}"].startswith("fenced: answers 503")
    assert fences[f"database@{east}"] == "refused: has a replica", "before the promotion RDS will not stop it"
    assert fakes.database.stops == []


def test_fence_with_the_old_region_dark_still_fences_through_the_target(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    for fake in (fakes.state, fakes.compute, fakes.database):
        fake.make_unreachable(east)

    _, result = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock", "fence")

    assert result.status is StepStatus.DONE
    assert result.observed["fenced"] == [f"desired-state@{west}"]
    assert set(result.observed["not_fenced"]) == {f"asg@{east}"}
    assert result.observed["fences"][f"switch@{east}"].startswith("pending: its replica is unreadable")
    assert result.observed["fences"][f"database@{east}"].startswith("pending: unreachable")


def test_fence_refuses_when_a_newer_epoch_exists(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby
    state, _ = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock")
    fakes.state.write_desired(
        west,
        DesiredState(
            active_region=east, epoch=7, updated_by="other", reason="newer", updated_at="2026-01-01T00:00:00Z"
        ),
    )

    result = STEPS["fence"](state, fakes.deps(west))

    assert result.status is StepStatus.NEEDS_HUMAN
    assert blockers(result) == ["epoch"]


# -- promote ----------------------------------------------------------------------------------


def test_promote_records_lost_writes_then_promotes_once_per_epoch(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby

    state, first = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock", "fence", "promote")
    second = STEPS["promote"](state, fakes.deps(west))

    assert first.status is StepStatus.DONE
    assert [p.region for p in fakes.database.promotions] == [west]
    lost = fakes.state.read_lost_writes_record(west, epoch=1)
    assert lost is not None
    assert (lost["old_primary"], lost["new_writer"], lost["operation"]) == (east, west, "PromoteReadReplica")
    promotion = fakes.state.read_promotion(west, epoch=1)
    assert promotion is not None
    assert promotion["outcome"] == "accepted"
    assert second.status is StepStatus.NOOP, "the target is the writer now"
    assert len(fakes.database.promotions) == 1, "a second call sends nothing"


def test_promote_never_sends_a_second_request_while_one_runs(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    west = dev_config.regions.standby
    fakes.database.promotion_seconds = 600  # RDS takes minutes

    state, first = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock", "fence", "promote")
    second = STEPS["promote"](state, fakes.deps(west))

    assert first.status is StepStatus.DONE
    assert len(fakes.database.promotions) == 1
    assert second.status is StepStatus.NOOP
    assert "already running" in second.message
    assert fakes.sleeps == [], "the readiness loop waits for the promotion, not promote"


def test_promote_waits_for_a_claimed_promotion_it_cannot_see_yet(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    west = dev_config.regions.standby
    state, _ = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock", "fence")
    claimed = {"operation": "PromoteReadReplica", "issued_at": fakes.clock().isoformat(), "outcome": "issuing"}
    fakes.state.claim_promotion(west, epoch=1, record=claimed)  # an invocation that died after claiming

    with pytest.raises(RetryableStepError, match="not sending it again"):
        STEPS["promote"](state, fakes.deps(west))
    fakes.clock.advance(301)
    past_window = STEPS["promote"](state, fakes.deps(west))

    assert fakes.database.promotions == []
    assert past_window.status is StepStatus.NEEDS_HUMAN
    assert blockers(past_window) == ["promotion-not-visible"]


def test_promote_writes_the_lost_writes_record_before_sending(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    """A promotion that fails on the way out still leaves the record (written first)."""
    west = dev_config.regions.standby
    state, _ = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock", "fence")
    fakes.database.promotion_error = refused("ThrottlingException", "slow down", "PromoteReadReplica")

    with pytest.raises(ClientError, match="ThrottlingException"):
        STEPS["promote"](state, fakes.deps(west))

    assert fakes.state.read_lost_writes_record(west, epoch=1) is not None
    promotion = fakes.state.read_promotion(west, epoch=1)
    assert promotion is not None
    assert promotion["outcome"] == "refused", "never sent: the epoch's promotion may be claimed again"


def test_promote_refuses_a_data_losing_promotion_above_the_rpo_budget(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    west = dev_config.regions.standby
    fakes.database.replica_lag_seconds = dev_config.rpo_budget_seconds + 1.0

    _, result = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock", "fence", "promote")

    assert result.status is StepStatus.NEEDS_HUMAN
    assert blockers(result) == ["rpo"]
    assert fakes.database.promotions == []
    assert fakes.state.read_lost_writes_record(west, epoch=1) is None


# -- flip and the readiness loop -------------------------------------------------------------


def test_flip_moves_traffic_while_the_target_database_is_still_being_promoted(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    # GIVEN a promotion that takes minutes was just sent (the runbook flips right after promote)
    east, west = dev_config.regions.primary, dev_config.regions.standby
    fakes.database.promotion_seconds = 300
    state, _ = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock", "fence", "promote")
    assert not fakes.database.describe(west).writable

    # WHEN flip runs
    _, flipped = run(fakes, state, "flip")

    # THEN traffic moves to the standby at the run's epoch, the old primary stays fenced
    assert flipped.status is StepStatus.DONE, flipped
    desired = fakes.state.read_desired(west)
    assert desired is not None
    assert (desired.active_region, desired.fenced_region, desired.epoch) == (west, east, 1)


def test_flip_refuses_when_a_newer_epoch_exists(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    # GIVEN a newer run wrote epoch 5 after this run (epoch 1) promoted
    east, west = dev_config.regions.primary, dev_config.regions.standby
    state, _ = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock", "fence", "promote")
    newer = DesiredState(active_region=east, epoch=5, updated_by="other", reason="r", updated_at="2026-01-01T00:00:00Z")
    fakes.seed_desired(newer)

    # WHEN flip runs THEN it stops for a human and leaves the newer state alone
    _, flipped = run(fakes, state, "flip")

    assert flipped.status is StepStatus.NEEDS_HUMAN
    assert "superseded by epoch 5" in flipped.message
    assert fakes.state.read_desired(west) == newer


def flipped_during_promotion(fakes: Fakes, config: EnvironmentConfig, promotion_seconds: float) -> RunbookState:
    """A failover to the standby up to its flip, with a promotion taking ``promotion_seconds``."""
    fakes.database.promotion_seconds = promotion_seconds
    steps = ("lock", "fence", "scale_up", "promote", "flip")
    state, _ = run(fakes, runbook(config, Action.FAILOVER, config.regions.standby), *steps)
    return state


def test_wait_ready_checks_once_and_answers_waiting_without_sleeping(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    # GIVEN the promotion is still running
    state = flipped_during_promotion(fakes, dev_config, 300)

    # WHEN wait_ready runs
    _, result = run(fakes, state, "wait_ready")

    # THEN it looked once, says what is missing, and leaves the waiting to the state machine
    assert result.status is StepStatus.WAITING
    assert "writable+available" in result.message
    assert result.observed["checks"] == 1
    assert fakes.sleeps == []


def test_wait_ready_is_done_once_the_promotion_completes(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    # GIVEN a first check answered waiting
    state = flipped_during_promotion(fakes, dev_config, 300)
    state, first = run(fakes, state, "wait_ready")

    # WHEN the promotion completes and the state machine asks again
    fakes.clock.advance(300)
    _, second = run(fakes, state, "wait_ready")

    # THEN the target is ready on the second check, under the deadline the first one set
    assert first.status is StepStatus.WAITING
    assert second.status is StepStatus.DONE, second
    assert second.observed["checks"] == 2
    assert second.observed["deadline"] == first.observed["deadline"]


def test_wait_ready_deadline_counts_from_when_the_promotion_was_issued(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    # GIVEN a promotion slower than database.max_promotion_seconds (1800 s), first checked 1000 s after it was sent
    limit = dev_config.database.max_promotion_seconds
    state = flipped_during_promotion(fakes, dev_config, limit + 600)
    issued = fakes.state.read_promotion(dev_config.regions.standby, epoch=1)
    assert issued is not None
    fakes.clock.advance(1000)
    state, first = run(fakes, state, "wait_ready")

    # WHEN the state machine asks again just past issued_at + 1800 s (only 801 s after the wait began)
    fakes.clock.advance(limit - 1000 + 1)
    _, late = run(fakes, state, "wait_ready")

    # THEN it stops for a human, naming what is missing, the deadline and where it counts from
    assert first.status is StepStatus.WAITING
    assert late.status is StepStatus.NEEDS_HUMAN
    assert blockers(late) == ["readiness-deadline"]
    assert f"the promotion issued at {issued['issued_at']}" in late.message
    assert f"database.max_promotion_seconds = {limit} s" in late.message
    assert "writable+available" in late.message
    assert late.observed["deadline"] in late.message


def test_wait_ready_without_a_promotion_of_this_run_counts_from_its_first_check(
    fakes: Fakes, dev_config: EnvironmentConfig
) -> None:
    # GIVEN this run sent no promotion (none recorded at its epoch) and the standby is not the writer
    state, _ = run(fakes, runbook(dev_config, Action.FAILOVER, dev_config.regions.standby), "lock", "fence")
    limit = dev_config.database.max_promotion_seconds

    # WHEN it is checked at the start, just before the deadline and just after it
    state, first = run(fakes, state, "wait_ready")
    fakes.clock.advance(limit - 1)
    state, before = run(fakes, state, "wait_ready")
    fakes.clock.advance(2)
    _, after = run(fakes, state, "wait_ready")

    # THEN it waits until max_promotion_seconds after its first check, then stops for a human
    assert [first.status, before.status, after.status] == [
        StepStatus.WAITING,
        StepStatus.WAITING,
        StepStatus.NEEDS_HUMAN,
    ]
    assert "no promotion issued by this run" in after.message


# -- record -----------------------------------------------------------------------------------


def test_record_appends_one_audit_record_and_notifies_once(fakes: Fakes, dev_config: EnvironmentConfig) -> None:
    east, west = dev_config.regions.primary, dev_config.regions.standby

    state, first = run(fakes, runbook(dev_config, Action.FAILOVER, west), "lock", "fence", "promote", "record")
    again = STEPS["record"](state, fakes.deps(west))

    assert first.status is StepStatus.DONE
    assert again.status is StepStatus.NOOP
    assert len(fakes.notifier.published) == 1
    audit = fakes.state.read_audit(west, execution=state.holder)
    assert audit is not None
    assert (audit["outcome"], audit["epoch"]) == ("succeeded", 1)
    assert audit["lost_writes"] == Names(dev_config).lost_writes_key(1)
    assert f"database@{east}" in audit["fences"]
    assert set(audit["steps"]) == {"lock", "fence", "promote"}
