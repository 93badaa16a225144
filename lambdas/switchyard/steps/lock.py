"""lock: take the one runbook lock of the application, with a new epoch.

The epoch (fencing token) is above both the lock's last epoch and the desired state's,
so every write of this run outranks what came before. The holder is the execution ARN
(:attr:`RunbookState.holder`), unique across regions: the same execution re-acquiring
gets its own epoch back (a retried or re-driven step), while a run of the same name
started in the other region's state machine is another holder and gets ``needs_human``.

The lock item lives in the target region's replica of the global table, and a
conditional write is only atomic within one replica. So before taking it, the step also
peeks (best-effort, short timeout) at the other region's replica: a run in progress
there stops this one. That narrows, but cannot close, the window in which two regions'
runbooks both take a lock (closing it needs a multi-Region strongly consistent table).
"""

from __future__ import annotations

from switchyard.adapters.state import LockHeldError, LockRecord
from switchyard.deps import RunbookDeps
from switchyard.model import Severity, StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import StepRun, start


def take_runbook_lock(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("lock", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    desired = deps.state.read_desired(run.target)
    elsewhere = _lock_held_in_other_region(run)
    if elsewhere is not None:
        run.observed.update({"holder": elsewhere.holder, "epoch": elsewhere.epoch, "held_in": run.source})
        message = f"a runbook holds the lock in {run.source}'s replica: {elsewhere.holder} at epoch {elsewhere.epoch}"
        return run.needs_human("lock", message)
    before = deps.state.read_lock(run.target)
    try:
        lock = deps.state.acquire_lock(
            run.target, holder=state.holder, now=deps.now_iso(), min_epoch=desired.epoch if desired else 0
        )
    except LockHeldError as exc:
        run.observed.update({"holder": exc.holder, "epoch": exc.epoch})
        run.finding("lock", Severity.BLOCKER, str(exc), holder=exc.holder, epoch=exc.epoch)
        return run.finish(StepStatus.NEEDS_HUMAN, f"another runbook holds the lock: {exc.holder}")
    run.observed.update({"holder": lock.holder, "epoch": lock.epoch, "held": lock.held})
    if before is not None and before.holder == lock.holder and before.epoch == lock.epoch:
        return run.finish(StepStatus.NOOP, f"lock already held by this run at epoch {lock.epoch}")
    run.did(f"acquired lock at epoch {lock.epoch}", "acquired runbook lock", lock_epoch=lock.epoch)
    return run.finish(StepStatus.DONE, f"lock acquired at epoch {lock.epoch}")


def _lock_held_in_other_region(run: StepRun) -> LockRecord | None:
    """Another holder's lock as the other region's replica has it; None when free or unreadable."""
    try:
        lock = run.deps.state.read_lock(run.source, best_effort=True)
    except Exception:  # noqa: BLE001 - the other region may be the failed one: never required
        return None
    if lock is None or not lock.held or lock.holder == run.state.holder:
        return None
    return lock
