"""OperatorAccess: a role with MFA and a managed policy to run, watch and approve the runbook."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks.controller.operator_access import OperatorAccess
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


def test_operators_write_only_the_runbook_lock_item(built, statements) -> None:
    # GIVEN the operator statements that write the state table
    given, _ = built
    writes = [
        statement
        for statement in statements
        if any(action.startswith("dynamodb:") and not is_read_only(action) for action in as_list(statement["Action"]))
    ]
    # THEN there is one, updating only the item whose partition key is the lock (break-glass unlock)
    (write,) = writes
    assert as_list(write["Action"]) == ["dynamodb:UpdateItem"]
    assert write["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [given.names.lock_key]}}
