"""OperatorAccess: the one way people start, watch and approve the runbook.

A role in each region (assumable by the account's principals with MFA) and a customer
managed policy with the same statements, for teams that attach it to their IAM Identity
Center permission sets instead. Apart from the monitor, nothing else may start runbook
executions.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.controller.permissions import ControllerResources
from stacks.controller.policy import grant
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names

OPERATOR_SESSION = Duration.hours(1)


class OperatorAccess(Construct):
    """The operator role and the operator managed policy of one region."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        region: str,
        names: Names,
        key: kms.IKey,
        topic_arn: str,
        table_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        resources = ControllerResources(
            config=config, region=region, names=names, table_name=table_name, topic_arn=topic_arn, key_arn=key.key_arn
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            managed_policy_name=f"{names.operator_role(region)}-access",
            description=f"Operate the Switchyard runbook {names.state_machine(region)}: start, watch, approve",
        )
        grant(self.policy, resources.operator)
        self.role = iam.Role(
            self,
            "Role",
            role_name=names.operator_role(region),
            description=f"Switchyard operators of {config.name} in {region} (MFA required)",
            assumed_by=iam.AccountPrincipal(config.account).with_conditions(
                {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            ),
            managed_policies=[self.policy],
            max_session_duration=OPERATOR_SESSION,
        )
