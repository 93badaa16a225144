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

A fenced region also fences its own database (switchyard.database_fence): the writes a
data-losing promotion may have lost are snapshotted first, then the old primary is stopped
(RDS) or verified demoted (Aurora), every run, since nothing else stops a returning old
primary taking writes and AWS restarts a stopped instance after 7 days. Each fence and
how it was verified is in the result's ``fences`` (``desired-state@``, ``asg@``,
``switch@``, ``database@``); a database that may still take writes while no runbook is in
progress is ``needs_human`` (the handler pages).

The heartbeat is written first and on its own (the monitor also writes it at every
evaluation, at the sub-minute cadence: switchyard.heartbeat; this once-a-minute write is
kept so a region whose monitor is broken still reports its controller alive, and so a
heartbeat that cannot be written fails this function and raises its error alarm): it says
"this region's controller runs and can write its replica", which is true whatever the
desired state says. Written
before the read, a slow or failing read (retries, timeouts) can neither delay nor
suppress it; if it were skipped when the item is unreadable here, the other region's
monitor would count a stale heartbeat against a region that is in fact up. A heartbeat
that cannot be written does not stop the convergence either (fencing this region matters
more than reporting it alive): it is returned, and the handler logs it and fails.

Last, after the real work and whatever it found, every run outside the active region
(standby, fenced, or no desired state: a runbook runs in the region it moves traffic to)
warms each runbook step function of this region (an asynchronous invoke of
``WARM_UP_EVENT``, which the step handler answers at once): the steps a failover runs then
start in a warm execution environment instead of paying a cold start each on the critical
path. It is constant work (the same calls every minute in a region that is not active,
whatever else the state) and best-effort: a warm-up that fails is returned in
``warm_up_failures`` (function name -> error; the handler logs and counts it) and never
fails or delays the convergence, which has already run. A step function that cannot even
be invoked (a bad deploy) shows up there every minute, not during an incident.

Every run also reads the image this region's launch template launches (AMIs are regional:
a standby without its copy of the image cannot scale up when it is needed). It changes
nothing: an image that is missing or not ``available`` is in the result's ``image`` (the
handler logs it and counts ``IMAGE_UNAVAILABLE_METRIC``), and an unreadable one in
``image_error``; neither fails or delays the convergence.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from switchyard.adapters.compute import ImageStatus
from switchyard.contract import STEP_NAMES
from switchyard.database_fence import DatabaseFence, preserve_then_fence
from switchyard.deps import RunbookDeps
from switchyard.desired_state import DesiredStateUnavailable, read_local_desired
from switchyard.handlers.traffic_switch import switch_answer
from switchyard.heartbeat import write_heartbeat
from switchyard.model import DesiredState
from switchyard.retry import RETRYABLE_TRANSPORT_ERRORS, error_code

UNKNOWN_ROLE = "unknown"  # no desired state: the reconciler does not guess a role
IMAGE_UNAVAILABLE_METRIC = "ImageUnavailable"  # 1 when this region's launch image is missing or not available
ACTIVE_ROLE = "active"


@dataclass(frozen=True)
class Convergence:
    role: str
    wanted: int | None
    before: int | None
    after: int | None
    runbook_in_progress: bool
    desired_state: DesiredStateUnavailable | None = None  # set when nothing was converged for lack of it
    heartbeat_error: str | None = None  # "<code>: <message>" when the heartbeat could not be written
    fences: dict[str, str] | None = None  # this region fenced: each fence and how it was verified
    database_fence: DatabaseFence | None = None
    warm_up_failures: dict[str, str] | None = None  # step function name -> "<code>: <message>"; {} all warmed
    image: ImageStatus | None = None  # the image this region's launch template launches (None: not read)
    image_error: str | None = None  # "<code>: <message>" when the image could not be read

    @property
    def changed(self) -> bool:
        return self.after != self.before

    @property
    def image_unavailable(self) -> bool:
        """The image was read and cannot launch here (missing, or not ``available``)."""
        return self.image is not None and not self.image.available

    @property
    def needs_human(self) -> bool:
        """This fenced region's database may take writes and no runbook is moving it."""
        return self.database_fence is not None and self.database_fence.refused and not self.runbook_in_progress

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "wanted": self.wanted,
            "before": self.before,
            "after": self.after,
            "runbook_in_progress": self.runbook_in_progress,
            "desired_state": self.desired_state.as_dict() if self.desired_state else None,
            "heartbeat_error": self.heartbeat_error,
            "fences": self.fences,
            "database_fence": self.database_fence.as_dict() if self.database_fence else None,
            "needs_human": self.needs_human,
            "warm_up_failures": self.warm_up_failures,
            "image": self.image.as_observed() if self.image else None,
            "image_error": self.image_error,
        }


