"""Constant work for one region: converge its ASG to the capacity its role needs now.

Reads this region's replica of the desired state every run, whether or not anything
changed, and writes this region's heartbeat (the other region's data-freshness signal).
Active: the primary's size (``primary_desired``) in the configured primary,
``standby_scale_up_target`` in the configured standby. Not active or fenced: the warm
minimum. While a runbook holds the lock it only scales up, never down, so it cannot
undo a failover's scale-up before the flip.

No desired state (the item is missing, or this region cannot read it) means "change
nothing": no capacity change in either direction, no fence. Guessing "standby" would
scale a healthy primary down to the warm minimum.

The heartbeat is written first and on its own: it says "this region's controller runs
and can write its replica", which is true whatever the desired state says. Written
before the read, a slow or failing read (retries, timeouts) can neither delay nor
suppress it; if it were skipped when the item is unreadable here, the other region's
monitor would count a stale heartbeat against a region that is in fact up. A heartbeat
that cannot be written does not stop the convergence either (fencing this region matters
more than reporting it alive): it is returned, and the handler logs it and fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from switchyard.deps import RunbookDeps
from switchyard.desired_state import DesiredStateUnavailable, read_local_desired
from switchyard.model import DesiredState
from switchyard.retry import error_code

UNKNOWN_ROLE = "unknown"  # no desired state: the reconciler does not guess a role


@dataclass(frozen=True)
class Convergence:
    role: str
    wanted: int | None
    before: int | None
    after: int | None
    runbook_in_progress: bool
    desired_state: DesiredStateUnavailable | None = None  # set when nothing was converged for lack of it
    heartbeat_error: str | None = None  # "<code>: <message>" when the heartbeat could not be written

    @property
    def changed(self) -> bool:
        return self.after != self.before

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "wanted": self.wanted,
            "before": self.before,
            "after": self.after,
            "runbook_in_progress": self.runbook_in_progress,
            "desired_state": self.desired_state.as_dict() if self.desired_state else None,
            "heartbeat_error": self.heartbeat_error,
        }


def wanted_capacity(deps: RunbookDeps, desired: DesiredState) -> tuple[str, int]:
    capacity, region = deps.config.capacity, deps.region
    if desired.active_region != region or desired.fenced_region == region:
        return "standby", capacity.standby_warm_min
    if region == deps.config.regions.primary:
        return "active", capacity.primary_desired
    return "active", capacity.standby_scale_up_target


def write_heartbeat(deps: RunbookDeps) -> str | None:
    """This region's heartbeat into its own replica; the error (code and message) if it failed."""
    try:
        deps.state.write_heartbeat(deps.region, at=deps.now_iso())
    except (ClientError, BotoCoreError) as exc:
        return f"{error_code(exc) or type(exc).__name__}: {exc}"
    return None


def reconcile_region(deps: RunbookDeps) -> Convergence:
    heartbeat_error = write_heartbeat(deps)  # first and regardless: see the module docstring
    desired = read_local_desired(deps)
    if isinstance(desired, DesiredStateUnavailable):
        return Convergence(UNKNOWN_ROLE, None, None, None, False, desired, heartbeat_error)
    role, wanted = wanted_capacity(deps, desired)
    lock = deps.state.read_lock(deps.region)
    in_progress = lock is not None and lock.held
    group = deps.compute.describe(deps.region)
    after = group.desired
    if group.desired < wanted or (group.desired > wanted and not in_progress):
        after = deps.compute.set_desired(deps.region, wanted)
    return Convergence(role, wanted, group.desired, after, in_progress, None, heartbeat_error)
