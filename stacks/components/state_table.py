"""The desired-state and lock table, a DynamoDB global table shared by both regions."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from switchyard.contract import STATE_TABLE_KEY


class StateTable(Construct):
    """The global table created in the primary region with a standby replica.

    Its key schema is the one the controller's state adapter reads and writes (one string
    partition key, ``switchyard.contract.STATE_TABLE_KEY``; every item is addressed by it alone).

    Encrypted with the AWS-managed DynamoDB key: a customer-managed key would need the
    standby replica's key ARN, which is random and so not derivable from configuration.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table_name: str,
        replica_region: str,
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name=STATE_TABLE_KEY, type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=deletion_protection,
            replicas=[dynamodb.ReplicaTableProps(region=replica_region)],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
