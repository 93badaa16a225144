"""What every step shares: timing, the regions it works on, building its result."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from switchyard.deps import RunbookDeps
from switchyard.model import Action, DesiredState, Finding, Severity, StepResult, StepStatus
from switchyard.runbook_state import RunbookState

logger = logging.getLogger("switchyard.steps")  # a child of the handlers' Powertools logger


class RetryableStepError(RuntimeError):
    """The step could not finish for a reason worth retrying (throttling, 5xx, timeouts,
    not ready yet). The state machine matches this name in its Retry policy."""


@dataclass
class StepRun:
    """One execution of one step: what it observed and did, and when it started."""

    step: str
    state: RunbookState
    deps: RunbookDeps
    started: float = field(default_factory=time.monotonic)
    observed: dict[str, Any] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def target(self) -> str:
        """The region becoming active (its table replica is the one steps write)."""
        return self.state.request.target_region

    @property
    def source(self) -> str:
        """The region traffic moves away from (the old primary)."""
        return self.deps.config.regions.other(self.target)

    @property
    def action(self) -> Action:
        return self.state.request.action

    def read_desired(self, key: str = "desired_before") -> DesiredState | None:
        """The target region's desired state, recorded in ``observed[key]``."""
        desired = self.deps.state.read_desired(self.target)
        self.observed[key] = desired.model_dump() if desired else None
        return desired

    def did(self, action: str, event: str, **fields: Any) -> None:
        """Record a change this step made: in its result, and as a structured log line."""
        self.actions.append(action)
        logger.info(event, extra={"step": self.step, "target": self.target, "epoch": self.state.epoch, **fields})

    def finding(self, check: str, severity: Severity, message: str, **details: Any) -> None:
        self.findings.append(Finding(check=check, severity=severity, message=message, details=details))

    def needs_human(self, check: str, message: str, **details: Any) -> StepResult:
        """Stop for a human: ``message`` as a blocking finding of ``check`` and as the result."""
        self.finding(check, Severity.BLOCKER, message, **details)
        return self.finish(StepStatus.NEEDS_HUMAN, message)

    def finish(self, status: StepStatus, message: str) -> StepResult:
        return StepResult(
            step=self.step,
            status=status,
            message=message,
            observed=self.observed,
            actions=self.actions,
            findings=self.findings,
            duration_ms=max(0, int((time.monotonic() - self.started) * 1000)),
        )

    def skip_dry_run(self) -> StepResult | None:
        """A dry run changes nothing: mutating steps return SKIPPED."""
        if self.action.mutates:
            return None
        return self.finish(StepStatus.SKIPPED, "dry run: no changes")


def start(step: str, state: RunbookState, deps: RunbookDeps) -> StepRun:
    return StepRun(step=step, state=state, deps=deps)
