"""The health decision: should the standby take over from the active region?

A pure function of the observations, the desired state and the monitor's memory from
its previous evaluation; it returns the decision, the new memory and the reasons.

- Sources (``SignalSource``): Route 53's verdict on the watched region's load balancer
  (observed from outside every region, ``GLOBAL_OBSERVER``; read two ways, see below),
  the watched region's CloudWatch alarms, the controller's probe (from the observer's
  region) and the watched region's heartbeat as replicated to the observer.
- Outside veto: a fresh healthy verdict from Route 53's checkers (a ROUTE53 signal seen
  from ``GLOBAL_OBSERVER``) vetoes failover, whatever else fails: the checkers sit in many
  places outside both regions, so if they reach the region and it answers, what failed is
  the path between the regions (or the observer), not the region. The reasons say so
  ("Route 53's checkers see <region> healthy: ..."); the failure count does not grow.
- Partition-proof quorum: at least ``detection.quorum`` independent sources must be
  failing, at least one failing signal must be observed from outside the watched region,
  and at least one must come from a source a partition between the two regions cannot make
  fail (``PARTITION_INDEPENDENT``: Route 53's verdict, the region's own alarms). The probe
  and the heartbeat travel over the path between the regions, so a partition fails both
  at once: alone they are never a quorum. This removes the cost the decision once
  accepted (a partition looked exactly like a dark region and a healthy primary was
  failed over, two writers for the fencing epoch to sort out): a partition now yields at
  most DEGRADED, and the veto stops it even when the API read of Route 53 is stale.
- Route 53's verdict, two readings (``switchyard.adapters.health``): the API
  (``GetHealthCheckStatus``, control plane in us-east-1) and the sentinel record (DNS, data
  plane, answered from Route 53's edge without us-east-1). How they combine: the veto uses
  any fresh healthy reading; a failing verdict needs a fresh failing reading and no fresh
  healthy one (a disagreement, e.g. a DNS answer cached for up to its TTL, resolves
  towards *not* failing over). With us-east-1 dark the API is missing data and the
  sentinel alone carries the verdict, so a dark us-east-1 still fails over.
- The target must be healthy: before FAIL_OVER, the target region's own signals
  (``target_signals``: its alarms and Route 53's verdict on it) are weighed; any fresh
  failing one means the target is failing too and the decision is BOTH_UNHEALTHY (no
  failover; the monitor pages a human). Missing target data does not block (missing data
  is not an outage, here as everywhere). A standby whose warm minimum is 0 has no healthy
  host, so its ``unhealthy-hosts`` alarm blocks every automatic failover into it: such a
  standby is failed over to by an operator.
- Missing or stale data (older than ``detection.max_data_age_seconds``) is not an
  outage: it counts neither as failing nor as healthy (and a stale healthy verdict vetoes
  nothing).
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
    region looks like this, and so does a partition; which one it is, Route 53's verdict
    tells (failing for a dark region, a veto for a partition), hence the rules above.
  * no result (the probe did not run): missing data, like any unreadable source.

  So the probe is one vote of the quorum and must not fail for reasons of its own:
  a probe that can never succeed (it once asked for HTTPS from a load balancer that
  served HTTP only) turns a quorum of 2 into a quorum of 1, and one alarm forced to
  ALARM would then fail a healthy region over. Failing probe outcomes are written
  into the reasons, so a page says whether the endpoint answered or was unreachable.
- Hysteresis: ``fail_after_evaluations`` evaluations with quorum are needed to fail over;
  the count is cleared only after ``recover_after_evaluations`` evaluations without.
- Dwell: the failure must have lasted ``dwell_seconds``. A failure past hysteresis and
  dwell is *confirmed* (``Evaluation.failure_confirmed``): what the monitor pages on when
  it watches the active region from inside it (self-watch, after a failover), where no
  automatic action exists.
- Hold-down: no automatic failover within ``hold_down_seconds`` of the last change of the
  desired state.
- Never an automatic failback: the target must not be the fenced region (the one a
  failover moved away from); returning there is planned, by an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
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


# Sources a partition between the two regions cannot make fail: Route 53's checkers are
# outside both regions, and a region's alarms are evaluated inside it. The probe and the
# replicated heartbeat cross the path between the regions, so a partition fails them.
PARTITION_INDEPENDENT: frozenset[SignalSource] = frozenset({SignalSource.ROUTE53, SignalSource.ALARMS})

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
    failure_confirmed: bool = False  # quorum held past hysteresis and dwell (hold-down and fencing aside)
    failing_signals: tuple[str, ...] = field(default_factory=tuple)  # names of the fresh failing signals


def heartbeat_signal(
    heartbeat_at: datetime | None, *, now: datetime, detection: Detection, observer_region: str
) -> Signal:
    """Data freshness: the watched region's monitor writes a heartbeat at every evaluation
    (its reconciler once a minute too: switchyard.heartbeat) into the global table; the
    observer reads its own replica. A live region's heartbeat is at most one evaluation
    interval old, so it is stale after ``HEARTBEAT_STALE_AFTER_EVALUATIONS`` intervals
    (30 s at 10 s evaluations): two missed evaluations are tolerated, a third is not. Never
    seen is missing data, not an outage."""
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
    """Enough independent failing sources, one of them seen from outside the region and one
    from a source a partition between the regions cannot cause (``PARTITION_INDEPENDENT``)."""
    failing = [signal for signal in fresh if signal.failing]
    sources = {signal.source for signal in failing}
    outside = any(signal.observed_from != watched_region for signal in failing)
    independent = bool(sources & PARTITION_INDEPENDENT)
    return len(sources) >= quorum and outside and independent


def outside_veto(fresh: list[Signal]) -> list[Signal]:
    """Fresh healthy verdicts of Route 53's checkers (outside every region): any one vetoes."""
    return [
        signal
        for signal in fresh
        if signal.source is SignalSource.ROUTE53 and signal.observed_from == GLOBAL_OBSERVER and signal.failing is False
    ]


