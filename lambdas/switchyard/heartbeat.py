"""This region's heartbeat (``heartbeat#<app>#<region>``): the other region's data-freshness
signal (``switchyard.decision.heartbeat_signal``).

Two functions write it, each first and regardless of what else they do: the monitor at every
evaluation (so it is at most one evaluation interval old while the region is alive, and
staleness after ``HEARTBEAT_STALE_AFTER_EVALUATIONS`` intervals keeps its meaning at a
sub-minute cadence) and the reconciler once a minute (its failure fails the reconciler, whose
error alarm then says the other region sees this one as stale)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from switchyard.deps import RunbookDeps
from switchyard.retry import error_code


def write_heartbeat(deps: RunbookDeps) -> str | None:
    """This region's heartbeat into its own replica; the error (code and message) if it failed."""
    try:
        deps.state.write_heartbeat(deps.region, at=deps.now_iso())
    except (ClientError, BotoCoreError) as exc:
        return f"{error_code(exc) or type(exc).__name__}: {exc}"
    return None
