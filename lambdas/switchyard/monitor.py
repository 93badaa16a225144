"""One evaluation of the health monitor in one region (the logic behind
``switchyard.handlers.monitor.handler``).

Each region's monitor watches the OTHER region while that one is active. It gathers
signals (the other region's, and the other region's heartbeat as replicated here) and the
target's own health (this region's alarms and Route 53's verdict on it), runs the pure
decision with its persisted memory, and on FAIL_OVER either starts the runbook in its own
region (automatic mode) with a deterministic execution name and input, so duplicate
deliveries start one run, or notifies a human (manual mode, once per epoch). It starts
nothing while another run holds the lock (including a run that stopped for a human and
kept it). On BOTH_UNHEALTHY (the watched region fails with quorum, and this region, the
target, is failing too) it starts nothing and pages a human once per failure episode
(``both_regions_unhealthy``).

Self-watch: after a failover the old region (the only watcher of the new active region)
is usually dark. So while this region is active and the other region is fenced
(``desired.fenced_region``), this region's monitor watches ITSELF: the same signals minus
the heartbeat (its own), decided by the same rules, so one failing signal must still be
seen from outside (Route 53's verdict). It never starts a runbook (there is no healthy
target: the fenced region returns by a planned failback) and pages a human once per
failure episode when the failure is confirmed (``active_region_unhealthy_no_target``).
While this region is active and the other is not fenced, the other region watches it and
this monitor evaluates nothing.

A failure episode is the memory's ``failing_since`` (cleared only after
``recover_after_evaluations`` evaluations without quorum), so a flapping quorum pages once.

Without a desired state (the item is missing, or this region cannot read it) there is
nothing to evaluate against: it reads nothing else, writes nothing but its heartbeat and
starts nothing, and says why in ``MonitorOutcome.desired_state`` (the handler raises the
alarm).

Cadence: EventBridge invokes the monitor once a minute; with a sub-minute
``detection.evaluation_interval_seconds`` that invocation runs ``60 / interval`` evaluations,
``interval`` apart (``run_evaluations``: slept with ``deps.sleep``, measured with
``deps.clock``), and stops early when the function's remaining time could not fit another
one. Each is a full evaluation with its own trigger identity (``at_offset``: the event's id
and time plus the offset), so duplicate deliveries and late events are judged per
evaluation as before. Every evaluation, in both regions (the active region's monitor
evaluates nothing but still loops), first writes this region's heartbeat
(switchyard.heartbeat), and the loop writes it every ``HEARTBEAT_SECONDS`` while it sleeps
and past the minute until the next invocation has begun, so a live region's heartbeat is at
most ``heartbeat_period_seconds`` old (the RPO gate's margin).

Every trigger (the schedule, an alarm state change) leaves one record in the state table,
``trigger#<app>#<region>#<event id>``, with the event's id and time and what the
evaluation decided, whatever it decided (no-ops included). It is written once: a duplicate
delivery of the same event increments the record's ``deliveries`` and is logged as a
duplicate (it is still evaluated: starting the runbook is idempotent by execution name, and
the schedule's events are evaluated the same way). A late event, one whose time is older
than the last trigger the memory evaluated, is recorded and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from switchyard.adapters.state import MEMORY_VERSION
from switchyard.config import Detection
from switchyard.contract import (
    HEARTBEAT_WRITE_RESERVE_SECONDS,
    MONITOR_EVALUATION_RESERVE_SECONDS,
    MONITOR_SCHEDULE_SECONDS,
)
from switchyard.decision import DesiredView, Evaluation, MonitorMemory, Signal, decide, heartbeat_signal
from switchyard.deps import RunbookDeps
from switchyard.desired_state import DesiredStateUnavailable, read_local_desired
from switchyard.heartbeat import sleep_beating, write_heartbeat
from switchyard.model import Action, Decision, RunbookInput

MONITOR_REQUESTER = "switchyard-monitor"
LAST_TRIGGER_TIME = "last_trigger_time"  # memory field: the newest event time evaluated
# Trigger records carry ``expires_at`` (epoch seconds) for DynamoDB TTL: the schedule alone
# writes two a minute per environment. The table does not enable TTL on it yet.
TRIGGER_RETENTION = timedelta(days=30)
TRIGGER_RECORDED = "recorded"
TRIGGER_DUPLICATE = "duplicate"
TRIGGER_NOT_RECORDED = "not-recorded"
# Pages with no automatic action behind them, each sent once per failure episode; the memory
# field keeps the episode (``failing_since``) last paged for.
BOTH_REGIONS_UNHEALTHY = "both_regions_unhealthy"
ACTIVE_UNHEALTHY_NO_TARGET = "active_region_unhealthy_no_target"
PAGED_EPISODE_FIELDS = {
    BOTH_REGIONS_UNHEALTHY: "paged_both_unhealthy_since",
    ACTIVE_UNHEALTHY_NO_TARGET: "paged_active_unhealthy_since",
}

logger = logging.getLogger("switchyard.monitor")  # a child of the handlers' Powertools logger


@dataclass(frozen=True)
class Trigger:
    """One event the monitor received: its EventBridge id and time, and what it was."""

    event_id: str
    time: datetime
    detail_type: str
    source: str
    alarm_name: str | None = None
    alarm_state: str | None = None

    def as_record(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_time": self.time.isoformat(),
            "detail_type": self.detail_type,
            "source": self.source,
            "alarm_name": self.alarm_name,
            "alarm_state": self.alarm_state,
        }


@dataclass(frozen=True)
class MonitorOutcome:
    decision: Decision | None
    watched_region: str | None
    reasons: list[str] = field(default_factory=list)
    started_execution: str | None = None
    duplicate: bool = False
    notified: bool = False
    desired_state: DesiredStateUnavailable | None = None  # set when there was nothing to evaluate against
    late: bool = False  # the trigger was older than the last one evaluated: nothing evaluated
    trigger_record: str | None = None  # recorded / duplicate / not-recorded (None: no trigger given)
    heartbeat_error: str | None = None  # "<code>: <message>" when this region's heartbeat was not written
    failing_sources: list[str] = field(default_factory=list)  # the fresh failing sources the decision saw
    failing_signals: list[str] = field(default_factory=list)  # ... and the signals (e.g. "alarm:steady-state")
    # hysteresis after this evaluation: consecutive evaluations with quorum, and evaluations
    # without it since the last with it while a failure episode is open (0 when none is)
    failing_evaluations: int = 0
    recovering_evaluations: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": str(self.decision) if self.decision else None,
            "watched_region": self.watched_region,
            "reasons": self.reasons,
            "started_execution": self.started_execution,
            "duplicate": self.duplicate,
            "notified": self.notified,
            "desired_state": self.desired_state.as_dict() if self.desired_state else None,
            "late": self.late,
            "trigger_record": self.trigger_record,
            "heartbeat_error": self.heartbeat_error,
            "failing_sources": self.failing_sources,
            "failing_signals": self.failing_signals,
            "failing_evaluations": self.failing_evaluations,
            "recovering_evaluations": self.recovering_evaluations,
        }


def execution_name(target_region: str, epoch: int) -> str:
    """Deterministic: one automatic failover per (target, epoch) can ever start.

    Unique only within the state machine it starts in (the monitor's own region's); the
    lock's holder is the execution's ARN, which is unique across regions."""
    return f"auto-failover-to-{target_region}-from-epoch-{epoch}"


def automatic_request(watched_region: str, target_region: str, epoch: int) -> RunbookInput:
    """Deterministic input (no timestamps, no evidence) so a duplicate start is identical."""
    return RunbookInput(
        action=Action.FAILOVER,
        target_region=target_region,
        reason=f"automatic failover: {watched_region} failed the health quorum at epoch {epoch}",
        incident_id=f"auto-e{epoch}-{target_region}",
        requested_by=MONITOR_REQUESTER,
    )


def respond_to_trigger(deps: RunbookDeps, trigger: Trigger) -> MonitorOutcome:
    """Write this region's heartbeat, evaluate once for ``trigger``, then record the trigger
    and the outcome. The heartbeat comes first and regardless (as in the reconciler): a slow
    or failing evaluation must neither delay nor suppress it, and a heartbeat that cannot be
    written must not stop the evaluation."""
    heartbeat_error = write_heartbeat(deps)
    outcome = replace(evaluate_once(deps, trigger), heartbeat_error=heartbeat_error)
    return replace(outcome, trigger_record=record_trigger(deps, trigger, outcome))


# -- the cadence: a minute of evaluations in one scheduled invocation ------------------------
def evaluation_offsets(detection: Detection) -> tuple[int, ...]:
    """Seconds after the invocation's start at which its evaluations run: every interval
    within the scheduled minute below 60 s, else the start alone (the schedule itself runs
    every interval)."""
    interval = detection.evaluation_interval_seconds
    if interval >= MONITOR_SCHEDULE_SECONDS:
        return (0,)
    return tuple(range(0, MONITOR_SCHEDULE_SECONDS, interval))


def at_offset(trigger: Trigger, offset_seconds: int) -> Trigger:
    """The trigger of the evaluation ``offset_seconds`` into the invocation: the event's own
    at 0, else its id and time plus the offset. Deterministic, so a duplicate delivery of the
    event repeats the same identities (duplicates) and an older event's stay older (late)."""
    if offset_seconds == 0:
        return trigger
    return replace(
        trigger,
        event_id=f"{trigger.event_id}+{offset_seconds}s",
        time=trigger.time + timedelta(seconds=offset_seconds),
    )


