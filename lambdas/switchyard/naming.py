"""Deterministic names and ARNs derived from the configuration.

Stacks, the controller and the drill all compute cross-region names here, so no
stack ever references another (a failed region's stack outputs are unreadable in an
outage; a name computed from the configuration is not).
"""

from __future__ import annotations

from dataclasses import dataclass

from switchyard.config import EnvironmentConfig

STEP_NAMES = (
    "validate",
    "lock",
    "preflight",
    "fence",
    "promote",
    "scale_up",
    "wait_ready",
    "flip",
    "verify",
    "release",
    "record",
)


@dataclass(frozen=True)
class Names:
    """Every name Switchyard gives to a resource of one environment."""

    config: EnvironmentConfig

    @property
    def prefix(self) -> str:
        return f"switchyard-{self.config.name}"

    # -- state shared by both regions (DynamoDB global table) --------------------------
    @property
    def state_table(self) -> str:
        return f"{self.prefix}-state"

    # -- per region --------------------------------------------------------------------
    def stack(self, kind: str, region: str) -> str:
        return f"{self.prefix}-{kind}-{region}"

    def bucket(self, region: str) -> str:
        return f"{self.prefix}-{self.config.account}-{region}-data"

    def asg(self, region: str) -> str:
        return f"{self.prefix}-{region}-app"

    def db_instance(self, region: str) -> str:
        """RDS engine: the instance in ``region`` (primary or its cross-region replica)."""
        return f"{self.prefix}-{region}-db"

    def db_cluster(self, region: str) -> str:
        """Aurora engine: the regional cluster in ``region``."""
        return f"{self.prefix}-{region}-cluster"

    @property
    def global_cluster(self) -> str:
        return f"{self.prefix}-global"

    def topic(self, region: str) -> str:
        return f"{self.prefix}-{region}-notifications"

    def topic_arn(self, region: str) -> str:
        return f"arn:aws:sns:{region}:{self.config.account}:{self.topic(region)}"

    def state_machine(self, region: str) -> str:
        return f"{self.prefix}-{region}-runbook"

    def state_machine_arn(self, region: str) -> str:
        return f"arn:aws:states:{region}:{self.config.account}:stateMachine:{self.state_machine(region)}"

    def function(self, region: str, purpose: str) -> str:
        return f"{self.prefix}-{region}-{purpose.replace('_', '-')}"

    def alarm(self, region: str, purpose: str) -> str:
        return f"{self.prefix}-{region}-{purpose}"

    def health_check(self, region: str, purpose: str) -> str:
        """``Name`` tag of a Route 53 health check of ``region``: purpose "load-balancer",
        "traffic-switch" or "region" (the calculated check of the failover record)."""
        return f"{self.prefix}-{region}-{purpose}"

    def failover_record_set_identifier(self, region: str) -> str:
        return f"{self.prefix}-{region}"

    def operator_role(self, region: str) -> str:
        return f"{self.prefix}-{region}-operator"

    @property
    def metrics_namespace(self) -> str:
        return "Switchyard"

    @property
    def lock_key(self) -> str:
        """Partition key of the one runbook lock per application and environment."""
        return f"lock#{self.config.application}"

    @property
    def desired_state_key(self) -> str:
        return f"desired#{self.config.application}"
