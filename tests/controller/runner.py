"""The runbook for controller tests: the deployed ASL, run in-process against the test's deps.

Why: the runbook's shape (order, Choice rules, Retry/Catch, Parallel, Wait loops, failure
paths) is written once, in ``stacks/controller/runbook.asl.json``. Tests that need the whole
runbook run that definition with ``switchyard_sim.asl`` (an exact interpreter on a SimPy
clock); each Task calls the real step handler (``run_step_handler``) with the test's
moto-backed deps, so nothing here restates the order of the steps.

What is modelled, not real (moto has no Step Functions in production time):
- every Lambda task lasts ``TASK_SECONDS`` of simulated time (a test can set a step's own);
- Wait states and Retry intervals elapse on the simulated clock, and a test clock with an
  ``advance`` method (``SteppingClock``) is moved by the same amount before each task, so
  the readiness loop sees a modelled promotion's time pass;
- the approval task (``sns:publish.waitForTaskToken``) publishes nothing: the test's
  :data:`Approver` reads the message and answers (approve, deny, or nobody, then the Task's
  TimeoutSeconds fires), as ``switchyard approve``/``deny`` would.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import simpy

from switchyard.deps import RunbookDeps
from switchyard.handlers.runbook import run_step_handler
from switchyard.model import StepResult, StepStatus
from switchyard.runbook_state import Approval, RunbookState
from switchyard_cli.executions import REJECTION_ERROR
from switchyard_sim import asl
from switchyard_sim.world import runbook_machine, step_of

TASK_SECONDS = 1.0  # simulated duration of every Lambda task unless the test sets the step's own
APPROVAL_SECONDS = 60.0  # simulated time an operator takes to answer an approval request
OK_STATUSES = {StepStatus.DONE, StepStatus.NOOP, StepStatus.SKIPPED}


@dataclass(frozen=True)
class Denial:
    """An operator's rejection, as ``switchyard deny`` sends it (SendTaskFailure)."""

    by: str = "oncall"
    note: str = "data loss not acceptable"


Answer = Approval | Denial | None  # None: nobody answers, the approval task times out
Approver = Callable[[dict[str, Any]], Answer]


def approve(approval: Approval) -> Approver:
    """Answer every approval request with ``approval``."""
    return lambda _message: approval


def deny(denial: Denial | None = None) -> Approver:
    """Reject every approval request."""
    return lambda _message: denial or Denial()


def no_answer(_message: dict[str, Any]) -> Answer:
    """Nobody answers (an automatic run at night): the task's TimeoutSeconds ends the wait."""
    return None


@dataclass(frozen=True)
class Invocation:
    """One call of a step handler by a Task: what it received, and what it returned or raised."""

    step: str
    at: float  # simulated seconds since the execution started
    payload: dict[str, Any]
    result: StepResult | None
    error: str | None  # the error name the state machine saw, when the handler raised

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.status in OK_STATUSES

    @property
    def stopped(self) -> bool:
        """Raised, or returned a status that stops the runbook (waiting only asks again later)."""
        return self.result is None or self.result.status not in {*OK_STATUSES, StepStatus.WAITING}

    @property
    def on_failure_path(self) -> bool:
        """Called after the definition described a failure (release/record of the failure path)."""
        return "failure" in (self.payload.get("results") or {})


@dataclass
class RunOutcome:
    """How the execution ended, the runbook document it ended with, and every handler call."""

    execution: asl.Execution
    state: RunbookState
    invocations: list[Invocation]
    approval_requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.execution.status == "SUCCEEDED"

    @property
    def stopped_at(self) -> str | None:
        """The step whose result or error sent the run down its failure path (``approval``
        when the approval was refused, malformed or never came), None when it succeeded."""
        if self.succeeded:
            return None
        stopped = [call for call in self.invocations if not call.on_failure_path and call.stopped]
        if stopped:
            return stopped[-1].step
        return "approval" if self.approval_requests else self.execution.error

    def status(self, step: str) -> StepStatus | None:
        """What ``step``'s handler last returned (None if it never returned)."""
        results = [call.result for call in self.invocations if call.step == step and call.result is not None]
        return results[-1].status if results else None

    def calls(self, step: str) -> list[Invocation]:
        return [call for call in self.invocations if call.step == step]


