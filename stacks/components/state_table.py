"""The desired-state and lock table: a DynamoDB global table in multi-Region strong
consistency (MRSC), shared by both regions and voted on by a witness region."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from switchyard.contract import STATE_TABLE_KEY


class StateTable(Construct):
    """The global table created in the primary region with a standby replica and a witness.

    Its key schema is the one the controller's state adapter reads and writes (one string
    partition key, ``switchyard.contract.STATE_TABLE_KEY``; every item is addressed by it alone).

    MRSC (two replicas + one witness, all of one region set, checked by
    ``switchyard.config.Regions``): a write, or a strongly consistent read, succeeds only
    once a majority of the three regions has it, so a conditional write on the lock, the
    epoch or the desired state holds across regions, and a replica cut off from both others
    fails instead of diverging. What MRSC does not support shapes the table (see
    docs/architecture.md, "State table consistency"):

    - no Time to Live: none is set (the monitor's ``trigger#`` records keep ``expires_at``
      as data only; nothing deletes them);
    - no transactions, no local secondary indexes: none are used or defined;
    - no stream is needed for replication (MRSC does not replicate through streams): none;
    - the mode is fixed at creation and the table must be empty then: the seed writes the
      desired state only after the table exists (``DesiredStateSeed`` depends on it).

    Encrypted with the AWS-managed DynamoDB key (``aws/dynamodb``), on purpose. A global table
    can take a customer-managed key per replica (each replica's own key in its region:
    ``TableEncryptionV2.customer_managed_key(table_key, replica_key_arns={region: key ARN})``;
    DynamoDB Developer Guide, "Encryption at rest" and the global tables' "encryption" notes);
    the MRSC documentation names no restriction on it, which we have not verified against a
    deployment. It is not done because of what it would cost this table:

    - every reader would need the key: the traffic switches (on every Route 53 health check),
      the monitor, the reconciler, each runbook step, the operators and the runbook itself,
      each with kms:Decrypt/kms:GenerateDataKey through DynamoDB in its region;
    - a key disabled, scheduled for deletion or denied by a key-policy edit makes the replica
      inaccessible, so both traffic switches answer 503 and the controller can neither read
      nor change the desired state: a key-management mistake becomes an outage of BOTH regions
      (Principle 3's static stability), with no data-plane way out;
    - the standby replica's key would be addressed by a generated key ARN that the configuration
      cannot derive (its alias resolves only in its own region), so the primary's stack would
      need a value from the standby's at deploy time.

    The table holds the desired state, the lock, epochs and audit records (no application
    data, no secrets); the AWS-managed key still encrypts it at rest and logs its use in
    CloudTrail. docs/security.md records the decision.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table_name: str,
        replica_region: str,
        witness_region: str,
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
            multi_region_consistency=dynamodb.MultiRegionConsistency.STRONG,
            replicas=[dynamodb.ReplicaTableProps(region=replica_region)],
            witness_region=witness_region,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