@dataclass(frozen=True)
class EvaluationRun:
    """The evaluations one invocation ran (in order), the slots it skipped because a slow
    evaluation overran them, and why it stopped before the last slot, if it did."""

    outcomes: list[tuple[Trigger, MonitorOutcome]]
    skipped_offsets: list[int] = field(default_factory=list)
    stopped_early: str | None = None
    heartbeat_errors: list[str] = field(default_factory=list)  # beats between evaluations that failed

    def as_dict(self) -> dict[str, Any]:
        """The last evaluation's outcome (the freshest verdict) with what any of them did
        (the first runbook started, whether anyone was notified), and each evaluation."""
        if not self.outcomes:
            summary: dict[str, Any] = MonitorOutcome(None, None).as_dict()
        else:
            summary = self.outcomes[-1][1].as_dict()
        started = [outcome.started_execution for _, outcome in self.outcomes if outcome.started_execution]
        return {
            **summary,
            "started_execution": started[0] if started else None,
            "notified": any(outcome.notified for _, outcome in self.outcomes),
            "evaluations": [
                {"event_id": trigger.event_id, "event_time": trigger.time.isoformat(), **outcome.as_dict()}
                for trigger, outcome in self.outcomes
            ],
            "skipped_offsets": self.skipped_offsets,
            "stopped_early": self.stopped_early,
            "heartbeats_not_written": len(self.heartbeat_errors),
        }


