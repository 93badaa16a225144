"""The bucket AWS log delivery writes into (S3 server access logs, ALB access logs, VPC flow logs)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.shared.policy import acknowledge

LOG_EXPIRY = cdk.Duration.days(365)


class LogBucket(Construct):
    """A private, SSL-only bucket for AWS-delivered logs.

    ALB access logs support SSE-S3 only, so this bucket uses S3-managed keys.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=LOG_EXPIRY)],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "This is the access-log destination itself; logging it into itself would loop and "
            "its objects are written only by AWS log delivery.",
        )