def run_runbook(
    state: RunbookState,
    deps: RunbookDeps,
    *,
    before_step: Callable[[str], None] | None = None,
    approver: Approver | None = None,
    task_seconds: Mapping[str, float] | None = None,
    seed: int = 0,
) -> RunOutcome:
    """Run the deployed runbook for ``state.request`` under ``state.execution``'s ARN.

    ``before_step(step)`` runs before each handler call (a test changes the world mid-run).
    ``approver`` answers approval requests; by default ``state.approval`` approves, and
    without one nobody answers. ``seed`` fixes the Retry jitter.
    """
    assert state.execution is not None, "the execution ARN names the lock's holder"
    env = simpy.Environment()
    answer = approver or (approve(state.approval) if state.approval is not None else no_answer)
    durations = dict(task_seconds or {})
    advance: Callable[[float], None] | None = getattr(deps.clock, "advance", None)
    synced = [0.0]  # simulated seconds the test's clock has been moved by
    invocations: list[Invocation] = []
    requests: list[dict[str, Any]] = []

    def sync_clock() -> None:
        if advance is not None and env.now > synced[0]:
            advance(env.now - synced[0])
        synced[0] = env.now

    def invoke(function_name: str, payload: Any) -> Generator[simpy.Event, Any, Any]:
        step = step_of(function_name)
        sync_clock()
        if before_step is not None:
            before_step(step)
        at = env.now
        try:
            response = run_step_handler(step, payload, deps)
        except Exception as exc:
            invocations.append(Invocation(step, at, payload, None, type(exc).__name__))
            yield env.timeout(durations.get(step, TASK_SECONDS))
            raise asl.TaskFailure(type(exc).__name__, str(exc)) from exc
        invocations.append(Invocation(step, at, payload, StepResult.model_validate(response), None))
        yield env.timeout(durations.get(step, TASK_SECONDS))
        return response

    def publish(parameters: dict[str, Any], task_token: str) -> Generator[simpy.Event, Any, Any]:
        del task_token
        message = parameters["Message"]
        requests.append(message)
        sync_clock()
        decision = answer(message)
        if decision is None:
            yield env.event()  # never answered
        yield env.timeout(APPROVAL_SECONDS)
        if isinstance(decision, Denial):
            raise asl.TaskFailure(REJECTION_ERROR, f"{decision.by}: {decision.note}")
        assert isinstance(decision, Approval)
        return json.loads(decision.model_dump_json())

    process = asl.run(
        env,
        runbook_machine(),
        state.request.model_dump(mode="json"),
        name=state.execution.rsplit(":", 1)[1],
        execution_arn=state.execution,
        invoke=invoke,
        publish=publish,
        rng=random.Random(seed),
        clock_origin=deps.clock(),
    )
    env.run(until=process)
    sync_clock()
    execution = asl.execution_of(process)
    return RunOutcome(execution, _final_document(execution, invocations), invocations, requests)


def _final_document(execution: asl.Execution, invocations: list[Invocation]) -> RunbookState:
    """The runbook document the run ended with: the execution's output when it is one, else
    the last document a handler received plus that handler's result (a failure path's record,
    a dry run's preflight, a rejected input's validate)."""
    output = execution.output
    if isinstance(output, dict) and "results" in output:
        return RunbookState.model_validate(output)
    last = invocations[-1]
    document = dict(last.payload)
    if last.result is not None:
        document["results"] = {**document.get("results", {}), last.step: last.result.model_dump(mode="json")}
    return RunbookState.model_validate(document)
