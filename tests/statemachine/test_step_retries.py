"""The step error contract in the REAL runbook state machine: a throttled lock, fence or
flip outlasts the handler's own retries, the step handler names it RetryableStepError,
the Task's Retry runs the step again and the execution completes. A denied write is
StepFailedError: no Retry, the Catch takes the failure path.

Which write is a step's first depends on the action (switchyard.steps.flip): a failover
flips in FlipTrafficFirst, and that write already carries the fence (``fenced_region``), so
its Fence writes nothing; a planned switchover's FlipTrafficFirst answers noop, its Fence
writes the fence and its FlipTraffic, after Promote, flips.

moto's interpreter sleeps out each Retry interval in real time (``time.sleep`` in its
retrier); the ``retry_waits`` fixture records those waits instead of sleeping them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from drill.stepfunctions import all_states, load_definition
from switchyard.contract import STEP_NAMES, Names
from switchyard.retry import EventHook, RetryPolicy
from switchyard_cli.executions import execution_history
from tests.statemachine.conftest import RunbookWorld, output_results

HANDLER_ATTEMPTS = RetryPolicy().max_attempts  # what one invocation tries before giving up


@dataclass(frozen=True)
class FirstWrite:
    """A step, the Task in the ASL that makes the write, the state-table write that is its
    first mutating call in an ``action``, and what each invocation of the step's handler
    raised in order when that write is throttled once past the handler's own retries."""

    step: str
    task: str
    result: str  # where the Task stores its result: $.results.<result>
    item: str  # "lock" or "desired"
    action: str
    invocations: tuple[str | None, ...]
    active: str | None = None  # for a desired-state write: "primary" (the fence) or "standby" (the flip)

    @property
    def id(self) -> str:
        return f"{self.task}-{self.action}"


RETRIED = ("RetryableStepError", None)
CASES = [
    FirstWrite("lock", "TakeLock", "lock", "lock", "failover", RETRIED),
    FirstWrite("fence", "Fence", "fence", "desired", "switchover", RETRIED, active="primary"),
    FirstWrite("flip", "FlipTrafficFirst", "flip_first", "desired", "failover", (*RETRIED, None), active="standby"),
    FirstWrite("flip", "FlipTraffic", "flip", "desired", "switchover", (None, *RETRIED), active="standby"),
]


def request_for(world: RunbookWorld, action: str) -> dict[str, Any]:
    """A runbook input for ``action``; a switchover needs the replica caught up (RPO 0)."""
    if action == "failover":
        return world.request()
    world.controller.clock.advance(600)  # the earlier lag datapoint leaves the lookback window
    world.controller.publish_lag(0.0)
    return world.request(action=action, reason="planned maintenance")


@pytest.fixture
def retry_waits() -> Iterator[list[float]]:
    """The Retry intervals moto's interpreter would have slept, recorded instead of slept."""
    waits: list[float] = []
    with mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=waits.append)):
        yield waits


def fail_first_writes(world: RunbookWorld, case: FirstWrite, *, code: str, times: int) -> list[str]:
    """Fail the first ``times`` PutItems of ``case``'s item into the runbook region's table with
    ``code`` (matched on the request body, so other steps' writes pass); one entry per failure."""
    names = Names(world.config)
    key = names.lock_key if case.item == "lock" else names.desired_state_key
    active = {"primary": world.config.regions.primary, "standby": world.config.regions.standby}.get(case.active or "")
    injected: list[str] = []

    def fail(params: dict[str, Any], **_: Any) -> None:
        item = json.loads(params["body"])["Item"]
        if item["pk"]["S"] != key or (active is not None and item["active_region"]["S"] != active):
            return
        if len(injected) < times:
            injected.append(case.step)
            error = {"Code": code, "Message": f"injected {code}"}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutItem")

    world.controller.hooks.append(EventHook("before-call.dynamodb.PutItem", fail, world.region))
    return injected


def task_failures(world: RunbookWorld, execution_arn: str) -> list[str]:
    """The error names of the execution's failed Lambda tasks, in order (from its history)."""
    events = execution_history(world.sfn, execution_arn)
    return [event["taskFailedEventDetails"]["error"] for event in events if event.get("taskFailedEventDetails")]


def test_the_throttled_steps_are_tasks_that_retry_on_retryable_step_error() -> None:
    # GIVEN the deployed runbook definition
    states = all_states(load_definition())
    # THEN each Task these tests throttle retries on RetryableStepError (else they prove nothing)
    for case in CASES:
        retried = {error for retrier in states[case.task]["Retry"] for error in retrier["ErrorEquals"]}
        assert "RetryableStepError" in retried, case.task


