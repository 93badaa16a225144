"""Deterministic ARNs of the resources the controller acts on.

Built from :class:`switchyard.contract.Names`, so a policy in one region can name a
resource in the other without a cross-stack (or cross-region) reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchyard.alarms import AlarmSpec
from switchyard.contract import Names


@dataclass(frozen=True)
class ControllerArns:
    """ARNs of one environment's resources, derived from its names."""

    names: Names

    @property
    def _account(self) -> str:
        return self.names.config.account

    def table(self, region: str, table_name: str) -> str:
        """The replica of the state table in ``region`` (one name, one ARN per region)."""
        return f"arn:aws:dynamodb:{region}:{self._account}:table/{table_name}"

    def asg(self, region: str) -> str:
        """The application ASG; its ARN carries a generated id, so that part is a wildcard."""
        return (
            f"arn:aws:autoscaling:{region}:{self._account}:autoScalingGroup:*"
            f":autoScalingGroupName/{self.names.asg(region)}"
        )

    def db_instance(self, region: str) -> str:
        return f"arn:aws:rds:{region}:{self._account}:db:{self.names.db_instance(region)}"

    def db_cluster(self, region: str) -> str:
        return f"arn:aws:rds:{region}:{self._account}:cluster:{self.names.db_cluster(region)}"

    @property
    def global_cluster(self) -> str:
        return f"arn:aws:rds::{self._account}:global-cluster:{self.names.global_cluster}"

    def bucket(self, region: str) -> str:
        return f"arn:aws:s3:::{self.names.bucket(region)}"

    def alarm(self, region: str, alarm: AlarmSpec) -> str:
        return f"arn:aws:cloudwatch:{region}:{self._account}:alarm:{self.names.alarm(region, alarm.key)}"

    def default_event_bus(self, region: str) -> str:
        return f"arn:aws:events:{region}:{self._account}:event-bus/default"

    def state_machine_executions(self, region: str) -> str:
        """Every execution of the region's runbook (execution names are chosen per run)."""
        return f"arn:aws:states:{region}:{self._account}:execution:{self.names.state_machine(region)}:*"

    @property
    def hosted_zone(self) -> str:
        return f"arn:aws:route53:::hostedzone/{self.names.config.dns.hosted_zone_id}"
