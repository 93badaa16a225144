"""scale_up: the target region's ASG to ``capacity.standby_scale_up_target``, never above
its max. Runs alongside fence and promote (the state machine's Parallel branch)."""

from __future__ import annotations

from switchyard.deps import RunbookDeps
from switchyard.model import Severity, StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import start


def scale_up_standby(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("scale_up", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    group = deps.compute.describe(run.target)
    run.observed["before"] = group.as_observed()
    if not group.exists:
        run.finding("target-asg", Severity.BLOCKER, f"no Auto Scaling group {group.name} in {run.target}")
        return run.finish(StepStatus.NEEDS_HUMAN, f"no Auto Scaling group to scale in {run.target}")
    wanted = min(deps.config.capacity.standby_scale_up_target, group.max_size)
    run.observed["wanted"] = wanted
    if group.desired >= wanted:
        return run.finish(StepStatus.NOOP, f"{group.name} already wants {group.desired} (target {wanted})")
    capacity = deps.compute.set_desired(run.target, wanted)
    run.did(
        f"set {group.name} desired capacity {group.desired} -> {capacity}",
        "scaled up standby",
        asg=group.name,
        desired=capacity,
    )
    return run.finish(StepStatus.DONE, f"{group.name} scaling to {capacity}")
