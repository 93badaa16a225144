"""The runbook state document the state machine passes between step handlers.

Shape (docs/architecture.md): ``{"request", "execution", "epoch", "results"}`` plus an
optional ``approval`` an operator adds when a failover needs one (replication lag above
the RPO budget or unknown, or manual mode). Additive to switchyard.model: RunbookInput
is reused unchanged. Unknown fields are rejected so a typo never passes silently, and
every field is strict (switchyard.model: Count, Timestamp, Identity, FreeText).

Whether an approval holds (four eyes, age, accepted lag) is one pure rule here,
:func:`approval_problems`, which the promote step enforces and the CLI checks early.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from switchyard.model import (
    EXECUTION_NAME_PATTERN,
    Action,
    Count,
    FreeText,
    Identity,
    RunbookInput,
    Seconds,
    StepResult,
    Timestamp,
    refuse_oversized,
)

# A Step Functions execution ARN, ``arn:<partition>:states:<region>:<account>:execution:
# <state machine>:<execution name>``. The state machine is Switchyard's (its names keep to
# switchyard.model.EXECUTION_NAME_PATTERN); the execution may have been named by a person
# (runbooks/README.md starts one with the AWS CLI), so its name is what StartExecution
# accepts (no whitespace, brackets, wildcards, ``"#%\\^|~`$&,;:/`` or control characters;
# StartExecution API reference, ``name``) in ASCII only: letters, digits and ``!'()+.=@_-``.
_STATE_MACHINE_NAME = EXECUTION_NAME_PATTERN.strip("^$")
_EXECUTION_NAME = r"[A-Za-z0-9!'()+.=@_-]{1,80}"
EXECUTION_ARN_PATTERN = (
    rf"^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{{12}}:execution:{_STATE_MACHINE_NAME}:{_EXECUTION_NAME}$"
)
# The whole state document travels as a Step Functions payload, whose quota is 256 KiB
# (Step Functions service quotas, "Maximum input or output size for a task, state, or
# execution"); a document past it cannot have come from the state machine.
MAX_STATE_DOCUMENT_BYTES = 256 * 1024
# An approval stamped further in the future than this is refused: a forged future time
# would otherwise stretch how long it holds.
MAX_CLOCK_SKEW_SECONDS = 60


class Approval(BaseModel):
    """A person's explicit go-ahead for a failover that may lose data.

    ``accepted_lag_seconds`` is the largest replication lag the approver accepts losing, as a
    number; None means the approver was shown an unknown lag and accepted that. Promote
    refuses the approval when it measures more (see :func:`approval_problems`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    approved_by: Identity
    approved_at: Timestamp
    note: FreeText = Field(description="what the approver accepts, and why")
    # Required, so an approval always says what it accepted (the state machine's
    # IsApprovalWellFormed checks it is a number or null, and AcceptApproval forwards it).
    accepted_lag_seconds: Seconds | None = Field(ge=0)


def person_of(identity: str) -> str:
    """Who an identity is, for the four-eyes rule: a casefolded name.

    - an STS assumed-role ARN (or its ``assumed-role/<role>/<session>`` tail, which the CLI
      records) is its *session name*: the role is the hat, the session names the person
      (IAM Identity Center and most SSO tools set it to the user name); the same session
      under two roles is the same person;
    - an IAM user (``user/<path>/<name>``) or federated user is its name;
    - anything else (a name typed into a raw StartExecution input, ``switchyard-monitor``)
      is itself.

    Casefolded and trimmed: IAM names are case-insensitive, and a false "same person" only
    asks for another approver, while a false "different" would let one person approve alone.
    """
    text = identity.strip()
    if text.startswith("arn:"):
        text = text.split(":", 5)[-1]
    kind, _, rest = text.partition("/")
    if kind == "assumed-role" and rest.count("/") >= 1:
        return rest.rsplit("/", 1)[1].casefold()
    if kind in {"user", "federated-user"} and rest:
        return rest.rsplit("/", 1)[-1].casefold()
    return text.casefold()


def same_person(first: str, second: str) -> bool:
    return person_of(first) == person_of(second)


def approver_must_differ(action: Action, *, data_losing: bool) -> bool:
    """Four eyes: a data-losing failover and any failback need someone other than the requester."""
    return action is Action.FAILBACK or (action is Action.FAILOVER and data_losing)


def approval_problems(
    approval: Approval,
    request: RunbookInput,
    *,
    data_losing: bool,
    measured_lag_seconds: float | None,
    now: datetime,
    max_age_seconds: int,
) -> list[str]:
    """Why ``approval`` does not cover this promotion now (empty: it holds).

    The one rule the promote step and the CLI share: the approver is not the requester where
    :func:`approver_must_differ`; the approval is at most ``max_age_seconds`` old (and not
    from the future); for a data-losing promotion, the lag it accepted is at least the lag
    measured now (an approval given for an unknown lag covers only a lag still unknown, and
    one given for a known lag does not cover a lag that became unknown).
    """
    problems = []
    if approver_must_differ(request.action, data_losing=data_losing) and same_person(
        approval.approved_by, request.requested_by
    ):
        problems.append(
            f"the approver {approval.approved_by!r} is the requester {request.requested_by!r}: "
            f"a {'data-losing ' if data_losing else ''}{request.action} needs a second person's approval"
        )
    age = (now - approval.approved_at).total_seconds()  # approved_at is zone-aware (Timestamp)
    if age > max_age_seconds:
        problems.append(f"the approval is {age:.0f}s old, older than the {max_age_seconds}s an approval holds")
    elif age < -MAX_CLOCK_SKEW_SECONDS:
        problems.append(f"the approval is dated {-age:.0f}s in the future (at most {MAX_CLOCK_SKEW_SECONDS}s of skew)")
    if data_losing:
        problems.extend(_lag_problems(approval.accepted_lag_seconds, measured_lag_seconds))
    return problems


def _lag_problems(accepted: float | None, measured: float | None) -> list[str]:
    if measured is None and accepted is not None:
        return [f"the approval accepted a lag of {accepted:.1f}s; the lag is now unknown"]
    if measured is not None and accepted is None:
        return [f"the approval states no accepted lag (given for an unknown lag); the lag is now {measured:.1f}s"]
    if measured is not None and accepted is not None and measured > accepted:
        return [f"the approval accepted a lag of {accepted:.1f}s; the lag is now {measured:.1f}s"]
    return []


class RunbookState(BaseModel):
    """The whole document each step handler receives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request: RunbookInput
    execution: str | None = Field(
        default=None,
        pattern=EXECUTION_ARN_PATTERN,
        description="the Step Functions execution ARN ($$.Execution.Id): the lock's holder",
    )
    epoch: Count | None = Field(default=None, ge=0)
    results: dict[str, StepResult] = Field(default_factory=dict)
    approval: Approval | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_oversized(cls, data: object) -> object:
        # named as a whole-model check names its field (switchyard.config._describe)
        return refuse_oversized(
            data, limit=MAX_STATE_DOCUMENT_BYTES, what="field 'document': the runbook state document"
        )

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
        """Who holds the lock for this run, and the key of its audit record: the execution ARN.

        Not the execution name: names are unique only within one state machine, and an
        operator following the runbooks starts ``failover-<incident>`` in either region, so
        two regions' runs of one incident would share a name and each take "its own" lock.
        The ARN carries the region and the state machine, and a retried or re-driven step of
        the same execution keeps it (its epoch comes back). Without an execution (a step run
        locally, outside a state machine) it is the requester and the incident.
        """
        return self.execution or f"{self.request.requested_by}:{self.request.incident_id}"
