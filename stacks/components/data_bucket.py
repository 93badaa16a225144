"""The application's regional data bucket and its cross-region replication."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.shared.policy import acknowledge
from switchyard.config import Storage


class DataBucket(Construct):
    """A versioned, encrypted, private, SSL-only bucket named deterministically.

    In the primary region it replicates every object (and delete markers) to the
    standby's bucket, addressed by its deterministic ARN, with Replication Time Control
    so replication lag is measured against a 15-minute SLA. In the standby region it
    expires old versions as configured.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        access_logs: s3.IBucket,
        replicate_to_bucket_arn: str | None = None,
        expiry: Storage | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        replication_rules = None
        if replicate_to_bucket_arn is not None:
            destination = s3.Bucket.from_bucket_arn(self, "ReplicationDestination", replicate_to_bucket_arn)
            replication_rules = [
                s3.ReplicationRule(
                    id="to-standby",
                    destination=destination,
                    priority=1,
                    delete_marker_replication=True,
                    replication_time_control=s3.ReplicationTimeValue.FIFTEEN_MINUTES,
                    metrics=s3.ReplicationTimeValue.FIFTEEN_MINUTES,
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
