"""Customer-managed KMS keys shared by the stacks of one region."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


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