def run_evaluations(
    deps: RunbookDeps,
    trigger: Trigger,
    evaluate: Callable[[Trigger], MonitorOutcome],
    *,
    offsets: tuple[int, ...],
    remaining_seconds: Callable[[], float | None],
    beat_until: float | None = None,
) -> EvaluationRun:
    """Run ``evaluate`` at each offset (seconds after now on ``deps.clock``, slept with
    ``deps.sleep``), each with its own trigger (``at_offset``).

    An evaluation that overran the next slots skips all but the latest of them (back-to-back
    evaluations would count hysteresis without time passing). Before sleeping towards a
    slot the loop stops when ``remaining_seconds()`` (the function's time left; None:
    unbounded) could not fit the wait plus one evaluation's reserve
    (``MONITOR_EVALUATION_RESERVE_SECONDS``): a killed invocation is a Lambda error, retried,
    and its evaluation half done.

    While it sleeps it writes the region's heartbeat every ``HEARTBEAT_SECONDS``
    (switchyard.heartbeat.sleep_beating); with ``beat_until`` (seconds after the start) it
    goes on beating after the last evaluation until then, as long as the invocation has
    ``HEARTBEAT_WRITE_RESERVE_SECONDS`` left, so the next scheduled invocation begins before
    the beats stop."""
    start = deps.clock()
    outcomes: list[tuple[Trigger, MonitorOutcome]] = []
    skipped: list[int] = []
    errors: list[str] = []
    for index, offset in enumerate(offsets):
        if index:
            now = deps.clock()
            following = offsets[index + 1] if index + 1 < len(offsets) else None
            if following is not None and start + timedelta(seconds=following) <= now:
                skipped.append(offset)
                continue
            wait = max(0.0, (start + timedelta(seconds=offset) - now).total_seconds())
            left = remaining_seconds()
            if left is not None and left < wait + MONITOR_EVALUATION_RESERVE_SECONDS:
                stopped = (
                    f"{left:.1f} s left in the invocation: not enough to wait {wait:.1f} s and evaluate "
                    f"(reserve {MONITOR_EVALUATION_RESERVE_SECONDS} s); {len(offsets) - index} of "
                    f"{len(offsets)} evaluations not run"
                )
                return EvaluationRun(outcomes, skipped, stopped, errors)
            if wait > 0:
                errors.extend(sleep_beating(deps, wait))
        slot = at_offset(trigger, offset)
        outcomes.append((slot, evaluate(slot)))
    if beat_until is not None:
        wait = (start + timedelta(seconds=beat_until) - deps.clock()).total_seconds()
        left = remaining_seconds()
        if left is not None:
            wait = min(wait, left - HEARTBEAT_WRITE_RESERVE_SECONDS)
        if wait > 0:
            errors.extend(sleep_beating(deps, wait))
    return EvaluationRun(outcomes, skipped, heartbeat_errors=errors)


