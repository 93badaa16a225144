"""Constant work for one region: converge its ASG to the capacity its role needs now.

Reads this region's replica of the desired state every run, whether or not anything
changed, and writes this region's heartbeat (the other region's data-freshness signal).
Active: the primary's size (``primary_desired``) in the configured primary,
``standby_scale_up_target`` in the configured standby. Not active or fenced: the warm
minimum. While a runbook holds the lock it only scales up, never down, so it cannot
undo a failover's scale-up before the flip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchyard.deps import RunbookDeps
from switchyard.model import DesiredState


@dataclass(frozen=True)
class Convergence:
    role: str
    wanted: int
    before: int
    after: int
    runbook_in_progress: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "wanted": self.wanted,
            "before": self.before,
            "after": self.after,
            "runbook_in_progress": self.runbook_in_progress,
        }


def wanted_capacity(deps: RunbookDeps, desired: DesiredState | None) -> tuple[str, int]:
    capacity, region = deps.config.capacity, deps.region
    if desired is None or desired.active_region != region or desired.fenced_region == region:
        return "standby", capacity.standby_warm_min
    if region == deps.config.regions.primary:
        return "active", capacity.primary_desired
    return "active", capacity.standby_scale_up_target


def reconcile_region(deps: RunbookDeps) -> Convergence:
    deps.state.write_heartbeat(deps.region, at=deps.now_iso())  # data freshness, read by the other region
    desired = deps.state.read_desired(deps.region)
    role, wanted = wanted_capacity(deps, desired)
    lock = deps.state.read_lock(deps.region)
    in_progress = lock is not None and lock.held
    group = deps.compute.describe(deps.region)
    after = group.desired
    if group.desired < wanted or (group.desired > wanted and not in_progress):
        after = deps.compute.set_desired(deps.region, wanted)
    return Convergence(role, wanted, group.desired, after, in_progress)