def target_failures(target_signals: Sequence[Signal], *, now: datetime, max_age_seconds: int) -> list[Signal]:
    """The target region's fresh failing signals from its own alarms or Route 53's verdict."""
    fresh = fresh_signals(list(target_signals), now=now, max_age_seconds=max_age_seconds)
    return [signal for signal in fresh if signal.failing and signal.source in PARTITION_INDEPENDENT]


def decide(
    *,
    detection: Detection,
    regions: Regions,
    desired: DesiredView,
    signals: list[Signal],
    memory: MonitorMemory,
    now: datetime,
    target_signals: Sequence[Signal] = (),
) -> Evaluation:
    """Evaluate the active region once; see the module docstring for the rules.

    ``signals`` are the watched (active) region's; ``target_signals`` the other region's own
    health (its alarms and Route 53's verdict on it), weighed only before a failover."""
    watched = desired.active_region
    if memory.watched_region != watched or memory.watched_epoch != desired.epoch:
        memory = MonitorMemory(watched_region=watched, watched_epoch=desired.epoch)
    fresh = fresh_signals(signals, now=now, max_age_seconds=detection.max_data_age_seconds)
    failing_sources = tuple(sorted({str(signal.source) for signal in fresh if signal.failing}))
    failing_signals = tuple(sorted({signal.name for signal in fresh if signal.failing}))
    veto = outside_veto(fresh)
    quorum = not veto and has_quorum(fresh, watched_region=watched, quorum=detection.quorum)
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

    def verdict(decision: Decision, *why: str, target: str | None = None, confirmed: bool = False) -> Evaluation:
        return Evaluation(decision, memory, target, (*reasons, *why), failing_sources, confirmed, failing_signals)

    if not quorum:
        if not failing_sources:
            return verdict(Decision.HEALTHY, f"{watched} shows no failing signal")
        return verdict(Decision.DEGRADED, _why_no_quorum(watched, failing_sources, veto, detection.quorum))
    target = regions.other(watched)
    unconfirmed = _failure_unconfirmed(detection, memory, now)
    if unconfirmed:
        return verdict(Decision.DEGRADED, unconfirmed)
    blocked = _automatic_failover_blocked(detection, desired, target, now)
    if blocked:
        return verdict(Decision.DEGRADED, blocked, confirmed=True)
    sick = target_failures(target_signals, now=now, max_age_seconds=detection.max_data_age_seconds)
    if sick:
        return verdict(
            Decision.BOTH_UNHEALTHY,
            f"{watched} failing with quorum {list(failing_sources)}, but the target {target} is failing too: "
            f"{', '.join(signal.name for signal in sick)}; no failover",
            confirmed=True,
        )
    return verdict(
        Decision.FAIL_OVER,
        f"{watched} failing with quorum {list(failing_sources)}",
        target=target,
        confirmed=True,
    )


def _why_no_quorum(watched: str, failing_sources: tuple[str, ...], veto: list[Signal], quorum: int) -> str:
    if veto:
        seen = ", ".join(signal.name for signal in veto)
        return (
            f"Route 53's checkers see {watched} healthy: {seen}; failing sources {list(failing_sources)} "
            "are vetoed (a fault between the regions or of the observer, not of the region)"
        )
    why = f"failing sources {list(failing_sources)} below quorum {quorum}"
    independent = sorted(str(source) for source in PARTITION_INDEPENDENT)
    if not set(failing_sources) & set(independent):
        why += f"; none from {independent}, which a partition between the regions cannot cause"
    return why


def _failure_unconfirmed(detection: Detection, memory: MonitorMemory, now: datetime) -> str | None:
    """Why a quorum is not yet a confirmed failure (hysteresis, dwell), else None."""
    if memory.failing_evaluations < detection.fail_after_evaluations:
        return f"quorum for {memory.failing_evaluations} of {detection.fail_after_evaluations} evaluations"
    failing_for = (now - memory.failing_since).total_seconds() if memory.failing_since else 0.0
    if failing_for < detection.dwell_seconds:
        return f"failing for {failing_for:.0f}s, dwell is {detection.dwell_seconds}s"
    return None


def _automatic_failover_blocked(detection: Detection, desired: DesiredView, target: str, now: datetime) -> str | None:
    """Why a confirmed failure must still not fail over automatically, else None."""
    if desired.last_change_at is not None:
        since_change = (now - desired.last_change_at).total_seconds()
        if since_change < detection.hold_down_seconds:
            return f"hold-down: last failover {since_change:.0f}s ago, hold-down is {detection.hold_down_seconds}s"
    if target == desired.fenced_region:
        return f"{target} was failed away from and is fenced: failback is planned, by an operator"
    return None
