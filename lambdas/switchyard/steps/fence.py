"""fence: stop the old primary taking traffic and writes, before the promotion.

The one required action is a write into the TARGET region's replica of the desired
state: ``fenced_region=<old>`` at this run's epoch. The old region's traffic switch then
answers 503 and its reconciler scales it to the standby's warm minimum, whenever it
reads the newer epoch (replication), so nothing here needs the failing region.

The state table is multi-Region strongly consistent (MRSC): that one write is what every
region with a majority reads, the old region's replica included once it can answer, so
no second write goes through the old region's endpoint (one into a dark region cost the
critical path the controller's full connect timeouts and retries, about 9 s, for nothing).

Then, best-effort (short timeouts, one attempt, never blocking): the old region's ASG down
to the warm minimum, and its database
(switchyard.database_fence: snapshot any unsnapshotted lost writes, then stop an RDS old
primary that no longer has a replica / verify an Aurora writer was demoted). Before the
promotion the database is normally ``refused: has a replica`` (RDS) or ``still the
writer`` (Aurora): the old region's reconciler enforces it every minute afterwards. What
could and could not be fenced is in ``observed.fenced`` / ``observed.not_fenced``, and
every fence with how it was verified in ``observed.fences`` (the audit item keeps it):
``desired-state@``, ``asg@`` (the capacity the old group reports after the call),
``switch@`` (what the old region's switch answers over its own replica, read here) and
``database@``.
"""

from __future__ import annotations

from collections.abc import Callable

from switchyard.database_fence import preserve_then_fence
from switchyard.deps import RunbookDeps
from switchyard.handlers.traffic_switch import switch_answer
from switchyard.model import DesiredState, Severity, StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import StepRun, start


def fence_old_primary(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("fence", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    epoch = state.require_epoch()
    desired = run.read_desired()
    if desired is not None and desired.epoch > epoch:
        run.finding(
            "epoch", Severity.BLOCKER, f"a newer epoch {desired.epoch} exists; this run (epoch {epoch}) is stale"
        )
        return run.finish(StepStatus.NEEDS_HUMAN, f"superseded by epoch {desired.epoch}")
    already = desired is not None and desired.epoch == epoch and desired.fenced_region == run.source
    fence = DesiredState(
        active_region=desired.active_region if desired else run.source,
        epoch=epoch,
        fenced_region=run.source,
        updated_by=state.holder,
        reason=f"fence {run.source} for {state.request.action} to {run.target}: {state.request.reason}",
        updated_at=deps.now_iso(),
    )
    fenced: list[str] = []
    not_fenced: dict[str, str] = {}
    if already:
        fenced.append(f"desired-state@{run.target}")
    elif deps.state.write_desired(run.target, fence):
        fenced.append(f"desired-state@{run.target}")
        run.did(
            f"wrote fence of {run.source} at epoch {epoch} into {run.target}'s state table",
            "fenced old primary",
            fenced_region=run.source,
        )
    else:
        return run.finish(StepStatus.NEEDS_HUMAN, "a newer epoch appeared while fencing; this run is stale")
    warm_min = deps.config.capacity.standby_warm_min
    capacity: list[int] = []
    _best_effort(
        f"asg@{run.source}",
        lambda: capacity.append(deps.compute.set_desired(run.source, warm_min, best_effort=True)),
        fenced,
        not_fenced,
    )
    fences = {f"desired-state@{run.target}": f"fenced: epoch {epoch} written, {run.source} fenced"}
    if capacity:
        fences[f"asg@{run.source}"] = f"fenced: desired capacity {capacity[0]} (warm minimum {warm_min})"
    fences.update(_verify_switch(run, epoch))
    if already and not _flipped_by_this_run(state):  # a re-run: the old region's reconciler enforces it
        fences[f"database@{run.source}"] = f"pending: left to {run.source}'s reconciler (a re-run of this epoch)"
    else:  # this run's fence (a failover's FlipTrafficFirst wrote the epoch's fence just before)
        fences.update(_fence_database(run, epoch, fenced, not_fenced))
    for what, why in not_fenced.items():
        fences.setdefault(what, f"pending: {why}")
    run.observed.update({"fenced": fenced, "not_fenced": not_fenced, "fences": fences, "epoch": epoch})
    for what, why in not_fenced.items():
        run.finding("fence", Severity.WARNING, f"could not fence {what}: {why}")
    if already:
        return run.finish(StepStatus.NOOP, f"{run.source} already fenced at epoch {epoch}")
    return run.finish(StepStatus.DONE, f"fenced {run.source} at epoch {epoch} ({len(not_fenced)} best-effort misses)")


def _flipped_by_this_run(state: RunbookState) -> bool:
    """This execution's FlipTrafficFirst wrote the epoch's fence (with the new active region)."""
    first = state.result("flip_first")
    return first is not None and first.status is StepStatus.DONE


def _verify_switch(run: StepRun, epoch: int) -> dict[str, str]:
    """What the old region's traffic switch answers now: the switch's own verdict over a
    best-effort read of that region's replica. Unreadable from here proves nothing about
    there (pending): the switch there answers 200 only on its own strongly consistent read
    naming it active, and a region cut from the MRSC majority cannot read at all."""
    key = f"switch@{run.source}"
    try:
        desired = run.deps.state.read_desired(run.source, best_effort=True)
    except Exception as exc:  # noqa: BLE001 - best-effort against a possibly failed region
        return {key: f"pending: its replica is unreadable from here ({type(exc).__name__})"}
    status, _ = switch_answer(run.source, desired)
    if status == 200:
        seen = desired.epoch if desired else None
        return {key: f"pending: answers 200 (its replica is at epoch {seen}, not yet {epoch})"}
    return {key: f"fenced: answers {status} over its replica"}


def _fence_database(run: StepRun, epoch: int, fenced: list[str], not_fenced: dict[str, str]) -> dict[str, str]:
    """The old primary's database, best-effort (switchyard.database_fence)."""
    key = f"database@{run.source}"
    try:
        database = preserve_then_fence(run.deps, run.source, up_to_epoch=epoch, best_effort=True)
    except Exception as exc:  # noqa: BLE001 - best-effort against a possibly failed region
        not_fenced[key] = f"{type(exc).__name__}: {exc}"
        return {}
    if database.fenced:
        fenced.append(key)
    else:
        run.finding(
            "database-fence",
            Severity.INFO,
            f"{key} {database.label}; {run.source}'s reconciler enforces it every minute once it can",
        )
    if database.taken:
        run.did(f"snapshotted the old primary: {', '.join(database.taken)}", "snapshotted lost writes")
    if database.result and database.result.operation:
        run.did(f"{database.result.operation} {database.result.identifier}", "fenced old database")
    return {key: database.label}


def _best_effort(what: str, action: Callable[[], object], fenced: list[str], not_fenced: dict[str, str]) -> None:
    try:
        outcome = action()
    except Exception as exc:  # noqa: BLE001 - best-effort against a possibly failed region
        not_fenced[what] = f"{type(exc).__name__}: {exc}"
        return
    if outcome is False:
        not_fenced[what] = "refused: that replica holds a newer epoch"
    else:
        fenced.append(what)
