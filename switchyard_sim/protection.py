"""FakeProtection: the in-memory stand-in for ``switchyard.adapters.protection.AwsProtection``.

Kept beside ``switchyard_sim.memory`` (which wires it into ``fake_deps``) so its scripted
answers read next to the adapter they replace.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from switchyard.adapters.protection import RecoveryPoints, ReplicationHealth

DEFAULT_RECOVERY_POINT_AGE = timedelta(hours=1)


class FakeProtection:
    """Stands in for ``AwsProtection``: the replication health of the rule into each region's
    bucket and the newest recovery point in each region's vault, as a test scripts them.

    Defaults: every rule caught up (0 s latency, 0 pending, observed now) and every vault
    holding a completed recovery point ``DEFAULT_RECOVERY_POINT_AGE`` old. Not modelled:
    CloudWatch's publication delay, pagination, which resource a recovery point is of (any
    ``resource_arn`` asked for gets the region's scripted answer; ``asked`` records it).
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._replication: dict[str, tuple[float | None, float | None, str | None]] = {}
        self._recovery_points: dict[str, tuple[timedelta | None, bool, str | None]] = {}
        self.asked: list[tuple[str, str]] = []  # (vault region, resource ARN)

    def set_replication(
        self, destination_region: str, *, latency_seconds: float | None, pending_operations: float | None
    ) -> None:
        """The rule into ``destination_region``'s bucket reports these (None: no datapoint)."""
        self._replication[destination_region] = (latency_seconds, pending_operations, None)

    def replication_unreadable(self, destination_region: str, error: str) -> None:
        self._replication[destination_region] = (None, None, error)

    def set_recovery_point(self, region: str, *, age: timedelta | None, vault_exists: bool = True) -> None:
        """The newest completed recovery point in ``region``'s vault is ``age`` old (None: none)."""
        self._recovery_points[region] = (age, vault_exists, None)

    def recovery_points_unreadable(self, region: str, error: str) -> None:
        self._recovery_points[region] = (None, False, error)

    def replication(self, source_region: str, destination_region: str) -> ReplicationHealth:
        latency, pending, error = self._replication.get(destination_region, (0.0, 0.0, None))
        known = latency is not None or pending is not None
        return ReplicationHealth(
            source_bucket=f"bucket-{source_region}",
            destination_bucket=f"bucket-{destination_region}",
            rule_id=f"to-{destination_region}",
            latency_seconds=latency,
            pending_operations=pending,
            observed_at=self._clock() if known else None,
            error=error,
        )

    def newest_recovery_point(self, region: str, resource_arn: str) -> RecoveryPoints:
        self.asked.append((region, resource_arn))
        age, vault_exists, error = self._recovery_points.get(region, (DEFAULT_RECOVERY_POINT_AGE, True, None))
        newest = None if age is None else self._clock() - age
        return RecoveryPoints(
            vault=f"vault-{region}",
            region=region,
            resource_arn=resource_arn,
            vault_exists=vault_exists,
            newest_created_at=newest,
            completed=0 if newest is None else 1,
            error=error,
        )
