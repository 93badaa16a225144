"""The TakeOver branch in the REAL runbook state machine:
FlipTrafficFirst -> Fence -> Promote (-> PollPromoteAgain -> Promote) -> FlipTraffic, the same
flip function twice (switchyard.steps.flip says why neither can make a second writer).

- A failover flips in FlipTrafficFirst, before the fence and the promotion, so the traffic
  switch's propagation overlaps them; FlipTraffic then answers noop.
- A planned move answers noop in FlipTrafficFirst and flips in FlipTraffic, once its
  promotion was sent.
- Promote answers ``waiting`` while the RPO bound is over budget only because the newest
  replication-lag datapoint predates the old primary's last heartbeat
  (switchyard.steps.gates.lag_evidence_due); PollPromoteAgain brings it back, and nothing
  is sent until it decides.

moto publishes a metric datapoint only when told: the tests publish the replica's lag
(drill.provision.publish_replication_lag) and put the old primary's heartbeat into the
standby's replica (Controller.replicate_heartbeat) as the MRSC table would hold it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from drill.provision import publish_replication_lag
from switchyard.contract import LAG_EVIDENCE_POLL_SECONDS, LAG_EVIDENCE_WAIT_SECONDS
from switchyard.retry import EventHook
from tests.statemachine.conftest import RunbookWorld, output_results


@dataclass(frozen=True)
class Move:
    """An action and where its traffic flip belongs."""

    action: str
    flipping_task: str  # the Task whose flip writes: FlipTrafficFirst or FlipTraffic
    first_flip: str  # the status of $.results.flip_first
    second_flip: str  # the status of $.results.flip


MOVES = [
    Move("failover", "FlipTrafficFirst", first_flip="done", second_flip="noop"),
    Move("switchover", "FlipTraffic", first_flip="noop", second_flip="done"),
]
FLIP_ORDER = ["FlipTrafficFirst", "Fence", "Promote", "FlipTraffic"]


def run_move(world: RunbookWorld, action: str) -> Any:
    """Execute ``action`` into the standby; a switchover with the replica caught up (RPO 0)."""
    if action == "failover":
        return world.run(world.request(), name="failover-INC-42")
    world.controller.clock.advance(600)  # the earlier lag datapoint leaves the lookback window
    world.controller.publish_lag(0.0)
    return world.run(world.request(action=action, reason="planned maintenance"), name=f"{action}-CHG-7")


@pytest.mark.parametrize("move", MOVES, ids=[move.action for move in MOVES])
def test_a_failover_flips_before_the_promotion_and_a_planned_move_only_after_it(
    standby: RunbookWorld, move: Move
) -> None:
    # GIVEN the primary active at epoch 0 WHEN the move executes into the standby
    report = run_move(standby, move.action)

    # THEN it completed through the branch in its order, each flip Task entered once
    assert report.status == "SUCCEEDED", report.cause
    assert [state for state in report.states if state in FLIP_ORDER] == FLIP_ORDER
    # AND only the flip Task of this kind of move wrote; the other answered noop
    results = output_results(report)
    assert (results["flip_first"]["status"], results["flip"]["status"]) == (move.first_flip, move.second_flip)
    # AND the one desired-state write of the flips came before the promotion for a failover, after it otherwise
    calls = standby.controller.call_log.snapshot()
    flip_writes = [i for i, call in enumerate(calls) if call.step == "flip" and call.mutating]
    [promotion] = [i for i, call in enumerate(calls) if call.operation == "PromoteReadReplica"]
    assert len(flip_writes) == 1
    assert (flip_writes[0] < promotion) is (move.flipping_task == "FlipTrafficFirst")
    desired = standby.desired()
    assert desired is not None
    assert (desired.active_region, desired.fenced_region) == (standby.region, standby.config.regions.primary)


def silent_seconds(world: RunbookWorld) -> int:
    """How long the old primary has been silent in these tests: past its heartbeat's staleness."""
    return 3 * world.config.detection.evaluation_interval_seconds + 5


