"""The controller's vocabulary: actions, operator input, desired state, findings and
step results. Pydantic models so every event and input is validated at the edge."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard.config import REGION_PATTERN, EnvironmentConfig


class Action(StrEnum):
    FAILOVER = "failover"  # unplanned: the active region is failing
    SWITCHOVER = "switchover"  # planned: active region healthy, RPO 0
    FAILBACK = "failback"  # planned return to the original primary once it is a replica again
    # rebuild the old primary as a replica of the active region and wait for its catch-up;
    # moves no traffic (the failback stays a separate, approved run)
    PREPARE_FAILBACK = "prepare-failback"
    DRY_RUN = "dry-run"  # every check, zero mutating calls

    @property
    def is_planned(self) -> bool:
        return self in (Action.SWITCHOVER, Action.FAILBACK)

    @property
    def mutates(self) -> bool:
        return self is not Action.DRY_RUN


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    BLOCKER = "blocker"


class StepStatus(StrEnum):
    DONE = "done"  # the step changed something and the change is in place
    NOOP = "noop"  # observed the work already done; changed nothing
    SKIPPED = "skipped"  # not applicable to this action (e.g. dry run)
    NEEDS_HUMAN = "needs_human"  # stopped safely; a person must decide (message says what)
    WAITING = "waiting"  # not there yet and still within its deadline: the state machine asks again later
    FAILED = "failed"  # could not do it; retrying may help


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunbookInput(_Strict):
    """What an operator, the monitor or the drill asks the runbook to do.

    Validated before the first mutating call; ``target_region`` is checked against the
    configured pair by :func:`validate_for`.
    """

    action: Action
    target_region: str = Field(pattern=REGION_PATTERN)
    reason: str = Field(min_length=3, max_length=500)
    incident_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", description="safe in execution names")
    requested_by: str = Field(min_length=1, max_length=128, pattern=r"^[\w.@:/+=,-]+$")

    def validate_for(self, config: EnvironmentConfig, active_region: str) -> None:
        """Raise ValueError when this request does not fit the environment's state."""
        config.regions.other(self.target_region)  # raises for a region outside the pair
        if self.action is not Action.DRY_RUN and self.target_region == active_region:
            raise ValueError(f"target_region {self.target_region!r} is already the active region")
        primary = config.regions.primary
        if self.action in (Action.FAILBACK, Action.PREPARE_FAILBACK) and self.target_region != primary:
            raise ValueError(f"{self.action} returns to the configured primary {primary!r}, not {self.target_region!r}")


class DesiredState(_Strict):
    """Which region serves traffic, at which epoch; one item in the global state table."""

    active_region: str
    epoch: int = Field(ge=0)
    fenced_region: str | None = None
    updated_by: str
    reason: str
    updated_at: str  # ISO 8601 UTC


class Finding(_Strict):
    check: str
    severity: Severity
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class StepResult(_Strict):
    """What every runbook step returns: what it saw, what it did, how long it took."""

    step: str
    status: StepStatus
    message: str
    observed: dict[str, Any] = Field(default_factory=dict)
    actions: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    duration_ms: int = Field(ge=0)

    @property
    def ok(self) -> bool:
        return self.status in (StepStatus.DONE, StepStatus.NOOP, StepStatus.SKIPPED)


class Decision(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAIL_OVER = "fail_over"
    # the watched region failed with quorum, but the region it would fail over to is failing
    # too: no failover (it would move traffic onto a sick region), a human is paged
    BOTH_UNHEALTHY = "both_unhealthy"


Role = Literal["primary", "standby"]
