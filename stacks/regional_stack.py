"""Per-region application stack: network, application tier, database, health alarms,
the traffic switch, the region's own failover record and its Route 53 verdict sentinel.

Everything from another stack or region is addressed by its contract name: the
notification topic (controller stack), the state table replica, the database source.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.components.app_tier import AppTier
from stacks.components.backup_plan import DatabaseBackupPlan
from stacks.components.dashboard import RegionDashboard
from stacks.components.database import RegionalDatabase
from stacks.components.failover_record import FailoverRecord
from stacks.components.health_alarms import HealthAlarms
from stacks.components.log_bucket import LogBucket
from stacks.components.network import Network
from stacks.components.route53_verdict import Route53Verdict
from stacks.components.traffic_switch import TrafficSwitch
from stacks.shared.encryption import allow_cloudwatch_logs, create_key
from stacks.shared.scope import RegionScope
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names


class RegionalStack(cdk.Stack):
    """The warm-standby footprint of one region, sized by its deployed role."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, region: str, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = Names(config)
        key = create_key(
            self,
            "RegionalKey",
            alias=names.key_alias("regional"),
            description=f"Switchyard {config.name} in {region}: database, secrets and function logs",
        )
        allow_cloudwatch_logs(key, region=region)
        topic = sns.Topic.from_topic_arn(self, "Notifications", names.topic_arn(region))
        here = RegionScope(config=config, region=region, key=key, topic=topic)
        logs = LogBucket(self, "Logs")
        cidr = config.network.primary_cidr if here.is_primary else config.network.standby_cidr
        self.network = Network(self, "Network", cidr=cidr, network=config.network, flow_logs=logs.bucket)
        self.app_tier = AppTier(self, "AppTier", region=here, vpc=self.network.vpc, access_logs=logs.bucket)
        self.database = RegionalDatabase(
            self, "Database", region=here, vpc=self.network.vpc, clients=self.app_tier.instance_security_group
        )
        # copies into the other region's vault (its storage stack deploys before this stack)
        self.backup_plan = DatabaseBackupPlan(self, "BackupPlan", region=here)
        self.backup_plan.node.add_dependency(self.database)
        self.health_alarms = HealthAlarms(
            self,
            "HealthAlarms",
            region=here,
            load_balancer=self.app_tier.load_balancer,
            target_group=self.app_tier.target_group,
            database_availability=self.database.availability_metric,
            replication_lag=self.database.replication_lag_metric,
        )
        self.traffic_switch = TrafficSwitch(self, "TrafficSwitch", region=here)
        # the placeholder's deep health path needs the region's database and its traffic switch
        self.app_tier.serve_placeholder(database=self.database, switch_url=self.traffic_switch.url.url)
        self.failover_record = FailoverRecord(
            self,
            "Dns",
            region=here,
            load_balancer=self.app_tier.load_balancer,
            switch_domain_name=self.traffic_switch.domain_name,
        )
        self.route53_verdict = Route53Verdict(
            self,
            "Route53Verdict",
            region=here,
            load_balancer_check_id=self.failover_record.load_balancer_check.attr_health_check_id,
        )
        self.dashboard = RegionDashboard(
            self,
            "Dashboard",
            region=here,
            load_balancer_check_id=self.failover_record.load_balancer_check.attr_health_check_id,
        )
