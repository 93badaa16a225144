"""release: hand back the runbook lock (the epoch stays; the next run goes above it).

Runs at the end of a successful run. On the ``needs_human`` path the state machine
should leave the lock held so nothing automatic runs before a person looked. Only the
holder releases: the same execution ARN (a same-named run of the other region is not it)."""

from __future__ import annotations

from switchyard.deps import RunbookDeps
from switchyard.model import StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import start


def release_runbook_lock(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("release", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    lock = deps.state.read_lock(run.target)
    run.observed["lock"] = None if lock is None else {"holder": lock.holder, "epoch": lock.epoch, "held": lock.held}
    if lock is None or lock.holder != state.holder or not lock.held:
        return run.finish(StepStatus.NOOP, "this run holds no lock")
    if deps.state.release_lock(run.target, holder=state.holder, now=deps.now_iso()):
        run.did(f"released lock at epoch {lock.epoch}", "released runbook lock", lock_epoch=lock.epoch)
        return run.finish(StepStatus.DONE, f"lock released (epoch {lock.epoch})")
    return run.finish(StepStatus.NOOP, "the lock changed hands meanwhile; nothing released")
