"""Per-region controller stack: the region's key and notification topic, the state table
(created with its standby replica by the primary region, which also seeds the desired
state), and the region's :class:`~stacks.controller.controller.Controller`.

The standby's stack refers to the table by its contract name only.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.components.desired_state_seed import DesiredStateSeed
from stacks.components.notifications import NotificationTopic
from stacks.components.state_table import StateTable
from stacks.controller.controller import Controller
from stacks.shared.encryption import allow_cloudwatch_logs, create_key
from stacks.shared.scope import RegionScope
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names


class ControllerStack(cdk.Stack):
    """Key, topic, state table and seed (primary) and the controller of one region."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, region: str, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = Names(config)
        key = create_key(
            self,
            "ControllerKey",
            alias=f"alias/{names.prefix}-controller",
            description=f"Switchyard {config.name} controller in {region}: topic and log groups",
        )
        allow_cloudwatch_logs(key, region=region)
        topic = NotificationTopic(
            self,
            "Notifications",
            topic_name=names.topic(region),
            key=key,
            email=config.notification_email,
            account=config.account,
        ).topic
        self.region_scope = RegionScope(config=config, region=region, key=key, topic=topic)
        self.state_table: StateTable | None = None
        if self.region_scope.is_primary:
            self.state_table = StateTable(
                self,
                "State",
                table_name=names.state_table,
                replica_region=config.regions.standby,
                witness_region=config.regions.witness,
                deletion_protection=config.database.deletion_protection,
            )
            seed = DesiredStateSeed(self, "DesiredStateSeed", region=self.region_scope)
            seed.node.add_dependency(self.state_table)
        self.controller = Controller(self, "Controller", region=self.region_scope)
