"""The real runbook state machine when a promote invocation dies (a function timeout) right
after RDS accepted the promotion: Step Functions reports ``Lambda.Unknown``, the Task's
Retry runs promote again, which sees the promotion running and returns without sending a
second one; the readiness loop (WaitReady, PollReadinessAgain) waits for it, and the run
completes with exactly one promotion call.

moto promotes at once; the named model (``ModelledRdsPromotion``) gives the promotion a
duration on the test's clock, which every wait advances: each Retry wait (moto's
interpreter would sleep it in real time) and each Wait state (tests/statemachine/conftest.py)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from drill.stepfunctions import LAMBDA_UNKNOWN, FunctionDied, all_states, load_definition
from switchyard.contract import READINESS_POLL_SECONDS
from switchyard.handlers.environment import override_deps
from switchyard.retry import EventHook
from tests.statemachine.conftest import RunbookWorld, output_results
from tests.statemachine.test_step_retries import task_failures

PROMOTION_SECONDS = 6.0  # longer than the Lambda.Unknown retry's first wait (full jitter: at most 5 s)
IDEMPOTENT_STEP_TASKS = (
    "Validate",
    "DryRunPreflight",
    "TakeLock",
    "Preflight",
    "FlipTrafficFirst",
    "Fence",
    "Promote",
    "ScaleUp",
    "WaitReady",
    "FlipTraffic",
    "Verify",
    "ReleaseLock",
    "RecordOutcome",
    "ReleaseLockAfterFailure",
    "RecordFailure",
)


@pytest.fixture
def retry_waits_on_the_clock(standby: RunbookWorld) -> Iterator[list[float]]:
    """Each Retry wait moto's interpreter would sleep advances the test's clock instead."""
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        standby.controller.clock.advance(seconds)

    with mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=wait)):
        yield waits


def test_every_step_task_retries_a_killed_invocation_and_a_task_timeout() -> None:
    # GIVEN the deployed runbook definition, whose steps all observe before they act
    states = all_states(load_definition())
    for task in IDEMPOTENT_STEP_TASKS:
        # THEN each step Task retries Lambda.Unknown and States.Timeout, a bounded number of times
        retriers = [r for r in states[task]["Retry"] if {LAMBDA_UNKNOWN, "States.Timeout"} & set(r["ErrorEquals"])]
        assert len(retriers) == 1, task
        assert set(retriers[0]["ErrorEquals"]) == {LAMBDA_UNKNOWN, "States.Timeout"}, task
        assert retriers[0]["MaxAttempts"] <= 3, task


def test_a_promote_that_dies_after_issuing_completes_with_one_promotion(
    standby: RunbookWorld, retry_waits_on_the_clock: list[float]
) -> None:
    # GIVEN RDS takes PROMOTION_SECONDS to promote, and the first promote invocation dies
    # (a function timeout) right after RDS accepted the promotion
    controller = standby.controller
    deps = controller.deps(standby.region, promotion_seconds=PROMOTION_SECONDS)
    died: list[int] = []

    def die(**_: Any) -> None:
        if not died:
            died.append(1)
            raise FunctionDied("after PromoteReadReplica was accepted")

    controller.hooks.append(EventHook("after-call.rds.PromoteReadReplica", die, standby.region))

    # WHEN a failover executes in the real state machine
    with override_deps(replace(deps, sleep=controller.clock.advance)):
        execution = standby.runbook.start(standby.request(), name="failover-INC-42")
        report = standby.runbook.wait(execution)

    # THEN the run completed, with the standby's database promoted
    assert report.status == "SUCCEEDED", report.cause
    promoted = output_results(report)["promote"]
    assert promoted["status"] == "noop"
    # AND promote died once (Lambda.Unknown), then its retry saw the promotion running and returned
    # at once (the retry's wait, at most 5 s, is shorter than the promotion)
    runs = [run.error_type for run in standby.runbook.invocations if run.handler.endswith(".promote")]
    assert runs == [LAMBDA_UNKNOWN, None]
    assert "is modifying, still a replica" in promoted["observed"]["promotion_in_progress"]
    assert task_failures(standby, execution) == [LAMBDA_UNKNOWN]
    # AND the readiness loop, not promote, waited for the promotion to complete: one poll at a time
    # from the retry (its full-jitter wait is drawn at random) until the promotion's end
    [retry_wait] = retry_waits_on_the_clock
    polls = math.ceil((PROMOTION_SECONDS - retry_wait) / READINESS_POLL_SECONDS)
    assert standby.waits == [READINESS_POLL_SECONDS] * polls
    assert output_results(report)["wait_ready"]["status"] == "done"
    # AND exactly one promotion was ever sent
    promotions = [call for call in controller.call_log.snapshot() if call.operation == "PromoteReadReplica"]
    assert len(promotions) == 1