def wanted_capacity(deps: RunbookDeps, desired: DesiredState) -> tuple[str, int]:
    capacity, region = deps.config.capacity, deps.region
    if desired.active_region != region or desired.fenced_region == region:
        return "standby", capacity.standby_warm_min
    if region == deps.config.regions.primary:
        return ACTIVE_ROLE, capacity.primary_desired
    return ACTIVE_ROLE, capacity.standby_scale_up_target


def reconcile_region(deps: RunbookDeps) -> Convergence:
    """Converge this region (heartbeat, capacity, fences), then warm its step functions
    unless it is the active region: a runbook runs in the region it moves traffic to, never
    in the active one, so warming there buys nothing (``warm_up_failures`` stays None)."""
    convergence = replace(converge_region(deps), **check_image(deps))
    if convergence.role == ACTIVE_ROLE:
        return convergence
    return replace(convergence, warm_up_failures=warm_up_steps(deps))


def check_image(deps: RunbookDeps) -> dict[str, Any]:
    """This region's launch image (``image``), or why it could not be read (``image_error``).
    Never raises and changes nothing: a read-only, constant-work check."""
    try:
        return {"image": deps.compute.image(deps.region)}
    except Exception as exc:  # noqa: BLE001 - reported in the result, never fails the reconciler
        return {"image_error": f"{error_code(exc) or type(exc).__name__}: {exc}"}


def warm_up_steps(deps: RunbookDeps) -> dict[str, str]:
    """Queue a warm-up of every runbook step function in this region; the ones that failed,
    by function name, with the error. Never raises: a warm-up is best-effort. Once Lambda's
    endpoint does not answer (a connection error or timeout), the rest are not tried: each
    would wait out the same timeout, and the reconciler's own time is bounded."""
    failures: dict[str, str] = {}
    unreachable: str | None = None
    for step in STEP_NAMES:
        function = deps.names.function(deps.region, step)
        if unreachable is not None:
            failures[function] = f"not tried: {unreachable}"
            continue
        try:
            deps.function_warmer.warm(deps.region, step)
        except Exception as exc:  # noqa: BLE001 - best-effort: reported, never fails the reconciler
            failures[function] = f"{error_code(exc) or type(exc).__name__}: {exc}"
            if isinstance(exc, RETRYABLE_TRANSPORT_ERRORS):
                unreachable = failures[function]
    return failures


def converge_region(deps: RunbookDeps) -> Convergence:
    """The heartbeat, then this region's capacity and fences for the desired state."""
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
    convergence = Convergence(role, wanted, group.desired, after, in_progress, None, heartbeat_error)
    if desired.fenced_region != deps.region:
        return convergence
    up_to_epoch = max(desired.epoch, lock.epoch if lock else 0)
    database = preserve_then_fence(deps, deps.region, up_to_epoch=up_to_epoch)
    fences = fences_verified(deps.region, desired, wanted=wanted, after=after, database=database)
    return replace(convergence, fences=fences, database_fence=database)


def fences_verified(
    region: str, desired: DesiredState, *, wanted: int, after: int, database: DatabaseFence
) -> dict[str, str]:
    """Each fence of the fenced ``region`` and how it was verified this run."""
    status, _ = switch_answer(region, desired)
    switch = f"fenced: answers {status} on this read" if status != 200 else "refused: answers 200"
    asg = f"fenced: desired {after} = warm minimum" if after <= wanted else f"pending: desired {after} > {wanted}"
    return {
        f"desired-state@{region}": f"fenced: epoch {desired.epoch} names {region} fenced (consistent read)",
        f"switch@{region}": switch,
        f"asg@{region}": asg,
        database.key: database.label,
    }
