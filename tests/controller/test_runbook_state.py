"""GIVEN the document the state machine passes WHEN a step handler parses it THEN what
the state machine really sends is accepted and anything else is rejected."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from switchyard.runbook_state import RunbookState

REQUEST = {
    "action": "failover",
    "target_region": "us-west-2",
    "reason": "primary failing",
    "incident_id": "INC-1",
    "requested_by": "switchyard-monitor",
}


EXECUTION_ARN = "arn:aws:states:us-west-2:111111111111:execution:switchyard-dev-us-west-2-runbook:run-1"


def document(**changes: Any) -> dict[str, Any]:
    return {"request": REQUEST, "execution": EXECUTION_ARN, "epoch": 3, "results": {}, "approval": None, **changes}


def execution_arn(name: str, region: str = "us-west-2") -> str:
    return f"arn:aws:states:{region}:111111111111:execution:switchyard-dev-{region}-runbook:{name}"


@pytest.mark.parametrize("name", ["manual.inc-7_2026-11-24", "auto-failover-to-us-west-2-from-epoch-0"])
def test_step_functions_execution_arns_are_accepted_and_are_the_holder(name: str) -> None:
    assert RunbookState.model_validate(document(execution=execution_arn(name))).holder == execution_arn(name)


@pytest.mark.parametrize(
    "execution",
    [
        "failover-INC-42",  # a bare name: unique only within one state machine
        execution_arn("has space"),
        execution_arn("a/b"),
        execution_arn("x" * 81),
        execution_arn(""),
        execution_arn("failover-INC\u200b42"),  # a zero-width space
        execution_arn("failover-INC\x0742"),  # a control character
        execution_arn("failover-\u0406NC-42"),  # a Cyrillic look-alike
        "arn:aws:states:us-west-2:111111111111:stateMachine:switchyard-dev-us-west-2-runbook",
    ],
)
def test_anything_but_an_execution_arn_step_functions_would_make_is_rejected(execution: str) -> None:
    with pytest.raises(ValidationError, match="execution"):
        RunbookState.model_validate(document(execution=execution))


def test_the_same_name_in_two_regions_is_two_holders() -> None:
    # GIVEN the runbooks' naming (failover-<incident>) started in both regions' state machines
    east = RunbookState.model_validate(document(execution=execution_arn("failover-INC-42", "us-east-1")))
    west = RunbookState.model_validate(document(execution=execution_arn("failover-INC-42", "us-west-2")))

    # THEN the lock sees two different holders
    assert east.holder != west.holder


def test_the_approval_the_state_machine_forwards_is_parsed() -> None:
    # GIVEN the approval as the state machine's AcceptApproval state shapes it (strings, and
    # the accepted lag as a number)
    approval = {
        "approved_by": "assumed-role/OnCall/dana",
        "approved_at": "2026-11-24T21:30:00Z",
        "note": "accept 42s of lag",
        "accepted_lag_seconds": 42,
    }

    # WHEN parsed THEN the time is a datetime, the approver the STS identity, the lag a number
    state = RunbookState.model_validate(document(approval=approval))
    assert state.approval is not None
    assert state.approval.approved_at.year == 2026
    assert state.approval.approved_by == "assumed-role/OnCall/dana"
    assert state.approval.accepted_lag_seconds == 42.0


def test_the_state_machines_failure_record_is_a_result_like_any_other() -> None:
    # GIVEN the failure entry the state machine adds on its needs-human path
    failure = {
        "step": "runbook",
        "status": "needs_human",
        "message": "Runbook stopped after changes began",
        "observed": {"outcome": "Switchyard.FailedAfterChanges"},
        "actions": [],
        "findings": [],
        "duration_ms": 0,
    }

    # WHEN parsed THEN it is kept under its key
    assert (
        RunbookState.model_validate(document(results={"failure": failure})).results["failure"].status == "needs_human"
    )


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="unexpected"):
        RunbookState.model_validate(document(unexpected=True))
