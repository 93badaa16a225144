"""Per-region controller stack: the shared pieces the failover controller builds on.

The primary region's stack owns the DynamoDB global table (with the standby replica);
the standby's refers to it by its deterministic name only. The controller's Lambda
functions, state machine, rules and alarms come from ``stacks.controller.add_controller``,
built on the pieces created here.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.components.encryption import allow_cloudwatch_logs, create_key
from stacks.components.notifications import NotificationTopic
from stacks.components.state_table import StateTable
from stacks.controller import Controller, add_controller
from stacks.controller.logs import encrypted_log_group
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names


class ControllerStack(cdk.Stack):
    """KMS key, notification topic, state table (primary) and log-group helper of one region."""

    key: kms.Key
    topic: sns.Topic
    table_name: str

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, region: str, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.region_name = region
        self.names = Names(config)
        self.key = create_key(
            self,
            "ControllerKey",
            alias=f"alias/{self.names.prefix}-controller",
            description=f"Switchyard {config.name} controller in {region}: topic and log groups",
        )
        allow_cloudwatch_logs(self.key, region=region)
        self.topic = NotificationTopic(
            self,
            "Notifications",
            topic_name=self.names.topic(region),
            key=self.key,
            email=config.notification_email,
            account=config.account,
        ).topic
        self.table_name = self.names.state_table
        self.state_table = (
            StateTable(
                self,
                "State",
                table_name=self.table_name,
                replica_region=config.regions.standby,
                deletion_protection=config.database.deletion_protection,
            )
            if config.role_of(region) == "primary"
            else None
        )
        self.controller: Controller = add_controller(
            self,
            config=config,
            region=region,
            names=self.names,
            key=self.key,
            topic=self.topic,
            table_name=self.table_name,
        )

    def log_group(self, construct_id: str, *, log_group_name: str) -> logs.LogGroup:
        """A log group in this stack, encrypted with the controller key, with bounded retention."""
        return encrypted_log_group(self, construct_id, name=log_group_name, key=self.key)
