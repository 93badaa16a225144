"""Per-region storage: the data bucket and its access logs.

A stack of its own because of deploy order: the standby's bucket (replication
destination) must exist before the primary's bucket is created, while the database
goes the other way (the replica needs its source first).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.components.data_bucket import DataBucket
from stacks.components.log_bucket import LogBucket
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names


class StorageStack(cdk.Stack):
    """The region's data bucket; the primary's replicates to the standby's."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, region: str, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = Names(config)
        is_primary = config.role_of(region) == "primary"
        access_logs = LogBucket(self, "AccessLogs")
        self.data = DataBucket(
            self,
            "Data",
            bucket_name=names.bucket(region),
            access_logs=access_logs.bucket,
            replicate_to_bucket_arn=names.bucket_arn(config.regions.standby) if is_primary else None,
            expiry=None if is_primary else config.storage,
        )
