"""Bad runbook input fails the execution in its first states with a clear error, and the
controller's ApiCallLog shows zero mutating calls.

Input that is not a JSON object (null, a string, a number, a boolean) is refused by the
state machine itself before any task (IsInputAnObject -> InputNotAnObject); anything else
by the Validate task's strict model (InputRejected)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from switchyard.config import load_environment
from tests.statemachine.conftest import RunbookWorld, runbook_world

NOT_AN_OBJECT = '"failover"'
NOT_AN_OBJECT_CAUSE = "the input must be a JSON object"
BAD_INPUTS: list[tuple[str, dict[str, Any] | str, str]] = [
    ("unknown-action", {"action": "promote"}, "action"),
    ("region-outside-pair", {"target_region": "ap-south-1"}, "not one of the configured pair"),
    (
        "target-another-region",
        {"target_region": "us-east-1"},
        "this runbook runs in us-west-2 and promotes only us-west-2",
    ),
    ("unsafe-incident-id", {"incident_id": "INC 42; rm -rf /"}, "incident_id"),
    ("extra-field", {"force": True}, "unknown field"),
    ("missing-reason", {"reason": None}, "reason"),
    ("failback-to-the-standby", {"action": "failback"}, "failback returns to the configured primary"),
    ("requester-with-spaces", {"requested_by": "alice bob"}, "requested_by"),
    ("requester-look-alike", {"requested_by": "\u0430lice"}, "requested_by"),  # Cyrillic a
    ("requester-zero-width", {"requested_by": "al\u200bice"}, "requested_by"),
    ("reason-with-control-character", {"reason": "primary\x1b[2J down"}, "control or invisible characters"),
    ("oversized-input", {"reason": "x" * 500, "padding": "y" * 10_000}, "more than the 8192 bytes allowed"),
    ("not-an-object", NOT_AN_OBJECT, NOT_AN_OBJECT_CAUSE),
    ("null", "null", NOT_AN_OBJECT_CAUSE),
    ("a-number", "42", NOT_AN_OBJECT_CAUSE),
    ("a-boolean", "true", NOT_AN_OBJECT_CAUSE),
    ("an-array", '[{"action": "failover"}]', "field 'request': Input should be a valid dictionary"),
]


@pytest.fixture(scope="module")
def world() -> Iterator[RunbookWorld]:
    """One standby runbook for the whole table: no case may change anything, and each asserts so."""
    config = load_environment("dev")
    with runbook_world(config, config.regions.standby) as shared:
        yield shared


@pytest.mark.parametrize(("changes", "complaint"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_rejected_before_anything_changes(
    world: RunbookWorld, changes: dict[str, Any] | str, complaint: str, request: pytest.FixtureRequest
) -> None:
    # GIVEN a bad input
    runbook_input = changes if isinstance(changes, str) else world.request(**changes)
    calls_before = len(world.controller.call_log.snapshot())
    # WHEN an execution starts with it
    report = world.run(runbook_input, name=f"bad-{request.node.callspec.id}")
    # THEN it fails as invalid input, says what is wrong, and no mutating call was made
    assert report.status == "FAILED"
    assert report.error == "Switchyard.InvalidInput"
    assert complaint in (report.cause or "")
    assert report.states[-1] in {"InputNotAnObject", "InputRejected", "ValidationErrored"}
    assert "TakeLock" not in report.states
    # AND input that is not an object never reaches a task
    if complaint == NOT_AN_OBJECT_CAUSE:
        assert report.states == ["TakeInput", "IsInputAnObject", "InputNotAnObject"]
    new_calls = world.controller.call_log.snapshot()[calls_before:]
    assert [call.operation for call in new_calls if call.mutating] == []
