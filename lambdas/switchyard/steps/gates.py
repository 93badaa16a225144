"""The RPO gate shared by preflight (to ask for approval) and promote (to refuse).

What the gate decides on (docs/architecture.md, "The RPO gate's basis"): the most data, in
seconds of writes, that the target can be missing, bounded from two observations.

- The replica's lag metric says how far it had replayed: a value ``lag`` describing the
  moment ``observed_at`` means every write committed before ``observed_at - lag`` is on
  the replica. While the source streams, ``lag`` stays small; once the source is gone it
  rises one second per second (ReplicaLag, AuroraGlobalDBReplicationLag keep growing), but
  ``observed_at - lag`` stays where replay stopped. So the raw metric read minutes into an
  outage says nothing about the loss; the replay position does.
- The source's last sign of life: its heartbeat in the strongly consistent state table
  (written by its monitor every second between evaluations, switchyard.heartbeat). It may
  still have committed writes until its next heartbeat was due, so one heartbeat period
  (``heartbeat_period_seconds``) is added.

Bound = (source last seen + heartbeat period) - (observed_at - lag). While the source is
alive this is at least the lag itself plus the datapoint's delay (its heartbeat is recent,
the datapoint a minute or two old). A datapoint older than
the source's last sign of life makes the bound larger (its age counts in full): the worse
case, not a guess. Unknown lag is unknown (a human decides); without a timestamp or a
heartbeat the raw lag is used, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from switchyard.adapters.database import DatabaseStatus
from switchyard.contract import LAG_EVIDENCE_WAIT_SECONDS
from switchyard.decision import HEARTBEAT_STALE_AFTER_EVALUATIONS
from switchyard.deps import RunbookDeps
from switchyard.heartbeat import heartbeat_period_seconds
from switchyard.model import Action


@dataclass(frozen=True)
class LossBound:
    """The gate's figure and what it was computed from (for ``observed`` and the approval)."""

    seconds: float | None
    reported_lag_seconds: float | None
    lag_observed_at: datetime | None
    source_last_seen: datetime | None

    def as_observed(self) -> dict[str, Any]:
        return {
            "replication_lag_seconds": self.seconds,
            "replica_lag_reported_seconds": self.reported_lag_seconds,
            "replica_lag_observed_at": self.lag_observed_at.isoformat() if self.lag_observed_at else None,
            "source_last_seen": self.source_last_seen.isoformat() if self.source_last_seen else None,
        }


def loss_bound(
    lag_seconds: float | None,
    lag_observed_at: datetime | None,
    source_last_seen: datetime | None,
    *,
    heartbeat_seconds: float,
) -> LossBound:
    """See the module docstring."""
    if lag_seconds is None or lag_observed_at is None or source_last_seen is None:
        return LossBound(lag_seconds, lag_seconds, lag_observed_at, source_last_seen)
    replayed_until = lag_observed_at - timedelta(seconds=lag_seconds)
    bound = (source_last_seen + timedelta(seconds=heartbeat_seconds) - replayed_until).total_seconds()
    return LossBound(round(max(bound, 0.0), 3), lag_seconds, lag_observed_at, source_last_seen)


def target_loss_bound(deps: RunbookDeps, target: DatabaseStatus, source_region: str) -> LossBound:
    """The bound for promoting ``target`` now, with the source's heartbeat as the target
    region's replica of the state table has it (unreadable: the raw lag, as before)."""
    try:
        seen = deps.state.read_heartbeat(target.region, of_region=source_region)
    except Exception:  # noqa: BLE001 - an unreadable heartbeat leaves the raw lag, the old basis
        seen = None
    return loss_bound(
        target.replication_lag_seconds,
        target.replication_lag_observed_at,
        datetime.fromisoformat(seen) if seen else None,
        heartbeat_seconds=heartbeat_period_seconds(deps.config.detection),
    )


def lag_evidence_due(deps: RunbookDeps, bound: LossBound | None, *, action: Action, approved: bool) -> str | None:
    """Why to wait for a fresher lag datapoint rather than ask a human: an automatic failover
    whose bound is over budget only because its newest datapoint is older than the old
    primary's last heartbeat (that age counts in full), while a newer one is still due (for
    ``LAG_EVIDENCE_WAIT_SECONDS`` after the heartbeat). Only once the old primary has gone
    silent (its heartbeat stale): while it still writes them, the newest datapoint always
    trails its last heartbeat and waiting would never end. None: decide with what is known."""
    config = deps.config
    if action is not Action.FAILOVER or config.mode != "automatic" or approved or bound is None:
        return None
    if bound.seconds is None or bound.seconds <= config.rpo_budget_seconds:
        return None
    if bound.lag_observed_at is None or bound.source_last_seen is None:
        return None
    interval = config.detection.evaluation_interval_seconds
    covered_from = bound.source_last_seen + timedelta(seconds=heartbeat_period_seconds(config.detection))
    waited = (deps.clock() - bound.source_last_seen).total_seconds()
    if waited <= HEARTBEAT_STALE_AFTER_EVALUATIONS * interval:
        return None  # the old primary still writes heartbeats: no newer datapoint can ever cover them
    if bound.lag_observed_at >= covered_from or waited >= LAG_EVIDENCE_WAIT_SECONDS:
        return None
    return (
        f"waiting for replication-lag evidence: the bound of {bound.seconds:.1f}s (RPO budget "
        f"{config.rpo_budget_seconds}s) rests on a datapoint for {bound.lag_observed_at.isoformat()}, older than "
        f"the old primary's last heartbeat ({bound.source_last_seen.isoformat()}); a newer one is due "
        f"(at most {LAG_EVIDENCE_WAIT_SECONDS}s after that heartbeat, {waited:.0f}s so far)"
    )


def data_loss_gate(lag_seconds: float | None, budget_seconds: int) -> str | None:
    """Why a data-losing promotion needs a human, or None when the lag is within budget."""
    if lag_seconds is None:
        return f"replication lag is unknown (RPO budget {budget_seconds}s)"
    if lag_seconds > budget_seconds:
        return f"replication lag {lag_seconds:.1f}s is above the RPO budget of {budget_seconds}s"
    return None
