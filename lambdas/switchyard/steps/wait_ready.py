"""wait_ready: poll (bounded, injected sleep) until the target database is writable and
available and its ASG has the wanted InService count. Still not ready at the end of the
polls -> RetryableStepError, so the state machine's bounded Retry keeps waiting."""

from __future__ import annotations

from switchyard.deps import RunbookDeps
from switchyard.model import StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import RetryableStepError, start
from switchyard.steps.readiness import target_readiness


def wait_until_ready(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("wait_ready", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    polling = deps.readiness
    for poll in range(1, polling.attempts + 1):
        readiness = target_readiness(deps, run.target)
        run.observed.update({**readiness.observed, "polls": poll})
        if readiness.ready:
            status = StepStatus.NOOP if poll == 1 else StepStatus.DONE
            return run.finish(status, f"{run.target} ready after {poll} poll(s)")
        if poll < polling.attempts:
            deps.sleep(polling.interval_seconds)
    raise RetryableStepError(f"{run.target} not ready after {polling.attempts} polls: {'; '.join(readiness.missing)}")
