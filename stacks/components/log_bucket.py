"""The bucket AWS log delivery writes into (S3 server access logs, ALB access logs, VPC flow logs)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.shared.policy import acknowledge

LOG_EXPIRY = cdk.Duration.days(365)


class LogBucket(Construct):
    """A private, SSL-only bucket for AWS-delivered logs.

    S3-managed keys (SSE-S3), not the region's customer-managed key, because two of its
    writers accept nothing else: Elastic Load Balancing access logs ("The only server-side
    encryption option that's supported is Amazon S3-managed keys (SSE-S3)", ELB User Guide,
    "Enable access logs for your Application Load Balancer",
    docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html) and S3
    server access logging (the target bucket's default encryption may be SSE-S3 only, not
    SSE-KMS; S3 User Guide, "Enabling Amazon S3 server access logging",
    docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html). VPC flow
    logs would accept SSE-KMS but share this bucket. The logs hold request metadata, not data.
    """

    def __init__(self, scope: Construct, construct_id: str, *, server_access_log_target: bool = False) -> None:
        """``server_access_log_target``: other buckets' S3 server access logs land here (cdk-nag
        then does not ask this bucket to log its own access, and no acknowledgement is due)."""
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
        if server_access_log_target:
            return
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "This bucket holds AWS-delivered logs (ALB access logs, VPC flow logs), written only by AWS "
            "log delivery; its own access logs would go to another log bucket for no reader.",
        )
