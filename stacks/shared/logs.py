"""Encrypted, retained log groups for the controller's functions and state machine."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS  # long enough to read a quarter's failovers and drills


def encrypted_log_group(scope: Construct, construct_id: str, *, name: str, key: kms.IKey) -> logs.LogGroup:
    """A log group encrypted with the region's key (execution data holds incident context)."""
    return logs.LogGroup(scope, construct_id, log_group_name=name, encryption_key=key, retention=LOG_RETENTION)
