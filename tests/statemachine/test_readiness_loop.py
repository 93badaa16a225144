"""The real runbook state machine overlaps the traffic switch with the promotion and waits
for readiness in a loop: a failover flips traffic in FlipTrafficFirst, before Fence and
Promote; WaitReady checks once, PollReadinessAgain (a Wait state) brings it back, until the
target is ready or ``database.max_promotion_seconds`` has passed since the promotion was
issued.

moto promotes at once; the named model (``ModelledRdsPromotion``) gives the promotion a
duration on the test's clock, and each Wait state advances that clock (tests/statemachine/
conftest.py), so a promotion of minutes runs in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from drill.stepfunctions import all_states, load_definition
from switchyard.config import EnvironmentConfig
from switchyard.contract import LAG_EVIDENCE_POLL_SECONDS, READINESS_POLL_SECONDS
from switchyard.handlers.environment import override_deps
from switchyard.retry import EventHook, RetryPolicy
from tests.statemachine.conftest import RunbookWorld, output_results, runbook_world

PROMOTION_SECONDS = 33.0  # not a multiple of the poll: ready at the first check after it
POLLS = math.ceil(PROMOTION_SECONDS / READINESS_POLL_SECONDS)  # 7 at 5 s: ready at the eighth check
HANDLER_ATTEMPTS = RetryPolicy().max_attempts


@pytest.fixture
def retry_waits() -> Iterator[list[float]]:
    """The Retry intervals moto's interpreter would have slept, recorded instead of slept."""
    waits: list[float] = []
    with mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=waits.append)):
        yield waits


def run_with_promotion(world: RunbookWorld, promotion_seconds: float, *, name: str) -> Any:
    """A failover in ``world``'s runbook, the standby's promotion taking ``promotion_seconds``."""
    deps = world.controller.deps(world.region, promotion_seconds=promotion_seconds)
    with override_deps(replace(deps, sleep=world.controller.clock.advance)):
        return world.runbook.run(world.request(), name=name)


def test_the_readiness_wait_is_a_state_machine_loop_with_a_fixed_interval() -> None:
    # GIVEN the deployed definition WHEN reading WaitReady's loop THEN it waits the contract's interval
    states = all_states(load_definition())
    poll = states["PollReadinessAgain"]
    assert (poll["Type"], poll["Seconds"], poll["Next"]) == ("Wait", READINESS_POLL_SECONDS, "WaitReady")
    waiting = [rule for rule in states["WaitReadyOk"]["Choices"] if rule.get("StringEquals") == "waiting"]
    assert [rule["Next"] for rule in waiting] == ["PollReadinessAgain"]
    # AND promote's wait for lag evidence is its own, shorter loop (one metric read a poll)
    evidence = states["PollPromoteAgain"]
    assert (evidence["Type"], evidence["Seconds"], evidence["Next"]) == ("Wait", LAG_EVIDENCE_POLL_SECONDS, "Promote")
    # AND "not ready yet" is not a retried error: WaitReady's Retry is for transient errors only
    retried = {error for retrier in states["WaitReady"]["Retry"] for error in retrier["ErrorEquals"]}
    assert all(retrier["IntervalSeconds"] <= 5 for retrier in states["WaitReady"]["Retry"])
    assert "States.ALL" not in retried


def test_traffic_flips_before_the_promotion_completes_and_the_loop_waits_until_ready(standby: RunbookWorld) -> None:
    # GIVEN the standby's RDS promotion takes 33 s
    # WHEN a failover executes in the real state machine
    report = run_with_promotion(standby, PROMOTION_SECONDS, name="failover-INC-42")

    # THEN it succeeded
    assert report.status == "SUCCEEDED", report.cause
    results = output_results(report)
    # AND traffic was flipped first, before the fence and the promotion; the second flip found it done
    order = [report.states.index(state) for state in ("FlipTrafficFirst", "Fence", "Promote", "FlipTraffic")]
    assert order == sorted(order)
    assert (results["flip_first"]["status"], results["flip"]["status"]) == ("done", "noop")
    # AND the loop checked every READINESS_POLL_SECONDS until the promotion had completed
    assert standby.waits == [READINESS_POLL_SECONDS] * POLLS
    assert report.states.count("WaitReady") == POLLS + 1
    assert report.states.count("PollReadinessAgain") == POLLS
    assert (results["wait_ready"]["status"], results["wait_ready"]["observed"]["checks"]) == ("done", POLLS + 1)
    desired = standby.desired()
    assert desired is not None
    assert (desired.active_region, desired.fenced_region) == (standby.region, standby.config.regions.primary)