def record_trigger(deps: RunbookDeps, trigger: Trigger, outcome: MonitorOutcome) -> str:
    """Best effort: the record must never stop an evaluation that already happened."""
    received = deps.clock()
    record = {
        **trigger.as_record(),
        "region": deps.region,
        "received_at": received.isoformat(),
        "decision": str(outcome.decision) if outcome.decision else None,
        "late": outcome.late,
        "reasons": outcome.reasons,
        "started_execution": outcome.started_execution,
        "notified": outcome.notified,
        "expires_at": int((received + TRIGGER_RETENTION).timestamp()),
    }
    fields = {"event_id": trigger.event_id, "event_time": record["event_time"], "region": deps.region}
    try:
        first = deps.state.record_trigger(
            deps.region, event_id=trigger.event_id, record=record, at=record["received_at"]
        )
    except Exception as exc:  # logged; the evaluation's own effects stand
        logger.exception("monitor trigger not recorded", extra={**fields, "error": f"{type(exc).__name__}: {exc}"})
        return TRIGGER_NOT_RECORDED
    if not first:
        logger.info("monitor trigger delivered again", extra=fields)  # at-least-once delivery: expected, counted
        return TRIGGER_DUPLICATE
    return TRIGGER_RECORDED


def evaluate_once(deps: RunbookDeps, trigger: Trigger | None = None) -> MonitorOutcome:
    config, region = deps.config, deps.region
    desired = read_local_desired(deps)
    if isinstance(desired, DesiredStateUnavailable):
        return MonitorOutcome(None, None, [desired.reason], desired_state=desired)
    other = config.regions.other(region)
    self_watch = desired.active_region == region
    if self_watch and desired.fenced_region != other:
        return MonitorOutcome(None, None, [f"{region} is active; the other region's monitor watches it"])
    now = deps.clock()
    memory_item = deps.state.read_monitor_memory(region) or {}
    last_trigger = _parse_time(str(memory_item.get(LAST_TRIGGER_TIME) or ""))
    if trigger is not None and last_trigger is not None and trigger.time < last_trigger:
        late = (
            f"late event {trigger.event_id}: its time {trigger.time.isoformat()} is older than the last trigger "
            f"evaluated ({last_trigger.isoformat()}); recorded, nothing evaluated or changed"
        )
        return MonitorOutcome(None, desired.active_region, [late], late=True)
    if trigger is not None:
        last_trigger = max(last_trigger, trigger.time) if last_trigger else trigger.time
    memory = MonitorMemory.from_item(memory_item)
    view = DesiredView(
        active_region=desired.active_region,
        epoch=desired.epoch,
        fenced_region=desired.fenced_region,
        last_change_at=_parse_time(desired.updated_at) if desired.epoch > 0 else None,  # epoch 0: the deployment
    )
    signals, target_signals = _gather(deps, desired.active_region, self_watch=self_watch, now=now)
    evaluation = decide(
        detection=config.detection,
        regions=config.regions,
        desired=view,
        signals=signals,
        memory=memory,
        now=now,
        target_signals=target_signals,
    )
    notified_epoch = memory_item.get("notified_epoch")
    outcome = MonitorOutcome(
        evaluation.decision,
        desired.active_region,
        list(evaluation.reasons),
        failing_sources=list(evaluation.failing_sources),
        failing_signals=list(evaluation.failing_signals),
        failing_evaluations=evaluation.memory.failing_evaluations,
        recovering_evaluations=recovering_evaluations(evaluation.memory),
    )
    paged = {kind: memory_item.get(field) for kind, field in PAGED_EPISODE_FIELDS.items()}
    page = _unhealthy_page(evaluation, self_watch=self_watch)
    if page is not None:
        episode = evaluation.memory.failing_since.isoformat() if evaluation.memory.failing_since else None
        if paged[page] != episode:
            _notify_unhealthy(deps, evaluation, page, desired.active_region, desired.epoch)
            outcome = replace(outcome, notified=True)
            paged[page] = episode
    elif evaluation.decision is Decision.FAIL_OVER and evaluation.target_region and not self_watch:
        if config.mode == "automatic":
            outcome = _start_runbook(deps, evaluation, desired.active_region, desired.epoch, outcome)
        elif notified_epoch != desired.epoch:
            _notify_recommendation(deps, evaluation, desired.active_region, desired.epoch)
            outcome = replace(outcome, notified=True)
            notified_epoch = desired.epoch
    # a confirmed failure in self-watch is DEGRADED (nothing to fail over to) but already paged above
    below_quorum = evaluation.decision is Decision.DEGRADED and not (self_watch and evaluation.failure_confirmed)
    degraded = int(memory_item.get("degraded_evaluations", 0)) + 1 if below_quorum else 0
    escalated = bool(memory_item.get("escalated")) and degraded > 0
    if degraded >= config.detection.escalate_degraded_after_evaluations and not escalated:
        _notify_degraded(deps, evaluation, desired.active_region, desired.epoch, degraded)
        outcome = replace(outcome, notified=True)
        escalated = True
    written = deps.state.write_monitor_memory(
        region,
        {
            **evaluation.memory.to_item(),
            "notified_epoch": notified_epoch,
            "degraded_evaluations": degraded,
            "escalated": escalated,
            **{field: paged[kind] for kind, field in PAGED_EPISODE_FIELDS.items()},
            LAST_TRIGGER_TIME: last_trigger.isoformat() if last_trigger else None,
        },
        read_version=int(memory_item.get(MEMORY_VERSION, 0)),
    )
    if not written:
        lost = "a concurrent evaluation updated the monitor's memory first; this evaluation's counts were dropped"
        outcome = replace(outcome, reasons=[*outcome.reasons, lost])
    return outcome