def stale_lag_evidence(world: RunbookWorld) -> None:
    """The old primary's heartbeat now, the newest lag datapoint two minutes older: a reported lag
    within dev's 60 s budget, but a bound over it, only because the datapoint predates the heartbeat."""
    world.controller.clock.advance(120)
    world.controller.replicate_heartbeat(world.config.regions.primary, into=world.region)
    # AND the old primary has gone silent since: its heartbeat stale (3 intervals), as when it went dark
    world.controller.clock.advance(silent_seconds(world))


def test_promote_waiting_for_lag_evidence_loops_and_sends_one_promotion_once_it_arrives(
    standby: RunbookWorld,
) -> None:
    # GIVEN (dev: automatic mode) a lag datapoint older than the old primary's last heartbeat
    stale_lag_evidence(standby)
    heartbeat = standby.controller.clock() - timedelta(seconds=silent_seconds(standby))
    # AND a fresh datapoint published during the second PollPromoteAgain (a minute after the heartbeat's
    # minute, as CloudWatch would), noting what promote had changed by then
    promote_writes_before: list[int] = []

    def publish_fresh_lag(**_: Any) -> None:
        log = standby.controller.call_log
        if log.current_step == "promote" and len(standby.waits) == 2 and not promote_writes_before:
            promote_writes_before.append(len([call for call in log.mutating() if call.step == "promote"]))
            publish_replication_lag(standby.config, 1.0, at=standby.controller.clock() - timedelta(seconds=1))

    standby.controller.hooks.append(
        EventHook("before-call.cloudwatch.GetMetricStatistics", publish_fresh_lag, standby.region)
    )

    # WHEN a failover executes
    report = standby.run(standby.request(), name="failover-INC-42")

    # THEN it completed without asking a human
    assert report.status == "SUCCEEDED", report.cause
    assert "RequestApproval" not in report.states
    # AND promote answered waiting twice, each brought back by PollPromoteAgain after LAG_EVIDENCE_POLL_SECONDS,
    # and those two answers changed nothing
    assert report.states.count("PollPromoteAgain") == 2
    assert report.states.count("Promote") == 3
    assert standby.waits == [LAG_EVIDENCE_POLL_SECONDS] * 2
    assert promote_writes_before == [0]
    # AND the third decided on the fresh datapoint and sent the only promotion
    promoted = output_results(report)["promote"]
    assert promoted["status"] == "done"
    assert promoted["observed"]["source_last_seen"] == heartbeat.isoformat()
    promotions = [call for call in standby.controller.call_log.snapshot() if call.operation == "PromoteReadReplica"]
    assert len(promotions) == 1


def test_promote_waits_for_lag_evidence_at_most_its_bound_then_asks_a_human(standby: RunbookWorld) -> None:
    # GIVEN a lag datapoint older than the old primary's last heartbeat, and no newer one ever published
    stale_lag_evidence(standby)

    # WHEN a failover executes
    report = standby.run(standby.request(), name="failover-INC-42")

    # THEN promote polled, LAG_EVIDENCE_POLL_SECONDS at a time, for at most LAG_EVIDENCE_WAIT_SECONDS after
    # the heartbeat (here the datapoint leaves the reader's 5-minute lookback first: the lag is then
    # unknown, which a human decides too), then refused the data-losing promotion, having sent none
    polls = len(standby.waits)
    assert 0 < polls <= LAG_EVIDENCE_WAIT_SECONDS // LAG_EVIDENCE_POLL_SECONDS
    assert standby.waits == [LAG_EVIDENCE_POLL_SECONDS] * polls
    assert report.states.count("Promote") == polls + 1
    assert (report.status, report.error) == ("FAILED", "Switchyard.FailedAfterChanges")
    assert "refused a data-losing promotion" in (report.cause or "")
    assert "PromoteReadReplica" not in standby.controller.call_log.operations()
