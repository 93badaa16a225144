"""The application tier of one region: its Auto Scaling group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.retry import ClientFactory


@dataclass(frozen=True)
class GroupStatus:
    name: str
    region: str
    exists: bool
    desired: int
    min_size: int
    max_size: int
    in_service: int
    launch_template: str | None

    def as_observed(self) -> dict[str, Any]:
        return {
            "asg": self.name,
            "exists": self.exists,
            "desired": self.desired,
            "min": self.min_size,
            "max": self.max_size,
            "in_service": self.in_service,
            "launch_template": self.launch_template,
        }


class Compute(Protocol):
    def describe(self, region: str) -> GroupStatus: ...

    def set_desired(self, region: str, desired: int, *, best_effort: bool = False) -> int:
        """Set the group's desired capacity, never above its max; returns the capacity it
        now wants (no call when it already wants that)."""
        ...


class AutoScalingCompute:
    """The region's ASG named by ``Names.asg``."""

    def __init__(self, config: EnvironmentConfig, clients: ClientFactory) -> None:
        self._names = Names(config)
        self._clients = clients

    def describe(self, region: str, *, best_effort: bool = False) -> GroupStatus:
        name = self._names.asg(region)
        autoscaling = self._clients.client("autoscaling", region, best_effort=best_effort)
        groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name]).get("AutoScalingGroups", [])
        if not groups:
            return GroupStatus(name, region, False, 0, 0, 0, 0, None)
        group = groups[0]
        template = (group.get("LaunchTemplate") or {}).get("LaunchTemplateName") or (
            (group.get("MixedInstancesPolicy") or {})
            .get("LaunchTemplate", {})
            .get("LaunchTemplateSpecification", {})
            .get("LaunchTemplateName")
        )
        in_service = sum(1 for instance in group.get("Instances", []) if instance.get("LifecycleState") == "InService")
        return GroupStatus(
            name,
            region,
            True,
            int(group["DesiredCapacity"]),
            int(group["MinSize"]),
            int(group["MaxSize"]),
            in_service,
            template,
        )

    def set_desired(self, region: str, desired: int, *, best_effort: bool = False) -> int:
        if desired < 0:
            raise ValueError(f"desired capacity must not be negative (got {desired})")
        group = self.describe(region, best_effort=best_effort)
        if not group.exists:
            raise LookupError(f"no Auto Scaling group {group.name!r} in {region}")
        target = min(desired, group.max_size)
        if group.desired == target:
            return target
        autoscaling = self._clients.client("autoscaling", region, best_effort=best_effort)
        if target < group.min_size:
            autoscaling.update_auto_scaling_group(
                AutoScalingGroupName=group.name, MinSize=target, DesiredCapacity=target
            )
        else:
            autoscaling.set_desired_capacity(
                AutoScalingGroupName=group.name, DesiredCapacity=target, HonorCooldown=False
            )
        return target
