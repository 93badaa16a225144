"""The runbook state document the state machine passes between step handlers.

Shape (docs/architecture.md): ``{"request", "execution", "epoch", "results"}`` plus an
optional ``approval`` an operator adds when a failover needs one (replication lag above
the RPO budget or unknown, or manual mode). Additive to switchyard.model: RunbookInput
is reused unchanged. Unknown fields are rejected so a typo never passes silently.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from switchyard.model import RunbookInput, StepResult


class Approval(BaseModel):
    """A person's explicit go-ahead for a failover that may lose data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approved_by: str = Field(min_length=1, max_length=128)
    approved_at: datetime
    note: str = Field(min_length=3, max_length=500, description="should state the lag the approver accepted")


class RunbookState(BaseModel):
    """The whole document each step handler receives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request: RunbookInput
    execution: str | None = Field(
        default=None,
        pattern=r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/]{1,80}$",
        description="the Step Functions execution name (its character rules)",
    )
    epoch: int | None = Field(default=None, ge=0)
    results: dict[str, StepResult] = Field(default_factory=dict)
    approval: Approval | None = None

    def result(self, step: str) -> StepResult | None:
        return self.results.get(step)

    def require_epoch(self) -> int:
        """The lock's epoch; steps after ``lock`` cannot run without it."""
        if self.epoch is None:
            raise ValueError("the runbook state has no epoch: the lock step must run first")
        return self.epoch

    def with_result(self, result: StepResult) -> RunbookState:
        return self.model_copy(update={"results": {**self.results, result.step: result}})

    @property
    def holder(self) -> str:
        """Who holds the lock for this run: the execution name, else the incident id."""
        return self.execution or f"{self.request.requested_by}:{self.request.incident_id}"
