"""The application tier of one region: its Auto Scaling group, and the machine image its
launch template launches (AMIs are regional: the standby needs its own copy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.retry import ClientFactory, error_code

SSM_IMAGE_PREFIX = "resolve:ssm:"  # a launch template's ImageId that EC2 resolves at launch
LAUNCHED_VERSION = "$Latest"  # the stacks' ASG launches its template's latest version
IMAGE_AVAILABLE = "available"
TEMPLATE_NOT_FOUND = ("InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound")
IMAGE_NOT_FOUND = ("InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable")
PARAMETER_NOT_FOUND = ("ParameterNotFound", "ParameterVersionNotFound")


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


@dataclass(frozen=True)
class ImageStatus:
    """The image ``region``'s launch template launches, and whether it can launch there.

    ``configured``: the template's ImageId as written (an AMI id or ``resolve:ssm:<name>``);
    ``image_id``: the AMI it resolves to (None when the template or the parameter is missing);
    ``state``: the image's state in ``region`` (None: no such image there); ``problem``: why
    it cannot launch, naming the image and the region (None when it can)."""

    region: str
    launch_template: str
    configured: str | None
    image_id: str | None
    state: str | None
    problem: str | None = None

    @property
    def available(self) -> bool:
        return self.problem is None and self.state == IMAGE_AVAILABLE

    def as_observed(self) -> dict[str, Any]:
        return {
            "launch_template": self.launch_template,
            "configured": self.configured,
            "image_id": self.image_id,
            "state": self.state,
            "problem": self.problem,
        }


class Compute(Protocol):
    def describe(self, region: str) -> GroupStatus: ...

    def image(self, region: str) -> ImageStatus:
        """The image the region's launch template launches, and whether it is available there."""
        ...

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

    def image(self, region: str, *, best_effort: bool = False) -> ImageStatus:
        """Read the launch template (by its contract name, the version the group launches),
        resolve an SSM ImageId with ssm:GetParameter, then ec2:DescribeImages, all in
        ``region``. Missing things are a status with a ``problem``; other errors raise."""
        template = self._names.launch_template(region)
        ec2 = self._clients.client("ec2", region, best_effort=best_effort)
        try:
            versions = ec2.describe_launch_template_versions(
                LaunchTemplateName=template, Versions=[LAUNCHED_VERSION]
            ).get("LaunchTemplateVersions", [])
        except Exception as exc:
            if error_code(exc) not in TEMPLATE_NOT_FOUND:
                raise
            versions = []
        if not versions:
            return ImageStatus(region, template, None, None, None, f"no launch template {template} in {region}")
        configured = versions[0].get("LaunchTemplateData", {}).get("ImageId")
        if not configured:
            return ImageStatus(region, template, None, None, None, f"launch template {template} names no image")
        image_id: str | None = configured
        if configured.startswith(SSM_IMAGE_PREFIX):
            image_id = self._parameter_value(configured.removeprefix(SSM_IMAGE_PREFIX), region, best_effort)
            if image_id is None:
                return ImageStatus(
                    region, template, configured, None, None, f"no SSM parameter {configured} in {region}"
                )
        try:
            images = ec2.describe_images(ImageIds=[image_id]).get("Images", [])
        except Exception as exc:
            if error_code(exc) not in IMAGE_NOT_FOUND:
                raise
            images = []
        if not images:
            return ImageStatus(
                region, template, configured, image_id, None, f"image {image_id} does not exist in {region}"
            )
        state = str(images[0].get("State", "unknown"))
        problem = None if state == IMAGE_AVAILABLE else f"image {image_id} is {state} in {region}, not available"
        return ImageStatus(region, template, configured, image_id, state, problem)

    def _parameter_value(self, parameter: str, region: str, best_effort: bool) -> str | None:
        ssm = self._clients.client("ssm", region, best_effort=best_effort)
        try:
            return str(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
        except Exception as exc:
            if error_code(exc) not in PARAMETER_NOT_FOUND:
                raise
            return None