def step_tasks_and_their_catch() -> dict[str, list[str]]:
    """Each Task that invokes a step handler, with the errors its Catch (or, inside a
    Parallel branch, the Parallel state's Catch) routes to the failure path."""
    tasks: dict[str, list[str]] = {}
    for name, state in load_definition()["States"].items():
        caught = [error for catcher in state.get("Catch", []) for error in catcher["ErrorEquals"]]
        inner = all_states({"States": {name: state}})
        for task_name, task in inner.items():
            function = str(task.get("Parameters", {}).get("FunctionName", ""))
            if function.endswith("_function_arn}"):
                own = [error for catcher in task.get("Catch", []) for error in catcher["ErrorEquals"]]
                tasks[task_name] = own or caught
    return tasks


def step_of(task: dict[str, Any]) -> str:
    """``${fence_function_arn}`` -> ``fence``."""
    return str(task["Parameters"]["FunctionName"]).removeprefix("${").removesuffix("_function_arn}")


def test_a_step_failure_is_never_retried_and_always_caught() -> None:
    # GIVEN the deployed runbook definition
    states = all_states(load_definition())
    tasks = step_tasks_and_their_catch()
    assert {step_of(states[task]) for task in tasks} == set(STEP_NAMES)
    for task, caught in tasks.items():
        # THEN no Retry of a step Task matches StepFailedError (by name or by a catch-all)
        retried = {error for retrier in states[task].get("Retry", []) for error in retrier["ErrorEquals"]}
        assert not retried & {"StepFailedError", "States.ALL", "States.TaskFailed"}, task
        # AND its Catch routes every error to the failure path
        assert "States.ALL" in caught, task


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_throttled_step_is_retried_by_the_state_machine_and_the_run_completes(
    standby: RunbookWorld, retry_waits: list[float], case: FirstWrite
) -> None:
    # GIVEN the step's first write throttled long enough to exhaust one invocation's own retries
    runbook_input = request_for(standby, case.action)
    injected = fail_first_writes(standby, case, code="ThrottlingException", times=HANDLER_ATTEMPTS)

    # WHEN the action executes in the real state machine
    with standby.handlers():
        execution = standby.runbook.start(runbook_input, name=f"{case.action}-INC-42")
        report = standby.runbook.wait(execution)

    # THEN the run completed, the Task that made the write answering done
    assert report.status == "SUCCEEDED", report.cause
    assert output_results(report)[case.result]["status"] == "done"
    assert injected == [case.step] * HANDLER_ATTEMPTS
    # AND that Task ran its step twice: the first invocation raised RetryableStepError, the Task's Retry
    # ran it again (the flip's other Task ran once, answering noop)
    runs = [run.error_type for run in standby.runbook.invocations if run.handler.endswith(f".{case.step}")]
    assert runs == list(case.invocations)
    assert task_failures(standby, execution) == ["RetryableStepError"]
    assert len(retry_waits) == 1
    # AND the write landed once after four throttled attempts, in the runbook region's table
    writes = [
        call
        for call in standby.controller.call_log.snapshot()
        if call.step == case.step and call.operation == "PutItem" and call.region == standby.region
    ]
    assert len(writes) == HANDLER_ATTEMPTS + 1
    # AND the final state is a completed move at one epoch: standby active, primary fenced, lock released
    desired = standby.desired()
    assert desired is not None
    assert (desired.active_region, desired.fenced_region, desired.epoch) == (
        standby.region,
        standby.config.regions.primary,
        1,
    )
    lock = standby.lock()
    assert lock is not None
    assert (lock.held, lock.epoch) == (False, 1)


def test_a_denied_write_is_not_retried_and_takes_the_failure_path(
    standby: RunbookWorld, retry_waits: list[float]
) -> None:
    # GIVEN a planned switchover (its Fence writes the fence: a failover's flip already did)
    # whose fence write into the standby's table is denied (not retryable)
    fence = next(case for case in CASES if case.step == "fence")
    runbook_input = request_for(standby, fence.action)
    fail_first_writes(standby, fence, code="AccessDeniedException", times=1)

    # WHEN it executes in the real state machine
    report = standby.run(runbook_input, name="switchover-INC-42")

    # THEN fence ran once and raised StepFailedError, which no Retry matches
    runs = [run.error_type for run in standby.runbook.invocations if run.handler.endswith(".fence")]
    assert runs == ["StepFailedError"]
    assert retry_waits == []
    # AND the Catch took the after-changes path, which names the error, records it and leaves traffic alone
    assert report.status == "FAILED"
    assert report.error == "Switchyard.FailedAfterChanges"
    assert "StepFailedError" in (report.cause or "")
    assert "AccessDeniedException from PutItem" in (report.cause or "")
    assert "RecordFailure" in report.states
    assert "FlipTrafficFirst" in report.states  # a planned move's noop, before the fence
    assert "FlipTraffic" not in report.states
    desired = standby.desired()
    assert desired is not None
    assert (desired.active_region, desired.epoch) == (standby.config.regions.primary, 0)
