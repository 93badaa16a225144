"""OperatorAccess: the one way people start, watch and approve the runbook.

A role in each region (assumable by the account's principals with MFA) and a customer
managed policy with the same statements, for teams that attach it to their IAM Identity
Center permission sets instead. Apart from the monitor, nothing else may start runbook
executions.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.shared.grants import Grants
from stacks.shared.policy import Permission, grant
from stacks.shared.scope import RegionScope
from switchyard.alarms import ALARMS
from switchyard.contract import LOCK_ITEM

OPERATOR_SESSION = Duration.hours(1)


def operator_permissions(region: RegionScope) -> tuple[Permission, ...]:
    """Run and watch this region's runbook, answer its approvals, read the state of both
    regions, and release a lock a failed execution kept (the lock item only)."""
    grants, names = Grants(region), region.names
    return (
        Permission(
            actions=("states:StartExecution", "states:DescribeStateMachine", "states:ListExecutions"),
            resources=(names.state_machine_arn(region.region),),
        ),
        grants.describe("states:ListStateMachines"),  # the Step Functions console's list
        Permission(
            actions=(
                "states:DescribeExecution",
                "states:DescribeStateMachineForExecution",
                "states:GetExecutionHistory",
                "states:StopExecution",
            ),
            resources=(names.state_machine_executions_arn(region.region),),
            wildcard_reason="execution names are chosen per run; the ARN pins this region's runbook",
        ),
        Permission(
            actions=("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"),
            resources=("*",),
            wildcard_reason="task-token calls support no resource-level permissions; the token names the approval",
        ),
        Permission(
            actions=("dynamodb:GetItem", "dynamodb:Query"),
            resources=tuple(names.state_table_arn(other) for other in region.pair),
        ),
        grants.write_items(LOCK_ITEM, both_regions=True, actions=("dynamodb:UpdateItem",)),
        grants.describe_alarms(ALARMS, regions=region.pair),
        *grants.describe_database,
        grants.describe_compute,
        grants.health_check_status,
    )


class OperatorAccess(Construct):
    """The operator role and the operator managed policy of one region."""

    def __init__(self, scope: Construct, construct_id: str, *, region: RegionScope) -> None:
        super().__init__(scope, construct_id)
        names = region.names
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            managed_policy_name=f"{names.operator_role(region.region)}-access",
            description=f"Operate the Switchyard runbook {names.state_machine(region.region)}: start, watch, approve",
        )
        grant(self.policy, operator_permissions(region))
        self.role = iam.Role(
            self,
            "Role",
            role_name=names.operator_role(region.region),
            description=f"Switchyard operators of {region.config.name} in {region.region} (MFA required)",
            assumed_by=iam.AccountPrincipal(region.config.account).with_conditions(
                {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            ),
            managed_policies=[self.policy],
            max_session_duration=OPERATOR_SESSION,
        )
