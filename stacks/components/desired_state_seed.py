"""DesiredStateSeed: the desired-state item, written once on the first deploy.

Without it, a fresh deployment has no ``desired#<app>``: both traffic switches answer 503,
the monitor has nothing to evaluate and the controller changes nothing (and alarms). The
seed is ``switchyard.contract.initial_desired_state`` (the configured primary is active at
epoch 0), written by a conditional ``PutItem`` on create only: a later deploy, or a stack
update, never overwrites the state a failover wrote.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.shared.policy import Permission, acknowledge
from stacks.shared.scope import RegionScope
from switchyard.contract import STATE_TABLE_KEY, desired_state_item, initial_desired_state

ALREADY_SEEDED = "ConditionalCheckFailedException"  # the item exists: leave it as it is
PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"  # the CDK's singleton AwsCustomResource provider


def seed_call(region: RegionScope) -> dict[str, object]:
    """The PutItem parameters of the seed (DynamoDB's typed JSON, condition on the key)."""
    return {
        "TableName": region.names.state_table,
        "Item": desired_state_item(region.config, initial_desired_state(region.config)),
        "ConditionExpression": "attribute_not_exists(#pk)",
        "ExpressionAttributeNames": {"#pk": STATE_TABLE_KEY},
    }


class DesiredStateSeed(Construct):
    """A custom resource whose create is the seed ``PutItem``; update and delete do nothing."""

    def __init__(self, scope: Construct, construct_id: str, *, region: RegionScope) -> None:
        super().__init__(scope, construct_id)
        names = region.names
        write_seed = Permission(
            actions=("dynamodb:PutItem",),
            resources=(names.state_table_arn(region.region),),
            conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [names.desired_state_key]}},
        )
        self.resource = cr.AwsCustomResource(
            self,
            "Resource",
            resource_type="Custom::SwitchyardDesiredStateSeed",
            on_create=cr.AwsSdkCall(
                service="DynamoDB",
                action="putItem",
                parameters=seed_call(region),
                physical_resource_id=cr.PhysicalResourceId.of(f"{names.state_table}/{names.desired_state_key}"),
                ignore_error_codes_matching=ALREADY_SEEDED,
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements([write_seed.statement()]),
            install_latest_aws_sdk=False,
        )
        acknowledge_custom_resource_provider(self)


def acknowledge_custom_resource_provider(scope: Construct) -> None:
    """The findings of the CDK's AwsCustomResource provider, one function per stack (a
    sibling of ``scope``, created with the first AwsCustomResource), with their reasons."""
    provider = cdk.Stack.of(scope).node.find_child(PROVIDER_ID)
    acknowledge(
        provider,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "The CDK's AwsCustomResource provider runs with AWSLambdaBasicExecutionRole (its own log writes only).",
    )
    deploy_time_only = "The CDK's AwsCustomResource provider runs only while CloudFormation deploys this stack"
    acknowledge(provider, "Serverless-LambdaDLQ", f"{deploy_time_only}; CloudFormation reports a failed call.")
    acknowledge(provider, "Serverless-LambdaDefaultMemorySize", f"{deploy_time_only}; its size is the CDK's choice.")
    acknowledge(provider, "Serverless-LambdaTracing", f"{deploy_time_only}; CloudFormation events trace it.")
