"""The RPO gate's basis (switchyard.steps.gates): the bound on the writes the standby can be
missing, from its replay position and the old primary's last heartbeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from switchyard.config import EnvironmentConfig
from switchyard.model import Action
from switchyard.steps.gates import lag_evidence_due, loss_bound
from tests.fakes import Fakes

BREAK = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)  # the old primary stopped streaming here
HEARTBEAT_SECONDS = 5


def at(seconds: float) -> datetime:
    return BREAK + timedelta(seconds=seconds)


def test_a_rising_lag_read_after_the_break_bounds_the_loss_by_the_replay_position() -> None:
    # GIVEN the replica replayed up to 0.2 s before the break, the source's last heartbeat 3 s
    # before it, and a datapoint 2 minutes later reporting the lag risen to 120.2 s
    bound = loss_bound(120.2, at(120), at(-3), heartbeat_seconds=HEARTBEAT_SECONDS)

    # THEN the bound is the heartbeat (plus one interval) minus the replay position: 2.2 s, not 120 s
    assert bound.seconds == pytest.approx(-3 + HEARTBEAT_SECONDS + 0.2)
    assert bound.reported_lag_seconds == 120.2


def test_a_datapoint_older_than_the_last_heartbeat_counts_its_age_in_full() -> None:
    # GIVEN the newest datapoint describes 50 s before the last heartbeat, lag 0.2 s
    bound = loss_bound(0.2, at(-50), at(0), heartbeat_seconds=HEARTBEAT_SECONDS)

    # THEN the 50 s nobody observed count: the worse case
    assert bound.seconds == pytest.approx(0.2 + 50 + HEARTBEAT_SECONDS)


def test_without_a_timestamp_or_a_heartbeat_the_raw_lag_decides() -> None:
    assert loss_bound(30.0, None, at(0), heartbeat_seconds=HEARTBEAT_SECONDS).seconds == 30.0
    assert loss_bound(30.0, at(0), None, heartbeat_seconds=HEARTBEAT_SECONDS).seconds == 30.0
    assert loss_bound(None, at(0), at(0), heartbeat_seconds=HEARTBEAT_SECONDS).seconds is None


@pytest.fixture
def automatic_dev(dev_config: EnvironmentConfig) -> Fakes:
    fakes = Fakes(dev_config.model_copy(update={"mode": "automatic"}))
    fakes.clock.now = at(40)
    return fakes


def test_an_automatic_failover_waits_for_a_datapoint_newer_than_the_last_heartbeat(automatic_dev: Fakes) -> None:
    deps = automatic_dev.deps(automatic_dev.config.regions.standby)
    stale = loss_bound(0.2, at(-70), at(0), heartbeat_seconds=HEARTBEAT_SECONDS)  # over the 60 s budget by age

    due = lag_evidence_due(deps, stale, action=Action.FAILOVER, approved=False)

    assert due is not None
    assert "newer one is due" in due


def test_no_wait_once_the_evidence_covers_the_heartbeat_or_the_wait_is_over(automatic_dev: Fakes) -> None:
    deps = automatic_dev.deps(automatic_dev.config.regions.standby)
    fresh = loss_bound(70.2, at(70), at(0), heartbeat_seconds=HEARTBEAT_SECONDS)
    stale = loss_bound(0.2, at(-70), at(0), heartbeat_seconds=HEARTBEAT_SECONDS)

    assert lag_evidence_due(deps, fresh, action=Action.FAILOVER, approved=False) is None, "covered: decide now"
    assert lag_evidence_due(deps, stale, action=Action.SWITCHOVER, approved=False) is None
    assert lag_evidence_due(deps, stale, action=Action.FAILOVER, approved=True) is None
    automatic_dev.clock.now = at(241)
    assert lag_evidence_due(deps, stale, action=Action.FAILOVER, approved=False) is None, "waited long enough"


def test_no_wait_while_the_old_primary_still_writes_heartbeats(automatic_dev: Fakes) -> None:
    # GIVEN the old primary's controller is alive (heartbeat 3 s old) but the newest datapoint
    # trails it by 90 s, as CloudWatch's always does: waiting could never end
    deps = automatic_dev.deps(automatic_dev.config.regions.standby)
    alive = loss_bound(1.0, at(-50), at(37), heartbeat_seconds=HEARTBEAT_SECONDS)

    # THEN decide now (the bound is over budget: a human approves)
    assert alive.seconds is not None
    assert alive.seconds > automatic_dev.config.rpo_budget_seconds
    assert lag_evidence_due(deps, alive, action=Action.FAILOVER, approved=False) is None
