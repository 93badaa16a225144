"""The controller's vocabulary: actions, operator input, desired state, findings and
step results. Pydantic models so every event and input is validated at the edge.

Strict at the edge, one definition each (issue 12, a fuzz of the runbook input):

- :data:`Count`: an integer that is an integer, never a bool, a string or a float that
  happens to be whole (``epoch: true``, ``"3"``, ``1.0`` are refused). DynamoDB numbers
  come back as Decimal; the state adapter converts them explicitly
  (``switchyard.adapters.state.from_item``), validation does not guess.
- :data:`Timestamp` / :data:`TimestampText`: ISO 8601 with a date, a time and a zone
  (no bare date, no naive time, no epoch number).
- :data:`Identity`: who asks or approves, ASCII only (IAM's own name characters plus the
  ARN separators), so no look-alike or zero-width character can pass for someone else.
- :data:`FreeText`: words a person wrote (a reason, a note), bounded, without control or
  invisible format characters (no bidi overrides in the audit trail).
- a runbook input larger than :data:`MAX_REQUEST_BYTES` is refused before any field is
  parsed, and a rejection message is cut to :data:`MAX_PROBLEM_CHARS` by :func:`bounded`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    model_validator,
)

from switchyard.config import REGION_PATTERN, EnvironmentConfig

Count = Annotated[int, Strict()]
"""An integer as JSON writes one: ``3``; not ``true``, ``"3"`` or ``3.0``."""

Seconds = Annotated[float, Strict(), Field(allow_inf_nan=False)]
"""A number of seconds: an int or a float, never a bool or a string."""

# ISO 8601 / RFC 3339: a date, a 'T' (or a space), a time and a zone (Z or +hh:mm).
ISO_8601_PATTERN = (  # ASCII digits only: \d in a str pattern is any Unicode digit
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|z|[+-][0-9]{2}:[0-9]{2})$"
)
_ISO_8601 = re.compile(ISO_8601_PATTERN.replace("$", "\\Z"))


def _iso_8601_with_zone(value: object) -> object:
    """A timestamp is a zone-aware datetime or its ISO 8601 text; never a number or a date alone."""
    if isinstance(value, datetime):
        return value  # AwareDatetime refuses a naive one
    if isinstance(value, str) and _ISO_8601.match(value):
        try:
            datetime.fromisoformat(value)  # a real date and time (not 2026-02-30T25:00Z)
        except ValueError:
            pass
        else:
            return value
    raise ValueError("must be an ISO 8601 timestamp with a date, a time and a time zone, e.g. 2026-11-30T19:45:00Z")


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_8601_with_zone)]
TimestampText = Annotated[str, AfterValidator(_iso_8601_with_zone)]
"""The same rule for a timestamp kept as text (the desired state's ``updated_at``)."""

# The characters of IAM user, role and role-session names (``[A-Za-z0-9+=,.@_-]``) and
# the ARN separators ``:`` and ``/`` (``assumed-role/<role>/<session>``), in ASCII only:
# ``\w`` is Unicode in pydantic's patterns, and Cyrillic "\u0430" must not pass for Latin "a".
IDENTITY_PATTERN = r"^[A-Za-z0-9_.@:/+=,-]+$"
Identity = Annotated[str, Field(min_length=1, max_length=128, pattern=IDENTITY_PATTERN)]

# Step Functions execution (and state machine) names: 1-80 characters; AWS refuses
# whitespace, brackets, wildcards, most punctuation and control characters, and
# recommends 0-9, A-Z, a-z, - and _ only so CloudWatch Logs can carry the name
# (StartExecution API reference, ``name``). Every name Switchyard builds keeps to that.
EXECUTION_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,80}$"
INCIDENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"


_EXECUTION_NAME = re.compile(EXECUTION_NAME_PATTERN.replace("$", "\\Z"))


def check_execution_name(name: str) -> str:
    """``name`` when it is a safe execution name (:data:`EXECUTION_NAME_PATTERN`); ValueError otherwise."""
    if not _EXECUTION_NAME.match(name):
        raise ValueError(f"execution name {bounded(repr(name), 100)} must be 1-80 ASCII letters, digits, '-' or '_'")
    return name


RegionCode = Annotated[str, Field(pattern=REGION_PATTERN)]  # ASCII only: "us-east-\u0661" is refused


# Control characters (C0, DEL, C1), invisible format characters (zero-width spaces and
# joiners, bidi overrides), line and paragraph separators, and lone surrogates: they hide,
# reorder or split what a log line or the audit trail shows, or cannot be encoded at all.
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _printable_text(value: str) -> str:
    for index, char in enumerate(value):
        if unicodedata.category(char) in _UNPRINTABLE_CATEGORIES:
            raise ValueError(f"must not contain control or invisible characters (U+{ord(char):04X} at {index})")
    return value


REASON_MAX_LENGTH = 500
FreeText = Annotated[str, Field(min_length=3, max_length=REASON_MAX_LENGTH), AfterValidator(_printable_text)]

# The runbook input is five short fields (reason at most 500 characters, at most 4 bytes
# each in UTF-8): a valid one is under 3 KiB. Anything past 8 KiB is refused before a
# field is parsed, so a megabyte document costs one size check, not a validation.
MAX_REQUEST_BYTES = 8 * 1024
# A rejection message names the bad fields; past this many characters it is cut (it
# goes into logs, a Fail state's cause and a terminal, none of which wants megabytes).
MAX_PROBLEM_CHARS = 1000


def json_size(value: object) -> int:
    """Bytes of ``value`` as UTF-8 JSON (what Step Functions and Lambda count)."""
    # a lone surrogate (valid in a JSON string, not in UTF-8) counts as its replacement
    return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", errors="replace"))


def bounded(text: str, limit: int = MAX_PROBLEM_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters cut)"


def refuse_oversized(value: object, *, limit: int, what: str) -> object:
    """``value`` unchanged when its JSON is at most ``limit`` bytes; ValueError otherwise."""
    size = json_size(value)
    if size > limit:
        raise ValueError(f"{what} is {size} bytes of JSON, more than the {limit} bytes allowed")
    return value


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
    target_region: RegionCode
    reason: FreeText
    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN, description="safe in execution names")
    requested_by: Identity

    @model_validator(mode="before")
    @classmethod
    def _not_oversized(cls, data: object) -> object:
        return refuse_oversized(data, limit=MAX_REQUEST_BYTES, what="the runbook input")

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
    epoch: Count = Field(ge=0)
    fenced_region: str | None = None
    updated_by: str
    reason: str
    updated_at: TimestampText


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
    duration_ms: Count = Field(ge=0)

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
