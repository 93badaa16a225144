"""This region's desired state as the monitor, the reconciler and the traffic switch read it.

The item ``desired#<app>`` is seeded by the stacks on first deploy. If it is missing, or
the read fails (AccessDenied, throttling after the retries, a timeout, a malformed item),
a controller must change nothing: guessing "standby" would scale a healthy primary down.
:func:`read_local_desired` therefore returns either the state or a
:class:`DesiredStateUnavailable` saying which of the two happened and why, so that the
caller can stand still and report it (``switchyard.handlers.observability``). Errors that
are not about reading the item (a bug) still raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from switchyard.model import DesiredState
from switchyard.retry import error_code

if TYPE_CHECKING:
    from switchyard.deps import RunbookDeps

Problem = Literal["missing", "unreadable"]
MISSING: Final = "missing"
UNREADABLE: Final = "unreadable"
MALFORMED_ITEM = "MalformedItem"  # our code for an item that does not validate as DesiredState


@dataclass(frozen=True)
class DesiredStateUnavailable:
    """Why this region's replica gave no desired state: the item is missing, or reading it failed."""

    region: str
    table: str
    key: str
    problem: Problem
    error_code: str | None = None  # the AWS error code, the botocore exception, or MalformedItem
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "table": self.table,
            "key": self.key,
            "problem": self.problem,
            "error_code": self.error_code,
            "error": self.error,
        }

    @property
    def reason(self) -> str:
        """One sentence for outcomes and response bodies."""
        where = f"{self.key} in {self.table} ({self.region})"
        if self.problem == MISSING:
            return f"no desired state item {where}: changing nothing"
        return f"desired state item {where} unreadable ({self.error_code}): changing nothing"


def read_local_desired(deps: RunbookDeps, *, best_effort: bool = False) -> DesiredState | DesiredStateUnavailable:
    """This region's replica of the desired state (a strongly consistent read), or why not;
    ``best_effort`` makes one attempt with short timeouts instead of the retry policy."""
    names = deps.names
    try:
        desired = deps.state.read_desired(deps.region, best_effort=best_effort)
    except (ClientError, BotoCoreError, ValidationError) as exc:
        code = MALFORMED_ITEM if isinstance(exc, ValidationError) else error_code(exc) or type(exc).__name__
        return DesiredStateUnavailable(
            deps.region, names.state_table, names.desired_state_key, UNREADABLE, error_code=code, error=str(exc)
        )
    if desired is None:
        return DesiredStateUnavailable(deps.region, names.state_table, names.desired_state_key, MISSING)
    return desired
