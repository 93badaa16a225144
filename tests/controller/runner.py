"""An in-process stand-in for the runbook state machine, for controller tests only.

Same order as stacks/controller/runbook.asl.json intends: validate, lock, preflight, then in
parallel (fence -> promote) and scale_up, then wait_ready, flip, verify, release, record.
A needs_human result jumps to record; an error the step handler names RetryableStepError
is retried a bounded number of times (like a Retry block) and then treated as needs_human.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from switchyard.deps import RunbookDeps
from switchyard.handlers.runbook import step_error
from switchyard.model import StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps import STEPS, RetryableStepError

STEP_RETRIES = 2


@dataclass
class RunOutcome:
    state: RunbookState
    stopped_at: str | None  # the step that asked for a human, if any

    def status(self, step: str) -> StepStatus | None:
        result = self.state.result(step)
        return result.status if result else None


def run_step(name: str, state: RunbookState, deps: RunbookDeps) -> StepResult:
    log = deps.call_log
    for attempt in range(STEP_RETRIES + 1):
        try:
            if log is None:
                return STEPS[name](state, deps)
            with log.step(name):
                return STEPS[name](state, deps)
        except Exception as exc:  # named as the step handler names it for the state machine
            error = step_error(name, exc)
            if not isinstance(error, RetryableStepError):
                raise error from exc
            if attempt == STEP_RETRIES:
                message = f"retries exhausted: {exc}"
                return StepResult(step=name, status=StepStatus.NEEDS_HUMAN, message=message, duration_ms=0)
    raise AssertionError("unreachable")


def run_runbook(
    state: RunbookState, deps: RunbookDeps, *, before_step: Callable[[str], None] | None = None
) -> RunOutcome:
    """Run the whole runbook; ``before_step`` lets a test change the world mid-run."""

    def step(name: str, current: RunbookState) -> StepResult:
        if before_step is not None:
            before_step(name)
        return run_step(name, current, deps)

    stopped_at = None
    for name in ("validate", "lock", "preflight"):
        result = step(name, state)
        state = state.with_result(result)
        if name == "lock" and result.ok:
            state = state.model_copy(update={"epoch": result.observed.get("epoch")})
        if not result.ok:
            stopped_at = name
            break
    if stopped_at is None and state.request.action.mutates:
        state, stopped_at = _mutating_part(state, step)
    state = state.with_result(step("record", state))
    return RunOutcome(state, stopped_at)


def _mutating_part(
    state: RunbookState, step: Callable[[str, RunbookState], StepResult]
) -> tuple[RunbookState, str | None]:
    def fence_then_promote() -> list[StepResult]:
        fenced = step("fence", state)
        if not fenced.ok:
            return [fenced]
        return [fenced, step("promote", state.with_result(fenced))]

    with ThreadPoolExecutor(max_workers=2) as pool:
        branch = pool.submit(fence_then_promote)
        scaled = pool.submit(step, "scale_up", state)
        results = [*branch.result(), scaled.result()]
    for result in results:
        state = state.with_result(result)
    stopped = next((result.step for result in results if not result.ok), None)
    if stopped is None:
        for name in ("wait_ready", "flip", "verify", "release"):
            result = step(name, state)
            state = state.with_result(result)
            if not result.ok:
                stopped = name
                break
    return state, stopped