def recovering_evaluations(memory: MonitorMemory) -> int:
    """Evaluations without quorum since the last with it, while a failure episode is open (the
    memory keeps counting them after the episode closed, without end): what recovery needs
    ``recover_after_evaluations`` of."""
    return memory.healthy_evaluations if memory.failing_evaluations > 0 else 0


def _notify_degraded(deps: RunbookDeps, evaluation: Evaluation, watched: str, epoch: int, evaluations: int) -> None:
    """Once per degraded episode: failing signals that never reach a quorum still need a look
    (a broken probe path, a partial outage, or a blind spot in the signals)."""
    deps.notifier.publish(
        deps.region,
        subject=f"Switchyard {deps.config.name}: {watched} degraded for {evaluations} evaluations, no quorum",
        message={
            "kind": "degraded_without_quorum",
            "watched_region": watched,
            "epoch": epoch,
            "evaluations": evaluations,
            "failing_sources": list(evaluation.failing_sources),
            "reasons": list(evaluation.reasons),
            "how": "check the failing sources (runbooks/automatic-failover.md); fail over by hand if it is down",
        },
    )


def _gather(deps: RunbookDeps, watched: str, *, self_watch: bool, now: datetime) -> tuple[list[Signal], list[Signal]]:
    """The watched region's signals and the target's own (none in self-watch: the target
    would be the fenced region, which the decision refuses anyway)."""
    signals = deps.health.observe(watched, observer_region=deps.region)
    if self_watch:  # this region's own heartbeat says nothing about whether it is up
        return signals, []
    heartbeat = deps.state.read_heartbeat(deps.region, of_region=watched)
    at = _parse_time(heartbeat) if heartbeat else None
    signals.append(heartbeat_signal(at, now=now, detection=deps.config.detection, observer_region=deps.region))
    return signals, deps.health.target_signals(deps.region)


