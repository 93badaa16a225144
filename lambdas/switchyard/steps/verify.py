"""verify: re-read everything the runbook changed; anything off -> ``needs_human``."""

from __future__ import annotations

from switchyard.deps import RunbookDeps
from switchyard.model import Severity, StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import start
from switchyard.steps.readiness import target_readiness


def verify_failover(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("verify", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    epoch = state.require_epoch()
    desired = run.read_desired("desired")
    readiness = target_readiness(deps, run.target)
    run.observed.update(readiness.observed)
    problems = list(readiness.missing)
    if desired is None or desired.active_region != run.target or desired.epoch != epoch:
        problems.append(f"desired state is not active={run.target} at epoch {epoch}")
    if desired is not None and desired.fenced_region != run.source:
        problems.append(f"{run.source} is not fenced")
    for problem in problems:
        run.finding("verify", Severity.BLOCKER, problem)
    if problems:
        return run.finish(StepStatus.NEEDS_HUMAN, f"not as intended: {'; '.join(problems)}")
    return run.finish(StepStatus.NOOP, f"{run.target} active at epoch {epoch}, writable and scaled")
