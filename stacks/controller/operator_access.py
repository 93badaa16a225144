"""OperatorAccess: the one way people start, watch and approve the runbook.

A role in each region (assumable by the account's principals with MFA) and a customer
managed policy with the same statements, for teams that attach it to their IAM Identity
Center permission sets instead. Apart from the monitor, nothing else may start runbook
executions. Every call that changes something (start, stop, answer an approval, release
the lock, acknowledge lost writes) also requires MFA in the policy itself, so attaching the policy elsewhere does
not drop the MFA the role's trust policy asks for.
"""

from __future__ import annotations

from dataclasses import replace

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.shared.grants import (
    LOCK_RELEASE_ATTRIBUTES,
    LOST_WRITES_ACKNOWLEDGE_ATTRIBUTES,
    UPDATE_ITEM,
    Grants,
)
from stacks.shared.policy import Permission, grant
from stacks.shared.scope import RegionScope
from switchyard.alarms import ALARMS
from switchyard.contract import LOCK_ITEM, LOST_WRITES_ITEM

OPERATOR_SESSION = Duration.hours(1)

# ``Bool``, not ``BoolIfExists``. aws:MultiFactorAuthPresent is in the request context only
# for temporary credentials: true when the session was obtained with MFA (AssumeRole or
# GetSessionToken with an MFA code, a console sign-in with MFA), and it is absent from
# requests signed with long-term access keys. ``Bool`` does not match an absent key, so
# the Allow does not apply and the call is denied; ``BoolIfExists`` would match it and let
# an IAM user's access keys start a failover or answer an approval without MFA. Sessions
# whose issuer sets no MFA context (e.g. some federated or Identity Center sessions) are
# denied too: fail closed, on purpose; such teams must check their sessions carry the key.
MFA_REQUIRED = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def with_mfa(permission: Permission) -> Permission:
    """``permission`` allowed only to sessions authenticated with MFA."""
    return replace(permission, conditions={**permission.conditions, **MFA_REQUIRED})


def operator_permissions(region: RegionScope) -> tuple[Permission, ...]:
    """Run and watch this region's runbook, answer its approvals, read the state of both
    regions, release a lock a failed execution kept (the lock item only), and acknowledge
    the lost writes of a data-losing failover (the lost-writes items only)."""
    grants, names = Grants(region), region.names
    machine, executions = names.state_machine_arn(region.region), names.state_machine_executions_arn(region.region)
    executions_reason = "execution names are chosen per run; the ARN pins this region's runbook"
    return (
        Permission(actions=("states:DescribeStateMachine", "states:ListExecutions"), resources=(machine,)),
        with_mfa(Permission(actions=("states:StartExecution",), resources=(machine,))),
        grants.describe("states:ListStateMachines"),  # the Step Functions console's list
        grants.use_runbook_key(),  # the runbook's definition and executions are encrypted with the region's key
        Permission(
            actions=(
                "states:DescribeExecution",
                "states:DescribeStateMachineForExecution",
                "states:GetExecutionHistory",
            ),
            resources=(executions,),
            wildcard_reason=executions_reason,
        ),
        with_mfa(
            Permission(actions=("states:StopExecution",), resources=(executions,), wildcard_reason=executions_reason)
        ),
        with_mfa(
            # The Service Authorization Reference lists no resource type and no condition key for
            # SendTaskSuccess/Failure/Heartbeat ("Actions, resources, and condition keys for AWS
            # Step Functions", docs.aws.amazon.com/service-authorization/latest/reference/
            # list_awsstepfunctions.html): '*' is the only resource, and the task token, which only
            # a waiting execution of this runbook hands out, is what names the approval.
            Permission(
                actions=("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"),
                resources=("*",),
                wildcard_reason="task-token calls support no resource-level permissions; the token names the approval",
            )
        ),
        Permission(
            actions=("dynamodb:GetItem", "dynamodb:Query"),
            resources=tuple(names.state_table_arn(other) for other in region.pair),
        ),
        # release a lock a failed execution kept (switchyard unlock): only the release's attributes
        with_mfa(
            grants.write_items(LOCK_ITEM, both_regions=True, actions=UPDATE_ITEM, attributes=LOCK_RELEASE_ATTRIBUTES)
        ),
        # acknowledge a data-losing failover's lost writes (switchyard acknowledge-lost-writes): only
        # the acknowledgement's attributes, never the record's snapshot or what it says was lost
        with_mfa(
            grants.write_items(
                LOST_WRITES_ITEM, both_regions=True, actions=UPDATE_ITEM, attributes=LOST_WRITES_ACKNOWLEDGE_ATTRIBUTES
            )
        ),
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
