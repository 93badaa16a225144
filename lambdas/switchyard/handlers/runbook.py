"""One thin handler per runbook step, for the state machine: ``switchyard.handlers.runbook.<step>``.

Each receives the runbook state document (docs/architecture.md), validates it with
pydantic, runs the step and returns its StepResult as JSON. Steps let AWS errors
propagate; this is the one place that turns an escaping exception into an error the
state machine matches by name (the Lambda runtime reports the class name), always
raised ``from`` the original:

- ``RetryableStepError``: throttling, 5xx, timeouts and connection errors
  (``switchyard.retry.is_retryable``) after the client's own retries, or a step's
  "not ready yet"; each Task's Retry matches it, and its Catch takes over once that
  Retry is exhausted.
- ``StepFailedError``: any other unexpected error (access denied, a request AWS rejects,
  a bug); no Task retries it, so the Task's Catch (``States.ALL``) routes the run to
  its failure path, which records it and pages.
- ``InvalidRunbookInputError``: the document itself is malformed (a state machine bug).

Every message built here is cut to ``switchyard.model.MAX_PROBLEM_CHARS`` (:func:`bounded`):
it is logged, returned to the state machine (a Fail state's cause) and shown to an
operator, and a 2 MB field name or AWS error text must not travel whole. This handler
never logs pydantic's own ``str(ValidationError)`` (which echoes each bad ``input_value``):
the problem is described field by field without the values
(``describe_validation_error``), and a document past ``switchyard.model.MAX_REQUEST_BYTES``
(the request) or ``switchyard.runbook_state.MAX_STATE_DOCUMENT_BYTES`` (the whole document)
is refused by its size alone, before any field is parsed.

Operator input that does not validate never raises: the ``validate`` handler returns a
``needs_human`` result whose message names the bad field, before any mutating call.

The reconciler's warm-up (exactly ``switchyard.contract.WARM_UP_EVENT``) is answered
``{"warmed": <step>}`` before parsing: no port, no state, no metric, a debug line only.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from pydantic import ValidationError

from switchyard.contract import WARM_UP_EVENT
from switchyard.deps import RunbookDeps
from switchyard.handlers.environment import describe_validation_error, handler_deps
from switchyard.handlers.observability import count_step, logger, metric_name, tracer
from switchyard.model import Finding, Severity, StepResult, StepStatus, bounded
from switchyard.retry import error_code, is_retryable
from switchyard.runbook_state import RunbookState
from switchyard.steps import STEPS, RetryableStepError


class InvalidRunbookInputError(ValueError):
    """The runbook state document does not validate; the message names each bad field."""


class StepFailedError(RuntimeError):
    """A step met an error no retry will fix (access denied, a request AWS rejects, a bug).

    No Task's Retry matches it: the Task's Catch (``States.ALL``) takes the failure path.
    """


def _cause_fields(exc: Exception) -> dict[str, str | None]:
    """The cause as log fields: exception type, AWS error code and operation when known."""
    return {
        "error_type": type(exc).__name__,
        "error_code": error_code(exc),
        "operation": getattr(exc, "operation_name", None),
    }


def step_error(step: str, exc: Exception) -> RetryableStepError | StepFailedError:
    """The named error the state machine sees when ``exc`` escapes ``step``.

    Retryable errors (``switchyard.retry.is_retryable``) become ``RetryableStepError`` so
    the Task's Retry sees them; anything else becomes ``StepFailedError``. The message names
    the step and the AWS error code and operation (or the exception type). The caller
    raises it ``from exc``; an error that is already one of the two is returned as is.
    """
    if isinstance(exc, RetryableStepError | StepFailedError):
        return exc
    cause = _cause_fields(exc)
    where = f"{cause['error_code']} from {cause['operation']}" if cause["error_code"] else cause["error_type"]
    if is_retryable(exc):
        return RetryableStepError(bounded(f"step {step}: {where}, retryable: {exc}"))
    return StepFailedError(bounded(f"step {step}: {where}, not retryable: {exc}"))


def _rejected(step: str, problem: str) -> StepResult:
    finding = Finding(check="input", severity=Severity.BLOCKER, message=problem)
    return StepResult(
        step=step, status=StepStatus.NEEDS_HUMAN, message=f"rejected: {problem}", findings=[finding], duration_ms=0
    )


def is_warm_up(event: Any) -> bool:
    """Exactly the reconciler's warm-up event (``True`` itself, not a value equal to it such as 1)."""
    return (
        isinstance(event, dict)
        and event.keys() == WARM_UP_EVENT.keys()
        and all(event[key] is value for key, value in WARM_UP_EVENT.items())
    )


def run_step_handler(step: str, event: Any, deps: RunbookDeps | None = None) -> dict[str, Any]:
    """Parse, run one step, log and count its outcome, return the StepResult as JSON
    (a warm-up is answered at once, see the module docstring)."""
    if is_warm_up(event):
        logger.debug("warmed", extra={"step": step})
        return {"warmed": step}
    try:
        state = RunbookState.model_validate(event)
    except ValidationError as exc:
        problem = bounded(describe_validation_error(exc))
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
    except Exception as exc:
        error = step_error(step, exc)
        fields = {"step": step, "raised": type(error).__name__, "translated": error is not exc, **_cause_fields(exc)}
        if isinstance(error, RetryableStepError):
            logger.warning("runbook step will be retried", extra={**fields, "error": str(error)})
            count_step(step, "StepRetryable")
        else:
            logger.error("runbook step failed", extra={**fields, "error": str(error)}, exc_info=exc)
            count_step(step, "StepFailed")
        if error is exc:
            raise
        raise error from exc
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
rejoin = _step_handler("rejoin")
