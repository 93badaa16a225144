"""wait_ready: check ONCE whether the target is ready (database writable and available, ASG at
its wanted InService count) and return; the state machine does the waiting.

Not ready yet -> ``waiting``: the runbook's Wait state (``READINESS_POLL_SECONDS``) brings it
back here. The wait ends at a deadline from the configuration, not at the end of a retry
budget: ``database.max_promotion_seconds`` (the longest promotion the operator accepts)
counted from when this epoch's promotion was issued (``issued_at`` of its promotion record)
or, when none was issued (the target was already the writer, or a promotion someone else
sent was running), from this run's first check. Past it -> ``needs_human`` naming what is
still missing and the deadline; the runbook then stops after changes (FailedAfterChanges).

The deadline and the count of checks travel in this step's own result (``observed``), which
the state machine hands back on the next check, so nothing else stores the loop's state.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from switchyard.deps import RunbookDeps
from switchyard.model import StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import StepRun, start
from switchyard.steps.readiness import target_readiness


def wait_until_ready(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("wait_ready", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    previous = state.result("wait_ready")
    checks = int(previous.observed.get("checks", 0)) + 1 if previous is not None else 1
    deadline, basis = _deadline(run, previous.observed if previous is not None else {})
    readiness = target_readiness(deps, run.target)
    run.observed.update(
        {**readiness.observed, "checks": checks, "deadline": deadline.isoformat(), "deadline_basis": basis}
    )
    if readiness.ready:
        status = StepStatus.NOOP if checks == 1 else StepStatus.DONE
        return run.finish(status, f"{run.target} ready after {checks} check(s)")
    missing = "; ".join(readiness.missing)
    limit = deps.config.database.max_promotion_seconds
    if deps.clock() >= deadline:
        message = (
            f"{run.target} not ready by the deadline {deadline.isoformat()} (database.max_promotion_seconds = "
            f"{limit} s from {basis}): still missing {missing}. Check the database and the scale-up, then finish "
            "by hand (runbooks/manual-failover.md)"
        )
        return run.needs_human("readiness-deadline", message, checks=checks)
    return run.finish(
        StepStatus.WAITING, f"{run.target} not ready yet (check {checks}, until {deadline.isoformat()}): {missing}"
    )


def _deadline(run: StepRun, previous: dict[str, object]) -> tuple[datetime, str]:
    """When the wait ends, and from what it counts: the previous check's answer, else this
    epoch's promotion record, else now (the wait begins)."""
    if isinstance(previous.get("deadline"), str) and isinstance(previous.get("deadline_basis"), str):
        return datetime.fromisoformat(str(previous["deadline"])), str(previous["deadline_basis"])
    limit = timedelta(seconds=run.deps.config.database.max_promotion_seconds)
    record = run.deps.state.read_promotion(run.target, epoch=run.state.require_epoch())
    issued_at = record.get("issued_at") if record is not None else None
    if isinstance(issued_at, str):
        return datetime.fromisoformat(issued_at) + limit, f"the promotion issued at {issued_at}"
    began = run.deps.clock()
    return began + limit, f"the wait that began at {began.isoformat()} (no promotion issued by this run)"
