"""RegionScope: the one per-region object every construct receives.

Instead of ``config, region, names, key, topic`` on every signature, a construct takes
``region: RegionScope`` and asks it for what it needs. The key and topic are the region's
own (each stack creates its key; the topic is created by the controller stack and imported
by name elsewhere), so a scope belongs to one stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.model import Role


@dataclass(frozen=True)
class RegionScope:
    """One region of one environment, as one stack sees it."""

    config: EnvironmentConfig
    region: str
    key: kms.IKey  # this stack's customer-managed key (log groups, topic, secrets)
    topic: sns.ITopic  # the region's notification topic

    @property
    def names(self) -> Names:
        return Names(self.config)

    @property
    def role(self) -> Role:
        """The deployed role of this region (which region is active lives in the table)."""
        return self.config.role_of(self.region)

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"

    @property
    def other_region(self) -> str:
        return self.config.regions.other(self.region)

    @property
    def pair(self) -> tuple[str, str]:
        return self.config.regions.pair

    def describe(self, what: str) -> str:
        """A resource description naming the environment and region."""
        return f"Switchyard {self.config.name} in {self.region}: {what}"
