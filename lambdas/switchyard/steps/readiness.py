"""What "ready" means for the target region, shared by wait_ready and verify."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchyard.deps import RunbookDeps


@dataclass(frozen=True)
class Readiness:
    ready: bool
    observed: dict[str, Any]
    missing: list[str] = field(default_factory=list)


def target_readiness(deps: RunbookDeps, region: str) -> Readiness:
    """Database writable and available; ASG InService count at its wanted capacity."""
    database = deps.database.describe(region)
    group = deps.compute.describe(region)
    wanted = min(deps.config.capacity.standby_scale_up_target, group.max_size)
    missing = []
    if not (database.writable and database.available):
        missing.append(
            f"database {database.identifier} writable+available (is {database.status}, writable={database.writable})"
        )
    if group.in_service < wanted:
        missing.append(f"{group.name} InService {group.in_service}/{wanted}")
    observed = {"database": database.as_observed(), "asg": group.as_observed(), "wanted_in_service": wanted}
    return Readiness(not missing, observed, missing)
