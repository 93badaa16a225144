"""The health decision: should the standby take over from the active region?

A pure function of the observations, the desired state and the monitor's memory from
its previous evaluation; it returns the decision, the new memory and the reasons.

- Quorum: at least ``detection.quorum`` independent sources (Route 53 checks, the
  region's alarms, the controller's probe, the region's replicated heartbeat) must be
  failing, and at least one failing signal must be observed from outside the watched
  region. The probe and the heartbeat are read from the observer's own region, so a
  dark region whose own APIs (and, for us-east-1, Route 53's) are unreadable can
  still be judged without them.
- Missing or stale data (older than ``detection.max_data_age_seconds``) is not an
  outage: it counts neither as failing nor as healthy.
- The probe (one GET of the application's record, ``Names.probe_url``, from the
  observer's region) reports one of three outcomes (``ProbeOutcome``), kept on the
  signal with what it saw (``Signal.probe``) so reasons and pages say which:

  * ``healthy``: the endpoint answered 2xx or 3xx (a redirect is not followed; Route
    53's HTTPS check counts the same codes as healthy, so the two agree on what
    healthy means). Counts as not failing.
  * ``answered-unhealthy``: the endpoint answered 4xx or 5xx (or not HTTP at all). A
    region that answers is reachable and says it is sick: failing, seen from outside.
  * ``unreachable``: no answer from the observer's own network: DNS failure,
    connection refused or reset, timeout, TLS failure (an untrusted, expired or
    misnamed certificate fails users too). Also failing, seen from outside: a dark
    region looks exactly like this (its heartbeat goes stale at the same time, and
    probe + freshness is the quorum that fails a dark us-east-1 over while its
    alarms and Route 53's API are unreadable). The cost, accepted: a broken path
    between the observer and the watched region also makes the probe unreachable
    and the heartbeat stale, and nothing here tells that partition from a dark
    region; safety then rests on the fencing epoch (one active region), not on
    this count.
  * no result (the probe did not run): missing data, like any unreadable source.

  So the probe is one vote of the quorum and must not fail for reasons of its own:
  a probe that can never succeed (it once asked for HTTPS from a load balancer that
  served HTTP only) turns a quorum of 2 into a quorum of 1, and one alarm forced to
  ALARM would then fail a healthy region over. Failing probe outcomes are written
  into the reasons, so a page says whether the endpoint answered or was unreachable.
- Hysteresis: ``fail_after_evaluations`` evaluations with quorum are needed to fail over;
  the count is cleared only after ``recover_after_evaluations`` evaluations without.
- Dwell: the failure must have lasted ``dwell_seconds``.
- Hold-down: no automatic failover within ``hold_down_seconds`` of the last change of the
  desired state.
- Never an automatic failback: the target must not be the fenced region (the one a
  failover moved away from); returning there is planned, by an operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from switchyard.config import Detection, Regions
from switchyard.model import Decision

GLOBAL_OBSERVER = "global"


class SignalSource(StrEnum):
    ROUTE53 = "route53"
    ALARMS = "cloudwatch-alarms"
    PROBE = "probe"
    FRESHNESS = "data-freshness"  # the watched region's heartbeat, as replicated to the observer


HEARTBEAT_STALE_AFTER_EVALUATIONS = 3


class ProbeOutcome(StrEnum):
    """What the controller's HTTP probe saw (the module docstring says how each counts)."""

    HEALTHY = "healthy"  # answered 2xx/3xx
    ANSWERED_UNHEALTHY = "answered-unhealthy"  # answered 4xx/5xx, or not HTTP
    UNREACHABLE = "unreachable"  # no answer: DNS, refused/reset, timeout, TLS


@dataclass(frozen=True)
class ProbeResult:
    """One probe's outcome and what it saw (e.g. ``HTTP 503``, ``timed out after 3.0s``)."""

    outcome: ProbeOutcome
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.outcome}: {self.detail}" if self.detail else str(self.outcome)


@dataclass(frozen=True)
class Signal:
    """One observation of the watched region; ``failing=None`` means no data."""

    name: str
    source: SignalSource
    observed_from: str  # a region, or GLOBAL_OBSERVER for Route 53's checkers
    failing: bool | None
    observed_at: datetime | None
    probe: ProbeResult | None = None  # the probe's outcome (PROBE signals only)


@dataclass(frozen=True)
class DesiredView:
    """What the desired state says, as the decision needs it."""

    active_region: str
    epoch: int
    fenced_region: str | None
    last_change_at: datetime | None


