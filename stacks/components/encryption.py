"""Customer-managed KMS keys and encrypted log groups, shared by every stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
"""Long enough to investigate an incident after the fact, short enough to stay cheap."""


def create_key(scope: Construct, construct_id: str, *, alias: str, description: str) -> kms.Key:
    """A rotating customer-managed key that survives stack deletion (data encrypted with it may)."""
    return kms.Key(
        scope,
        construct_id,
        alias=alias,
        description=description,
        enable_key_rotation=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


def allow_cloudwatch_logs(key: kms.IKey, *, region: str) -> None:
    """Let CloudWatch Logs in ``region`` encrypt log groups with ``key``."""
    key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{region}.amazonaws.com"))


def encrypted_log_group(
    scope: Construct, construct_id: str, *, key: kms.IKey, log_group_name: str | None = None
) -> logs.LogGroup:
    """A log group encrypted with ``key`` and a bounded retention."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=log_group_name,
        encryption_key=key,
        retention=LOG_RETENTION,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