def _unhealthy_page(evaluation: Evaluation, *, self_watch: bool) -> str | None:
    """Which page without an automatic action this evaluation calls for, if any."""
    if self_watch:
        return ACTIVE_UNHEALTHY_NO_TARGET if evaluation.failure_confirmed else None
    return BOTH_REGIONS_UNHEALTHY if evaluation.decision is Decision.BOTH_UNHEALTHY else None


UNHEALTHY_PAGES: dict[str, tuple[str, str]] = {
    BOTH_REGIONS_UNHEALTHY: (
        "{watched} and {target} are both unhealthy: no automatic failover",
        "find which region can serve soonest; fail over by hand only into a healthy region "
        "(runbooks/automatic-failover.md, both regions unhealthy)",
    ),
    ACTIVE_UNHEALTHY_NO_TARGET: (
        "active region {watched} is unhealthy and {target} is fenced: nothing to fail over to",
        "repair the active region, or rebuild the fenced one and fail back "
        "(runbooks/automatic-failover.md, active region unhealthy)",
    ),
}


def _notify_unhealthy(deps: RunbookDeps, evaluation: Evaluation, kind: str, watched: str, epoch: int) -> None:
    """Once per failure episode: the watched region failed with quorum and no automatic
    action exists (the target is failing too, or it is the fenced region)."""
    target = deps.config.regions.other(watched)
    subject, how = UNHEALTHY_PAGES[kind]
    deps.notifier.publish(
        deps.region,
        subject=f"Switchyard {deps.config.name}: " + subject.format(watched=watched, target=target),
        message={
            "kind": kind,
            "watched_region": watched,
            "other_region": target,
            "epoch": epoch,
            "failing_since": evaluation.memory.failing_since.isoformat() if evaluation.memory.failing_since else None,
            "failing_sources": list(evaluation.failing_sources),
            "reasons": list(evaluation.reasons),
            "how": how,
        },
    )


def _start_runbook(
    deps: RunbookDeps, evaluation: Evaluation, watched: str, epoch: int, outcome: MonitorOutcome
) -> MonitorOutcome:
    target = evaluation.target_region or deps.config.regions.other(watched)
    name = execution_name(target, epoch)
    lock = deps.state.read_lock(deps.region)
    # the lock's holder is an execution ARN (RunbookState.holder): this run's, if it already started
    if lock is not None and lock.held and lock.holder != deps.names.execution_arn(deps.region, name):
        # a run in progress, or stopped for a human with the lock kept: never pile another on
        reason = f"not starting {name}: {lock.holder} holds the runbook lock at epoch {lock.epoch}"
        return replace(outcome, reasons=[*outcome.reasons, reason])
    request = automatic_request(watched, target, epoch)
    started = deps.runbook_starter.start(deps.region, name=name, runbook_input=request.model_dump(mode="json"))
    return replace(outcome, started_execution=started.execution_arn, duplicate=started.already_existed)


def _notify_recommendation(deps: RunbookDeps, evaluation: Evaluation, watched: str, epoch: int) -> None:
    deps.notifier.publish(
        deps.region,
        subject=f"Switchyard {deps.config.name}: failover to {evaluation.target_region} recommended",
        message={
            "kind": "failover_recommended",
            "mode": deps.config.mode,
            "watched_region": watched,
            "target_region": evaluation.target_region,
            "epoch": epoch,
            "failing_sources": list(evaluation.failing_sources),
            "reasons": list(evaluation.reasons),
            "how": "start the runbook with action=failover (runbooks/manual-failover.md)",
        },
    )


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def trigger_from_event(event_id: str, time: datetime, detail_type: str, source: str, detail: Any) -> Trigger:
    """The trigger an EventBridge event describes (an alarm's name and new state when it is one)."""
    alarm_name = alarm_state = None
    if isinstance(detail, dict):
        alarm_name = detail.get("alarmName")
        state = detail.get("state")
        alarm_state = state.get("value") if isinstance(state, dict) else None
    return Trigger(event_id, time, detail_type, source, alarm_name, alarm_state)
