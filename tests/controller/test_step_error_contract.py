"""The step error contract (docs/architecture.md, "Runbook state"): GIVEN an error escaping a
step WHEN its handler runs THEN the state machine sees RetryableStepError (retryable),
StepFailedError (anything else) or InvalidRunbookInputError (a malformed document),
each raised from its cause, and the translation is logged as one structured line."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pydantic import ValidationError

from switchyard.handlers.runbook import InvalidRunbookInputError, StepFailedError, run_step_handler
from switchyard.model import StepResult
from switchyard.retry import RetryPolicy, error_code
from switchyard.runbook_state import RunbookState
from switchyard.steps import STEPS, RetryableStepError
from tests.controller.conftest import Controller, active_region, failover_state

HANDLER_ATTEMPTS = RetryPolicy().max_attempts
LOGGED_FIELDS = ("step", "raised", "translated", "error_type", "error_code", "operation")


def document(controller: Controller, **changes: Any) -> dict[str, Any]:
    """A failover's runbook state document as the state machine passes it."""
    return failover_state(controller.config, **changes).model_dump(mode="json")


def test_a_throttled_call_becomes_retryable_step_error_from_its_cause(rds: Controller) -> None:
    # GIVEN the standby's state table throttles every write
    rds.fail("dynamodb", "PutItem", "ThrottlingException", region=rds.config.regions.standby)

    # WHEN the lock handler runs
    with pytest.raises(RetryableStepError) as raised:
        run_step_handler("lock", document(rds), rds.deps())

    # THEN the state machine sees RetryableStepError naming the step, code and operation, from the ClientError
    assert str(raised.value).startswith("step lock: ThrottlingException from PutItem, retryable")
    cause = raised.value.__cause__
    assert isinstance(cause, ClientError)
    assert error_code(cause) == "ThrottlingException"
    # AND only after the client's own retries
    assert rds.call_log.operations().count("PutItem") == HANDLER_ATTEMPTS


def test_a_connection_error_becomes_retryable_step_error_from_its_cause(rds: Controller) -> None:
    # GIVEN the standby region's endpoints refuse connections
    rds.outage(rds.config.regions.standby)

    # WHEN the lock handler runs
    with pytest.raises(RetryableStepError, match="step lock: EndpointConnectionError, retryable") as raised:
        run_step_handler("lock", document(rds), rds.deps())

    # THEN its cause is the connection error
    assert isinstance(raised.value.__cause__, EndpointConnectionError)


def test_a_non_retryable_aws_error_becomes_step_failed_error_after_one_attempt(rds: Controller) -> None:
    # GIVEN the standby's state table denies every write
    rds.fail("dynamodb", "PutItem", "AccessDeniedException", region=rds.config.regions.standby)

    # WHEN the lock handler runs
    with pytest.raises(StepFailedError) as raised:
        run_step_handler("lock", document(rds), rds.deps())

    # THEN the state machine sees StepFailedError (no Task retries it), naming the cause, from the ClientError
    assert str(raised.value).startswith("step lock: AccessDeniedException from PutItem, not retryable")
    assert error_code(raised.value.__cause__ or ValueError()) == "AccessDeniedException"
    assert not isinstance(raised.value, RetryableStepError)
    assert rds.call_log.operations().count("PutItem") == 1


def test_an_unexpected_error_in_a_step_becomes_step_failed_error(rds: Controller) -> None:
    # GIVEN a document without the lock's epoch reaching fence (a state machine bug)
    event = document(rds, epoch=None)

    # WHEN the fence handler runs
    with pytest.raises(StepFailedError, match=r"step fence: ValueError, not retryable: .*no epoch") as raised:
        run_step_handler("fence", event, rds.deps())

    # THEN the cause is kept and nothing was written
    assert isinstance(raised.value.__cause__, ValueError)
    assert rds.call_log.mutating() == []


def test_a_malformed_document_still_raises_invalid_runbook_input_error(rds: Controller) -> None:
    # GIVEN a document without its request
    event = document(rds, epoch=1)
    del event["request"]

    # WHEN the fence handler runs
    with pytest.raises(InvalidRunbookInputError, match="request") as raised:
        run_step_handler("fence", event, rds.deps())

    # THEN it is InvalidRunbookInputError from the validation error, not a step failure, before any call
    assert not isinstance(raised.value, StepFailedError)
    assert isinstance(raised.value.__cause__, ValidationError)
    assert rds.call_log.snapshot() == []


def test_a_step_s_own_retryable_error_passes_through_unchanged(
    rds: Controller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a step that is not ready yet and says so itself
    not_ready = RetryableStepError("us-west-2 not ready after 3 polls: asg")

    def waiting(state: RunbookState, deps: Any) -> StepResult:
        raise not_ready

    monkeypatch.setitem(STEPS, "wait_ready", waiting)

    # WHEN its handler runs THEN the state machine sees that very error, not a wrapper
    with pytest.raises(RetryableStepError) as raised:
        run_step_handler("wait_ready", document(rds, epoch=1), rds.deps())
    assert raised.value is not_ready
    assert raised.value.__cause__ is None


def test_a_throttled_flip_is_left_to_the_state_machine_not_the_route53_fallback(rds: Controller) -> None:
    # GIVEN a promoted standby, and the standby's state table throttling every write
    rds.publish_lag(1.0)
    state = rds.run_steps(failover_state(rds.config), rds.deps(), ["validate", "lock", "fence", "promote"])
    rds.fail("dynamodb", "PutItem", "ThrottlingException", region=rds.config.regions.standby)
    flipping = rds.deps()

    # WHEN the flip handler runs
    with pytest.raises(RetryableStepError, match="step flip: ThrottlingException from PutItem"):
        run_step_handler("flip", state.model_dump(mode="json"), flipping)

    # THEN no Route 53 fallback was tried and traffic stayed put, for the Task's Retry to run flip again
    assert "ListResourceRecordSets" not in rds.call_log.operations()
    assert active_region(flipping, rds.config.regions.standby) == rds.config.regions.primary


def test_the_translation_is_one_structured_log_line(rds: Controller, caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN the standby's state table throttles every write
    rds.fail("dynamodb", "PutItem", "ThrottlingException", region=rds.config.regions.standby)

    # WHEN the lock handler runs and raises
    with pytest.raises(RetryableStepError):
        run_step_handler("lock", document(rds), rds.deps())

    # THEN one log line says what was raised, from which error code and operation, as fields
    records = [record for record in caplog.records if record.getMessage() == "runbook step will be retried"]
    assert len(records) == 1
    fields = {key: getattr(records[0], key, None) for key in LOGGED_FIELDS}
    assert fields == {
        "step": "lock",
        "raised": "RetryableStepError",
        "translated": True,
        "error_type": "ClientError",
        "error_code": "ThrottlingException",
        "operation": "PutItem",
    }
