"""One thin handler per runbook step, for the state machine: ``switchyard.handlers.runbook.<step>``.

Each receives the runbook state document (docs/architecture.md), validates it with
pydantic, runs the step and returns its StepResult as JSON. Errors the state machine
can match by name:

- ``RetryableStepError``: throttling, 5xx, timeouts, not ready yet; worth a Retry.
- ``InvalidRunbookInputError``: the document itself is malformed (a state machine bug).

Operator input that does not validate never raises: the ``validate`` handler returns a
``needs_human`` result whose message names the bad field, before any mutating call.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from pydantic import ValidationError

from switchyard.deps import RunbookDeps
from switchyard.handlers.environment import describe_validation_error, handler_deps
from switchyard.handlers.observability import count_step, logger, metric_name, tracer
from switchyard.model import Finding, Severity, StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps import STEPS, RetryableStepError


class InvalidRunbookInputError(ValueError):
    """The runbook state document does not validate; the message names each bad field."""


def _rejected(step: str, problem: str) -> StepResult:
    finding = Finding(check="input", severity=Severity.BLOCKER, message=problem)
    return StepResult(
        step=step, status=StepStatus.NEEDS_HUMAN, message=f"rejected: {problem}", findings=[finding], duration_ms=0
    )


def run_step_handler(step: str, event: Any, deps: RunbookDeps | None = None) -> dict[str, Any]:
    """Parse, run one step, log and count its outcome, return the StepResult as JSON."""
    try:
        state = RunbookState.model_validate(event)
    except ValidationError as exc:
        problem = describe_validation_error(exc)
        logger.warning("runbook input rejected", extra={"step": step, "problem": problem})
        count_step(step, "InputRejected")
        if step == "validate":
            return _rejected(step, problem).model_dump(mode="json")
        raise InvalidRunbookInputError(problem) from exc
    logger.append_keys(execution=state.holder, action=str(state.request.action), target=state.request.target_region)
    resolved = handler_deps(deps)
    calls_of_this_step = resolved.call_log.step(step) if resolved.call_log is not None else nullcontext()
    try:
        with calls_of_this_step:  # the call history says which step made each AWS call
            result = STEPS[step](state, resolved)
    except RetryableStepError as exc:
        logger.warning("runbook step will be retried", extra={"step": step, "error": str(exc)})
        count_step(step, "StepRetryable")
        raise
    logger.info(
        "runbook step finished",
        extra={"step": step, "status": str(result.status), "summary": result.message, "epoch": state.epoch},
    )
    count_step(step, metric_name("Step", result.status.value))
    return result.model_dump(mode="json")


def _step_handler(step: str) -> Callable[..., dict[str, Any]]:
    # Metrics go out per call through count_step (single_metric), not the shared Metrics
    # buffer: the local harness runs the Parallel branch's handlers concurrently in one process.
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any, deps: RunbookDeps | None = None) -> dict[str, Any]:  # noqa: ARG001
        return run_step_handler(step, event, deps)

    handler.__name__ = step
    handler.__qualname__ = step
    return handler


validate = _step_handler("validate")
lock = _step_handler("lock")
preflight = _step_handler("preflight")
fence = _step_handler("fence")
promote = _step_handler("promote")
scale_up = _step_handler("scale_up")
wait_ready = _step_handler("wait_ready")
flip = _step_handler("flip")
verify = _step_handler("verify")
release = _step_handler("release")
record = _step_handler("record")
