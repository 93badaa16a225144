"""OperatorAccess: a role with MFA and a managed policy to run, watch and approve the runbook."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks.controller.operator_access import OperatorAccess
from stacks.shared.grants import LOCK_RELEASE_ATTRIBUTES, LOST_WRITES_ACKNOWLEDGE_ATTRIBUTES
from stacks.shared.policy import is_read_only
from switchyard.config import EnvironmentConfig
from tests.stacks.controller.builders import BareStack, actions_on, as_list, bare_stack


@pytest.fixture(scope="module")
def built(dev: EnvironmentConfig) -> tuple[BareStack, Template]:
    given = bare_stack(dev, dev.regions.standby)
    OperatorAccess(
        given.stack,
        "OperatorAccess",
        region=given.scope,
    )
    return given, Template.from_stack(given.stack)


@pytest.fixture(scope="module")
def role(built) -> dict[str, Any]:
    _, template = built
    (resource,) = template.find_resources("AWS::IAM::Role").values()
    return resource["Properties"]


@pytest.fixture(scope="module")
def policy(built) -> tuple[str, dict[str, Any]]:
    _, template = built
    ((logical_id, resource),) = template.find_resources("AWS::IAM::ManagedPolicy").items()
    return logical_id, resource["Properties"]


@pytest.fixture(scope="module")
def statements(policy) -> list[dict[str, Any]]:
    return policy[1]["PolicyDocument"]["Statement"]


def test_role_has_its_deterministic_name(built, role) -> None:
    given, _ = built
    assert role["RoleName"] == given.names.operator_role(given.region)


def test_role_is_assumable_only_by_the_accounts_principals_with_mfa(built, role) -> None:
    # GIVEN the role's trust policy
    given, _ = built
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    # THEN only this account's principals may assume it, and only with MFA
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"]["AWS"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{given.account}:root"]]
    }
    assert trust["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def test_role_carries_the_managed_policy_teams_can_attach_elsewhere(built, role, policy) -> None:
    given, _ = built
    logical_id, properties = policy
    assert role["ManagedPolicyArns"] == [{"Ref": logical_id}]
    assert properties["ManagedPolicyName"] == f"{given.names.operator_role(given.region)}-access"


def test_operators_start_only_this_regions_runbook(built, statements) -> None:
    given, _ = built
    assert actions_on(statements, "states:StartExecution") == [given.names.state_machine_arn(given.region)]


@pytest.mark.parametrize("action", ["states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution"])
def test_operators_watch_and_stop_only_this_runbooks_executions(built, statements, action: str) -> None:
    given, _ = built
    assert actions_on(statements, action) == [given.names.state_machine_executions_arn(given.region)]


@pytest.mark.parametrize("action", ["states:SendTaskSuccess", "states:SendTaskFailure"])
def test_operators_answer_approvals(statements, action: str) -> None:
    assert actions_on(statements, action) == ["*"]


@pytest.mark.parametrize("action", ["dynamodb:GetItem", "dynamodb:Query"])
def test_operators_read_both_replicas_of_the_state_table(built, statements, action: str) -> None:
    given, _ = built
    expected = {given.names.state_table_arn(region) for region in given.config.regions.pair}
    assert set(actions_on(statements, action)) == expected


def test_operators_write_only_the_lock_and_the_lost_writes_items(built, statements) -> None:
    # GIVEN the operator statements that write the state table
    given, _ = built
    writes = [
        statement
        for statement in statements
        if any(action.startswith("dynamodb:") and not is_read_only(action) for action in as_list(statement["Action"]))
    ]
    # THEN there are two, each updating one item kind only, with MFA: the lock (break-glass
    # unlock) and the lost-writes records (switchyard acknowledge-lost-writes)
    assert [as_list(write["Action"]) for write in writes] == [["dynamodb:UpdateItem"], ["dynamodb:UpdateItem"]]
    # AND each may touch only the attributes its CLI command sets or checks, reading nothing back
    returns_nothing = {"StringEqualsIfExists": {"dynamodb:ReturnValues": "NONE"}}
    assert [write["Condition"] for write in writes] == [
        {
            "ForAllValues:StringEquals": {
                "dynamodb:LeadingKeys": [given.names.lock_key],
                "dynamodb:Attributes": list(LOCK_RELEASE_ATTRIBUTES),
            },
            **returns_nothing,
            **MFA,
        },
        {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"lost-writes#{given.config.application}#*"]},
            "ForAllValues:StringEquals": {"dynamodb:Attributes": list(LOST_WRITES_ACKNOWLEDGE_ATTRIBUTES)},
            **returns_nothing,
            **MFA,
        },
    ]
    # AND the acknowledgement cannot rewrite the record's snapshot (what the reconciler recorded)
    assert "snapshot" not in LOST_WRITES_ACKNOWLEDGE_ATTRIBUTES


MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
MUTATING_OPERATOR_ACTIONS = [
    "states:StartExecution",
    "states:StopExecution",
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
    "dynamodb:UpdateItem",
]


def statements_allowing(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [statement for statement in statements if action in as_list(statement["Action"])]


@pytest.mark.parametrize("action", MUTATING_OPERATOR_ACTIONS)
def test_every_mutating_operator_call_requires_mfa_in_the_policy_itself(statements, action: str) -> None:
    # GIVEN the operator policy (which teams may attach without the role's MFA trust policy)
    allowing = statements_allowing(statements, action)
    # THEN every statement allowing a mutating call asks for MFA with Bool: an absent key
    # (long-term access keys) does not match, so the call is denied (BoolIfExists would allow it)
    assert allowing
    for statement in allowing:
        assert statement["Condition"]["Bool"] == MFA["Bool"], statement
        assert not any(operator.startswith("BoolIfExists") for operator in statement["Condition"])


def test_mutating_calls_never_share_a_statement_with_reads(statements) -> None:
    # GIVEN the statements that carry the MFA condition
    with_mfa = [statement for statement in statements if statement.get("Condition", {}).get("Bool") == MFA["Bool"]]
    # THEN they hold only mutating actions: watching a run needs no MFA prompt, changing one does
    actions = {action for statement in with_mfa for action in as_list(statement["Action"])}
    assert actions == set(MUTATING_OPERATOR_ACTIONS)


@pytest.mark.parametrize("action", ["states:DescribeExecution", "states:GetExecutionHistory", "dynamodb:GetItem"])
def test_reading_needs_no_mfa_condition(statements, action: str) -> None:
    assert all("Condition" not in statement for statement in statements_allowing(statements, action))