def test_the_flip_write_precedes_the_database_becoming_writable(standby: RunbookWorld) -> None:
    # GIVEN a 33 s promotion WHEN the failover executes
    run_with_promotion(standby, PROMOTION_SECONDS, name="failover-INC-42")
    # THEN the flip's desired-state write came before the promotion was sent and before any readiness
    # check, and the readiness checks went on until the promotion had completed
    calls = standby.controller.call_log.snapshot()
    flip_write = next(i for i, call in enumerate(calls) if call.step == "flip" and call.operation == "PutItem")
    promotion = next(i for i, call in enumerate(calls) if call.operation == "PromoteReadReplica")
    first_check = min(i for i, call in enumerate(calls) if call.step == "wait_ready")
    assert flip_write < promotion < first_check
    checks = [run for run in standby.runbook.invocations if run.handler.endswith(".wait_ready")]
    assert len(checks) == POLLS + 1


def test_a_promotion_past_the_deadline_ends_after_changes_naming_what_is_missing(
    dev_config: EnvironmentConfig,
) -> None:
    # GIVEN the longest accepted promotion is 60 s and the promotion takes 600 s
    database = dev_config.database.model_copy(update={"max_promotion_seconds": 60})
    config = dev_config.model_copy(update={"database": database})
    with runbook_world(config, config.regions.standby) as world:
        # WHEN a failover executes
        report = run_with_promotion(world, 600.0, name="failover-INC-42")

        # THEN it stopped after changes, keeping the lock, with a message naming what is missing and the deadline
        assert report.status == "FAILED"
        assert report.error == "Switchyard.FailedAfterChanges"
        cause = report.cause or ""
        assert "not ready by the deadline" in cause
        assert "database.max_promotion_seconds = 60 s" in cause
        assert "writable+available" in cause
        assert "KEEPS the lock" in cause
        lock = world.lock()
        assert lock is not None
        assert lock.held
        # AND it waited exactly until the deadline (issued_at + 60 s), one interval at a time
        assert world.waits == [READINESS_POLL_SECONDS] * math.ceil(60 / READINESS_POLL_SECONDS)
        assert "Verify" not in report.states
        # AND traffic stays where the failover's first flip put it: the failure path does not touch it
        desired = world.desired()
        assert desired is not None
        assert (desired.active_region, desired.fenced_region) == (world.region, config.regions.primary)


def test_a_throttled_readiness_check_is_retried_by_the_task(standby: RunbookWorld, retry_waits: list[float]) -> None:
    # GIVEN wait_ready's database read is throttled past the handler's own retries, once
    injected: list[int] = []
    log = standby.controller.call_log

    def throttle(**_: Any) -> None:
        if log.current_step == "wait_ready" and len(injected) < HANDLER_ATTEMPTS:
            injected.append(1)
            raise ClientError({"Error": {"Code": "Throttling", "Message": "injected"}}, "DescribeDBInstances")

    standby.controller.hooks.append(EventHook("before-call.rds.DescribeDBInstances", throttle, standby.region))

    # WHEN a failover executes
    report = standby.run(standby.request(), name="failover-INC-42")

    # THEN WaitReady's Retry ran the check again after a short interval, and the run completed
    assert report.status == "SUCCEEDED", report.cause
    runs = [run.error_type for run in standby.runbook.invocations if run.handler.endswith(".wait_ready")]
    assert runs == ["RetryableStepError", None]
    assert len(retry_waits) == 1
    assert retry_waits[0] <= 1
    assert standby.waits == []
