"""Per-region storage: the data bucket (and its key), its access logs and the backup vault.

A stack of its own because of deploy order: the standby's bucket (replication
destination) must exist before the primary's bucket is created, while the database
goes the other way (the replica needs its source first). Both regions' storage stacks
deploy before either regional stack, so each region's backup plan (regional stack) finds
the other region's vault to copy into.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from constructs import Construct

from stacks.components.data_bucket import DATA_KEY, DataBucket, ReverseReplication
from stacks.components.log_bucket import LogBucket
from stacks.shared.encryption import create_key
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names


class StorageStack(cdk.Stack):
    """The region's data bucket and backup vault; the buckets replicate both ways."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, region: str, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = Names(config)
        is_primary = config.role_of(region) == "primary"
        standby = config.regions.standby
        access_logs = LogBucket(self, "AccessLogs", server_access_log_target=True)
        # The data bucket's own key, in this stack: the regional key is created by the regional
        # stack, which deploys after this one. The other region's is addressed by its alias.
        self.data_key = create_key(
            self,
            "DataKey",
            alias=names.key_alias(DATA_KEY),
            description=f"Switchyard {config.name} in {region}: the data bucket and the replicas written into it",
        )
        self.data = DataBucket(
            self,
            "Data",
            bucket_name=names.bucket(region),
            access_logs=access_logs.bucket,
            encryption_key=self.data_key,
            replicate_to_bucket_arn=names.bucket_arn(standby) if is_primary else None,
            replica_key_alias_arn=names.key_alias_arn(standby, DATA_KEY) if is_primary else None,
            replication_rule_id=names.replication_rule(standby),
            replication_time_control=config.storage.replication_time_control,
            expiry=None if is_primary else config.storage,
        )
        if is_primary:
            # deployed after the standby's storage stack, so both buckets exist by now
            self.reverse_replication = ReverseReplication(
                self,
                "ReverseReplication",
                source_region=standby,
                source_bucket_name=names.bucket(standby),
                destination_bucket=self.data.bucket,
                destination_bucket_arn=names.bucket_arn(region),
                destination_key=self.data_key,
                source_key_alias_arn=names.key_alias_arn(standby, DATA_KEY),
                role_name=names.replication_role(standby),
                rule_id=names.replication_rule(region),
                replication_time_control=config.storage.replication_time_control,
            )
        # The other region's backup plan copies its database here, re-encrypted with this
        # region's key: a copy must not depend on a key in the region it protects against.
        self.backup_key = create_key(
            self,
            "BackupKey",
            alias=names.key_alias("backup"),
            description=f"Switchyard {config.name} in {region}: the backup vault",
        )
        self.backup_vault = backup.BackupVault(
            self,
            "BackupVault",
            backup_vault_name=names.backup_vault(region),
            encryption_key=self.backup_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
