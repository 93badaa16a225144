"""The approval rule promote enforces and the CLI checks early (switchyard.runbook_state)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from switchyard.config import ConfigError, EnvironmentConfig, parse_environment
from switchyard.model import Action, RunbookInput
from switchyard.runbook_state import Approval, approval_problems, approver_must_differ, person_of, same_person

NOW = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)
ALICE = "arn:aws:sts::111111111111:assumed-role/switchyard-dev-us-west-2-operator/alice"
MAX_AGE = 900


def request(action: Action = Action.FAILOVER, requested_by: str = ALICE) -> RunbookInput:
    target = "us-east-1" if action is Action.FAILBACK else "us-west-2"
    return RunbookInput(
        action=action, target_region=target, reason="primary down", incident_id="INC-42", requested_by=requested_by
    )


def approval(
    approved_by: str = "assumed-role/switchyard-dev-us-west-2-operator/bob",
    *,
    age_seconds: float = 10,
    accepted_lag_seconds: float | None = 120.0,
) -> Approval:
    return Approval(
        approved_by=approved_by,
        approved_at=NOW - timedelta(seconds=age_seconds),
        note="accept the lag",
        accepted_lag_seconds=accepted_lag_seconds,
    )


def problems(
    given: Approval, runbook_input: RunbookInput | None = None, *, data_losing: bool = True, lag: float | None = 120.0
) -> list[str]:
    return approval_problems(
        given,
        runbook_input or request(),
        data_losing=data_losing,
        measured_lag_seconds=lag,
        now=NOW,
        max_age_seconds=MAX_AGE,
    )


# -- who is the same person --------------------------------------------------------------
@pytest.mark.parametrize(
    ("first", "second"),
    [
        (ALICE, "assumed-role/switchyard-dev-us-west-2-operator/alice"),  # full ARN vs the CLI's tail
        (ALICE, "arn:aws:sts::111111111111:assumed-role/admin/alice"),  # another role, same session: same person
        ("arn:aws:iam::111111111111:user/ops/Alice", "user/alice"),  # path and case do not matter
        ("alice", ALICE),  # a name typed into a raw StartExecution input
    ],
    ids=["arn-vs-tail", "two-roles", "iam-user", "typed-name"],
)
def test_the_same_person_is_recognised_across_forms(first: str, second: str) -> None:
    assert same_person(first, second)


@pytest.mark.parametrize(
    "other",
    [
        "assumed-role/switchyard-dev-us-west-2-operator/bob",
        "user/bob",
        "switchyard-monitor",
    ],
)
def test_different_people_are_different(other: str) -> None:
    assert not same_person(ALICE, other)


def test_the_person_of_an_assumed_role_is_its_session_name() -> None:
    assert person_of(ALICE) == "alice"


@pytest.mark.parametrize(
    ("action", "data_losing", "must_differ"),
    [
        (Action.FAILOVER, True, True),
        (Action.FAILOVER, False, False),
        (Action.FAILBACK, False, True),
        (Action.SWITCHOVER, False, False),
    ],
)
def test_four_eyes_apply_to_data_losing_failovers_and_failbacks(
    action: Action, data_losing: bool, must_differ: bool
) -> None:
    assert approver_must_differ(action, data_losing=data_losing) is must_differ


# -- the rule ----------------------------------------------------------------------------
def test_a_fresh_approval_by_someone_else_for_the_measured_lag_holds() -> None:
    assert problems(approval()) == []


def test_the_requester_approving_their_own_data_losing_failover_is_refused() -> None:
    (problem,) = problems(approval(approved_by="assumed-role/switchyard-dev-us-west-2-operator/alice"))
    assert "is the requester" in problem
    assert "needs a second person's approval" in problem


def test_the_requester_approving_their_own_failback_is_refused() -> None:
    own = approval(approved_by="user/alice")
    (problem,) = problems(own, request(Action.FAILBACK), data_losing=False, lag=0.0)
    assert "failback needs a second person's approval" in problem


def test_the_requester_may_approve_a_switchover_that_loses_nothing() -> None:
    own = approval(approved_by="user/alice")
    assert problems(own, request(Action.SWITCHOVER), data_losing=False, lag=0.0) == []


def test_an_approval_older_than_the_configured_age_is_refused_naming_both() -> None:
    (problem,) = problems(approval(age_seconds=MAX_AGE + 60))
    assert problem == "the approval is 960s old, older than the 900s an approval holds"


def test_an_approval_dated_in_the_future_is_refused() -> None:
    (problem,) = problems(approval(age_seconds=-3600))
    assert "3600s in the future" in problem


def test_an_approval_for_less_lag_than_measured_now_is_refused_naming_both() -> None:
    (problem,) = problems(approval(accepted_lag_seconds=120.0), lag=180.0)
    assert problem == "the approval accepted a lag of 120.0s; the lag is now 180.0s"


def test_an_approval_for_a_known_lag_does_not_cover_a_lag_that_became_unknown() -> None:
    (problem,) = problems(approval(accepted_lag_seconds=120.0), lag=None)
    assert "the lag is now unknown" in problem


def test_an_approval_for_an_unknown_lag_does_not_cover_a_measured_one() -> None:
    (problem,) = problems(approval(accepted_lag_seconds=None), lag=30.0)
    assert "states no accepted lag" in problem


def test_an_approval_for_an_unknown_lag_covers_a_lag_still_unknown() -> None:
    assert problems(approval(accepted_lag_seconds=None), lag=None) == []


def test_the_lag_is_not_compared_when_nothing_is_lost() -> None:
    assert problems(approval(accepted_lag_seconds=1.0), data_losing=False, lag=500.0) == []


# -- the accepted lag travels as a number ---------------------------------------------------
def test_an_approval_must_say_which_lag_it_accepted() -> None:
    # GIVEN an approval document without accepted_lag_seconds  THEN it does not validate
    with pytest.raises(ValidationError, match="accepted_lag_seconds"):
        Approval.model_validate({"approved_by": "bob", "approved_at": NOW.isoformat(), "note": "ok"})


# -- configuration -----------------------------------------------------------------------
def test_the_approval_age_defaults_to_fifteen_minutes(dev_config: EnvironmentConfig) -> None:
    assert dev_config.approvals.max_age_seconds == 900


@pytest.mark.parametrize("seconds", [59, 3601])
def test_an_approval_age_outside_a_minute_to_an_hour_is_rejected(dev_config: EnvironmentConfig, seconds: int) -> None:
    raw = dev_config.model_dump(mode="json", exclude={"name"}) | {"approvals": {"max_age_seconds": seconds}}
    with pytest.raises(ConfigError, match=r"field 'approvals\.max_age_seconds'"):
        parse_environment("dev", raw)


# -- what an approval may hold (strict: switchyard.model Identity, Timestamp, FreeText) ---------
VALID_APPROVAL = {
    "approved_by": "assumed-role/switchyard-dev-us-west-2-operator/bob",
    "approved_at": "2026-11-24T21:30:00Z",
    "note": "accept the lag",
    "accepted_lag_seconds": 120,
}


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("approved_at", "2026-11-24", "ISO 8601 timestamp with a date, a time and a time zone"),
        ("approved_at", "2026-11-24T21:30:00", "ISO 8601 timestamp with a date, a time and a time zone"),
        ("approved_at", 1_795_000_000, "ISO 8601 timestamp with a date, a time and a time zone"),
        ("accepted_lag_seconds", "120", "valid number"),
        ("accepted_lag_seconds", True, "valid number"),
        ("approved_by", "assumed-role/operator/b\u043eb", "should match pattern"),  # Cyrillic o
        ("approved_by", "assumed-role/operator/bo\u200bb", "should match pattern"),
        ("note", "accept\nthe lag", "control or invisible characters"),
    ],
    ids=["bare-date", "naive", "epoch-seconds", "lag-string", "lag-bool", "look-alike", "zero-width", "newline"],
)
def test_an_approval_refuses_coerced_or_disguised_values(field: str, value: object, complaint: str) -> None:
    # GIVEN a valid approval with one field lax or disguised WHEN parsed THEN it is refused, naming the field
    with pytest.raises(ValidationError, match=field) as raised:
        Approval.model_validate({**VALID_APPROVAL, field: value})
    assert complaint in str(raised.value)


def test_a_valid_approval_keeps_its_zone_aware_time() -> None:
    parsed = Approval.model_validate(VALID_APPROVAL)
    assert parsed.approved_at == datetime(2026, 11, 24, 21, 30, tzinfo=UTC)
    assert parsed.accepted_lag_seconds == 120.0