@dataclass(frozen=True)
class MonitorMemory:
    """What one evaluation hands to the next (persisted by the monitor)."""

    watched_region: str | None = None
    watched_epoch: int | None = None
    failing_evaluations: int = 0
    healthy_evaluations: int = 0
    failing_since: datetime | None = None

    def to_item(self) -> dict[str, Any]:
        return {
            "watched_region": self.watched_region,
            "watched_epoch": self.watched_epoch,
            "failing_evaluations": self.failing_evaluations,
            "healthy_evaluations": self.healthy_evaluations,
            "failing_since": self.failing_since.isoformat() if self.failing_since else None,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> MonitorMemory:
        if not item:
            return cls()
        since = item.get("failing_since")
        return cls(
            watched_region=item.get("watched_region"),
            watched_epoch=item.get("watched_epoch"),
            failing_evaluations=int(item.get("failing_evaluations", 0)),
            healthy_evaluations=int(item.get("healthy_evaluations", 0)),
            failing_since=datetime.fromisoformat(since) if since else None,
        )


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    memory: MonitorMemory
    target_region: str | None
    reasons: tuple[str, ...] = field(default_factory=tuple)
    failing_sources: tuple[str, ...] = field(default_factory=tuple)


def heartbeat_signal(
    heartbeat_at: datetime | None, *, now: datetime, detection: Detection, observer_region: str
) -> Signal:
    """Data freshness: the watched region writes a heartbeat every minute into the global
    table; the observer reads its own replica. Stale after three evaluation intervals;
    never seen is missing data, not an outage."""
    if heartbeat_at is None:
        return Signal("heartbeat", SignalSource.FRESHNESS, observer_region, None, None)
    stale_after = HEARTBEAT_STALE_AFTER_EVALUATIONS * detection.evaluation_interval_seconds
    failing = (now - heartbeat_at).total_seconds() > stale_after
    return Signal("heartbeat", SignalSource.FRESHNESS, observer_region, failing, now)


def probe_signal(result: ProbeResult | None, *, now: datetime, observer_region: str) -> Signal:
    """The probe as a signal: answered-unhealthy and unreachable both fail, healthy does not,
    no result is missing data (see the module docstring for why)."""
    if result is None:
        return Signal("probe", SignalSource.PROBE, observer_region, None, None)
    failing = result.outcome is not ProbeOutcome.HEALTHY
    return Signal("probe", SignalSource.PROBE, observer_region, failing, now, probe=result)


def fresh_signals(signals: list[Signal], *, now: datetime, max_age_seconds: int) -> list[Signal]:
    """Signals with data no older than ``max_age_seconds``."""
    max_age = timedelta(seconds=max_age_seconds)
    return [
        signal
        for signal in signals
        if signal.failing is not None and signal.observed_at is not None and now - signal.observed_at <= max_age
    ]


def has_quorum(fresh: list[Signal], *, watched_region: str, quorum: int) -> bool:
    """Enough independent failing sources, one of them seen from outside the region."""
    failing = [signal for signal in fresh if signal.failing]
    sources = {signal.source for signal in failing}
    outside = any(signal.observed_from != watched_region for signal in failing)
    return len(sources) >= quorum and outside


def decide(
    *,
    detection: Detection,
    regions: Regions,
    desired: DesiredView,
    signals: list[Signal],
    memory: MonitorMemory,
    now: datetime,
) -> Evaluation:
    """Evaluate the active region once; see the module docstring for the rules."""
    watched = desired.active_region
    if memory.watched_region != watched or memory.watched_epoch != desired.epoch:
        memory = MonitorMemory(watched_region=watched, watched_epoch=desired.epoch)
    fresh = fresh_signals(signals, now=now, max_age_seconds=detection.max_data_age_seconds)
    failing_sources = tuple(sorted({str(signal.source) for signal in fresh if signal.failing}))
    quorum = has_quorum(fresh, watched_region=watched, quorum=detection.quorum)
    reasons: list[str] = []

    if quorum:
        memory = replace(
            memory,
            failing_evaluations=memory.failing_evaluations + 1,
            healthy_evaluations=0,
            failing_since=memory.failing_since or now,
        )
    elif fresh:
        healthy = memory.healthy_evaluations + 1
        memory = replace(memory, healthy_evaluations=healthy)
        if healthy >= detection.recover_after_evaluations:
            memory = replace(memory, failing_evaluations=0, failing_since=None)
    else:
        reasons.append("no fresh health data: missing data is not an outage")
    reasons.extend(
        f"probe from {signal.observed_from} {signal.probe}" for signal in fresh if signal.failing and signal.probe
    )

    def verdict(decision: Decision, *why: str, target: str | None = None) -> Evaluation:
        return Evaluation(decision, memory, target, (*reasons, *why), failing_sources)

    if not quorum:
        if failing_sources:
            return verdict(
                Decision.DEGRADED, f"failing sources {list(failing_sources)} below quorum {detection.quorum}"
            )
        return verdict(Decision.HEALTHY, f"{watched} shows no failing signal")
    target = regions.other(watched)
    blocked = _automatic_failover_blocked(detection, desired, memory, target, now)
    if blocked:
        return verdict(Decision.DEGRADED, blocked)
    return verdict(Decision.FAIL_OVER, f"{watched} failing with quorum {list(failing_sources)}", target=target)


def _automatic_failover_blocked(
    detection: Detection, desired: DesiredView, memory: MonitorMemory, target: str, now: datetime
) -> str | None:
    """Why an automatic failover must wait or never happen despite a quorum, else None."""
    if memory.failing_evaluations < detection.fail_after_evaluations:
        return f"quorum for {memory.failing_evaluations} of {detection.fail_after_evaluations} evaluations"
    failing_for = (now - memory.failing_since).total_seconds() if memory.failing_since else 0.0
    if failing_for < detection.dwell_seconds:
        return f"failing for {failing_for:.0f}s, dwell is {detection.dwell_seconds}s"
    if desired.last_change_at is not None:
        since_change = (now - desired.last_change_at).total_seconds()
        if since_change < detection.hold_down_seconds:
            return f"hold-down: last failover {since_change:.0f}s ago, hold-down is {detection.hold_down_seconds}s"
    if target == desired.fenced_region:
        return f"{target} was failed away from and is fenced: failback is planned, by an operator"
    return None
