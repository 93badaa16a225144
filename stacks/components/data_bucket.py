"""The application's regional data buckets and their cross-region replication, both ways."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.components.desired_state_seed import acknowledge_custom_resource_provider
from stacks.shared.policy import Permission, acknowledge, grant
from switchyard.config import Storage
from switchyard.contract import DATA_REPLICATION_RULE_ID


class DataBucket(Construct):
    """A versioned, encrypted, private, SSL-only bucket named deterministically.

    In the primary region it replicates every object (and delete markers) to the
    standby's bucket, addressed by its deterministic ARN, with Replication Time Control
    and replication metrics when ``replication_time_control`` (the latency and
    pending-operations metrics preflight gates on). In the standby region it expires old
    versions as configured; its reverse rule back to the primary is :class:`ReverseReplication`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        access_logs: s3.IBucket,
        replicate_to_bucket_arn: str | None = None,
        replication_rule_id: str = DATA_REPLICATION_RULE_ID,
        replication_time_control: bool = True,
        expiry: Storage | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        replication_rules = None
        if replicate_to_bucket_arn is not None:
            destination = s3.Bucket.from_bucket_arn(self, "ReplicationDestination", replicate_to_bucket_arn)
            fifteen_minutes = s3.ReplicationTimeValue.FIFTEEN_MINUTES if replication_time_control else None
            replication_rules = [
                s3.ReplicationRule(
                    id=replication_rule_id,
                    destination=destination,
                    priority=1,
                    delete_marker_replication=True,
                    replication_time_control=fifteen_minutes,
                    metrics=fifteen_minutes,
                )
            ]
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"s3/{bucket_name}/",
            lifecycle_rules=_expiry_rules(expiry),
            replication_rules=replication_rules,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        if replicate_to_bucket_arn is not None:
            self._acknowledge_replication_object_access(replicate_to_bucket_arn)

    def _acknowledge_replication_object_access(self, destination_arn: str) -> None:
        source_logical_id = cdk.Stack.of(self).get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        reason = (
            "S3 replication reads every object version of the source bucket and writes every key "
            "of the standby bucket; object-level replication actions apply to the whole key space."
        )
        for resource in (f"<{source_logical_id}.Arn>/*", f"{destination_arn}/*"):
            acknowledge(self.bucket, f"AwsSolutions-IAM5[Resource::{resource}]", reason)


def _expiry_rules(expiry: Storage | None) -> list[s3.LifecycleRule] | None:
    if expiry is None:
        return None
    return [
        s3.LifecycleRule(
            id="standby-expiry",
            noncurrent_version_expiration=cdk.Duration.days(expiry.standby_noncurrent_expiry_days),
            expiration=cdk.Duration.days(expiry.standby_expiry_days) if expiry.standby_expiry_days else None,
            abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
        )
    ]


# S3 never replicates an object that is itself a replica, so two rules pointing at each other
# do not loop: "objects in the source bucket that are replicas that were created by another
# replication rule" are not replicated (S3 User Guide, "What isn't replicated with replication
# configurations", docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html).
# Only replica modification sync (SourceSelectionCriteria.ReplicaModifications) sends changes
# made to replicas back, and then only their metadata (API reference, ReplicaModifications,
# docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicaModifications.html); neither rule here
# turns it on (neither carries SourceSelectionCriteria).


class ReverseReplication(Construct):
    """The standby's data bucket replicating back to the primary's: always on.

    While the primary is active, every object in the standby's bucket is a replica, which S3
    does not replicate again, so the rule idles (it costs nothing without traffic). Once the
    standby is active, what the application writes there replicates to the primary's bucket as
    soon as that region answers, so a failback loses no object and no runbook step has to
    switch replication on in the middle of a failover. Enabling it at failover instead would
    add an S3 control-plane write to the critical path, and objects written before it took
    effect would never replicate.

    The rule is written by a custom resource (``PutBucketReplication`` on the standby's bucket)
    in the PRIMARY's storage stack: a replication destination must exist when the rule is put,
    and the standby's bucket must exist before the primary's (the forward rule), so neither
    bucket's own template can carry the reverse rule.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_region: str,
        source_bucket_name: str,
        destination_bucket: s3.IBucket,
        destination_bucket_arn: str,
        role_name: str,
        rule_id: str,
        replication_time_control: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        source_arn = f"arn:aws:s3:::{source_bucket_name}"
        object_space = "S3 replication reads every object version of its source and writes every key of its destination"
        self.role = iam.Role(self, "Role", role_name=role_name, assumed_by=iam.ServicePrincipal("s3.amazonaws.com"))
        grant(
            self.role,
            (
                Permission(actions=("s3:GetReplicationConfiguration", "s3:ListBucket"), resources=(source_arn,)),
                Permission(
                    actions=(
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                    ),
                    resources=(f"{source_arn}/*",),
                    wildcard_reason=object_space,
                ),
                Permission(
                    actions=("s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"),
                    resources=(f"{destination_bucket_arn}/*",),
                    wildcard_reason=object_space,
                ),
            ),
        )
        put_rule = cr.AwsSdkCall(
            service="S3",
            action="putBucketReplication",
            region=source_region,
            parameters={
                "Bucket": source_bucket_name,
                "ReplicationConfiguration": {
                    "Role": self.role.role_arn,
                    "Rules": [reverse_rule(rule_id, destination_bucket_arn, replication_time_control)],
                },
            },
            physical_resource_id=cr.PhysicalResourceId.of(f"{source_bucket_name}/replication/{rule_id}"),
        )
        self.resource = cr.AwsCustomResource(
            self,
            "Resource",
            resource_type="Custom::SwitchyardReverseReplication",
            on_create=put_rule,
            on_update=put_rule,
            on_delete=cr.AwsSdkCall(
                service="S3",
                action="deleteBucketReplication",
                region=source_region,
                parameters={"Bucket": source_bucket_name},
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    # PutBucketReplication and DeleteBucketReplication both need this action
                    Permission(actions=("s3:PutReplicationConfiguration",), resources=(source_arn,)).statement(),
                    Permission(actions=("iam:PassRole",), resources=(self.role.role_arn,)).statement(),
                ]
            ),
            install_latest_aws_sdk=False,
        )
        self.resource.node.add_dependency(destination_bucket)  # named by ARN, created in this stack
        acknowledge_custom_resource_provider(self)


def reverse_rule(rule_id: str, destination_bucket_arn: str, replication_time_control: bool) -> dict[str, object]:
    """The reverse rule as PutBucketReplication takes it: every object and delete marker, to the
    primary's bucket, with Replication Time Control and metrics when configured."""
    destination: dict[str, object] = {"Bucket": destination_bucket_arn}
    if replication_time_control:
        destination["ReplicationTime"] = {"Status": "Enabled", "Time": {"Minutes": 15}}
        destination["Metrics"] = {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}
    return {
        "ID": rule_id,
        "Status": "Enabled",
        "Priority": 1,
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": destination,
    }
